/**
 * Hand-built arms and verdict checks for the pretrain + probe experiments
 * (lib/experiments/protocol/pretrain-probe.ts: dna-hyena, wav2vec-ln-dyt):
 * their claims are decided by the same rules, so the same checks serve both;
 * each test file adds its own metric and the cases only it has.
 */
import * as assert from "node:assert/strict";
import type { PairVerdict, PretrainProbeRuns } from "../lib/experiments/protocol/pretrain-probe";

export const L = "learned" as const;

/** Per-seed classes a test overrides: of the pretraining runs (`classes`) or of their probes. */
export type FakeClasses = Partial<Pick<PretrainProbeRuns, "classes" | "probeClasses">>;

/**
 * An arm of `probeAccs.length` seeds with the experiment's own per-seed `metrics`, every run and probe
 * learned unless `o` says otherwise; `acc` and `probeInitAcc` (%) fill the fields the verdicts do not read.
 */
export function fakePretrainProbeArm<M extends object>(label: string, metrics: M, probeAccs: number[], o: FakeClasses & { acc: number; probeInitAcc: number }): PretrainProbeRuns & M {
  return {
    arm: label.toLowerCase(),
    label,
    lr: 1e-3,
    seeds: probeAccs.map((_, i) => i + 1),
    accs: probeAccs.map(() => o.acc),
    classes: o.classes ?? probeAccs.map(() => L),
    ...metrics,
    probeAccs,
    probeInitAccs: probeAccs.map(() => o.probeInitAcc),
    probeClasses: o.probeClasses ?? probeAccs.map(() => L),
    lateGain: [],
    plateaued: [],
    lrNote: "tuned",
    params: 1,
    msPerStep: 1,
  };
}

/**
 * The probe claim's four outcomes against an LN arm whose probes score `lnProbe` (%), per seed: DyT within
 * ~0.1 point on every seed (supported), ~10 points below (not supported), scattered around it (inconclusive),
 * and one DyT probe at `belowThreshold` % classed "did not learn" (not testable; the reason says that 2 of 3
 * reached `thresholdPct` %, the learned threshold for the task's classes).
 */
export function assertProbeOutcomes<T>(
  compare: (a: T, b: T) => PairVerdict,
  arm: (label: string, probeAccs: number[], o?: FakeClasses) => T,
  lnProbe: readonly [number, number, number],
  o: { belowThreshold: number; thresholdPct: number },
): void {
  const ln = arm("LayerNorm", [...lnProbe]);
  const dyt = (shift: readonly number[], c: FakeClasses = {}) => arm("DyT", lnProbe.map((x, i) => x + shift[i]!), c);
  assert.equal(compare(dyt([0.1, 0.1, -0.1]), ln).outcome, "supported");
  assert.equal(compare(dyt([-10, -9.9, -9.1]), ln).outcome, "not supported");
  assert.equal(compare(dyt([-2, 1.1, -4.6]), ln).outcome, "inconclusive");
  const chance = compare(dyt([o.belowThreshold - lnProbe[0], -0.9, 0.4], { probeClasses: ["did not learn", L, L] }), ln);
  assert.equal(chance.outcome, "not testable");
  assert.match(chance.reason, new RegExp(`DyT probe: 2 of 3 seed\\(s\\) at or above ${o.thresholdPct} %`));
}

/** A pretraining run that did not learn on one seed makes `compare` not testable, never not supported, and the reason counts it. */
export function assertNotTestableWhenStuck<T>(compare: (a: T, b: T) => PairVerdict, stuck: T, ln: T): void {
  const c = compare(stuck, ln);
  assert.equal(c.outcome, "not testable");
  assert.match(c.reason, /DyT: of 3 seeds 0 diverged, 1 did not learn/);
}
