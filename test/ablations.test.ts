import { describe, it, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { RECORD_EPOCH } from "../lib/experiments/runner";
import { arm, deriveArm, type Arm } from "../lib/experiments/protocol/arms";
import { allOf, anyOf, armResult, compareArms } from "../lib/experiments/protocol/compare";
import type { ProtocolRecord } from "../lib/experiments/protocol/runner";
import { runArmStudy, studyLrs, type ArmStudy } from "../lib/experiments/protocol/study";
import { resolveRun, type RunBase } from "../lib/experiments/protocol/task";
import { identityVerdict, IDENTITY_NOCLIP, squashArm, summarizeSquash, SQUASH_SCALES, type AlphaMode } from "../lib/experiments/squash";
import { alpha0Arm, ALPHA0_SCALES, pickAlpha0Lr, summarizeAlpha0, type Alpha0Scale } from "../lib/experiments/alpha0";
import { GAIN_BIAS_ARMS, GAIN_BIAS_SCALES, runGainBias, summarizeGainBias, tanhEstimatorPrepare, TANH_ESTIMATOR_PREPARE, TANH_ESTIMATOR_SCALE } from "../lib/experiments/gain-bias";
import { captureNorms } from "../lib/hooks/capture";
import { ViT } from "../lib/models/vit";
import type { Squasher } from "../lib/norms/types";
import { Rng } from "../lib/util/rng";
import { assertClose, useEngine, useTempResultsDirs } from "./helpers";

const BASE: RunBase = { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { steps: 100, batchSize: 32 }, data: { trainLimit: 1000, testLimit: 300 } };

/**
 * A fake protocol record: final test accuracy `acc` (%), or diverged at `divergedAt`;
 * validation evals every 20 steps rising linearly from 10 % to acc.
 */
function rec(a: Arm, seed: number, acc: number | undefined, opts: { role?: "tune" | "eval"; lr?: number; axes?: Record<string, string | number>; divergedAt?: number; steps?: number; base?: RunBase; prepared?: Record<string, unknown> } = {}): ProtocolRecord {
  const steps = opts.steps ?? 100;
  const final = acc ?? 10;
  const end = acc === undefined ? (opts.divergedAt ?? 7) : steps;
  const evals = [];
  for (let s = 20; s <= end; s += 20) evals.push({ step: s, loss: 1, acc: (10 + ((final - 10) * s) / steps) / 100 });
  const lr = opts.lr ?? 1e-3;
  const base = opts.base ?? BASE;
  return {
    experiment: "t",
    scale: "smoke",
    run: `${a.id}-${opts.role ?? "eval"}-lr${lr}-s${seed}-${JSON.stringify(opts.axes ?? {})}`,
    seed,
    epoch: RECORD_EPOCH,
    role: opts.role ?? "eval",
    arm: a.id,
    label: a.label,
    axes: { epochs: 1, lr, ...opts.axes },
    config: resolveRun(base, a, seed, { lr, train: { steps } }),
    result: {
      status: acc === undefined ? "diverged" : "completed",
      ...(acc === undefined ? { diverged: { step: end, reason: "test" } } : {}),
      log: [],
      evals,
      ...(acc === undefined ? {} : { test: { loss: 1, acc: acc / 100 } }),
      params: 1,
      msPerStep: 1,
      trainWallTimeSec: 1,
      ...(opts.prepared ? { prepared: opts.prepared } : {}),
    },
    provenance: {} as ProtocolRecord["provenance"],
    wallTimeSec: 1,
  };
}

/** Seed-level noise that differs between arms, so paired differences have a spread. */
const NOISE = [
  [0.15, -0.1, -0.05],
  [-0.05, 0.125, -0.075],
  [0.025, -0.15, 0.125],
];
let noiseIdx = 0;
/** Three seeds of arm `a` around `mean` (%); undefined = every seed diverged. */
function seeds3(a: Arm, mean: number | undefined, opts: Parameters<typeof rec>[3] = {}): ProtocolRecord[] {
  const n = NOISE[noiseIdx++ % NOISE.length]!;
  return [1, 2, 3].map((s, i) => rec(a, s, mean === undefined ? undefined : mean + n[i]!, opts));
}

const dyt = (id: string) => deriveArm("dyt", { id, label: id });

describe("arm results and paired comparisons", () => {
  it("summarizes accuracy, divergence and early accuracy per arm", () => {
    const a = dyt("a");
    const s = armResult([rec(a, 1, 80), rec(a, 2, 82), rec(a, 3, undefined, { divergedAt: 30 })], "a", "shared: test", undefined, 0.4);
    assert.deepEqual(s.accs.slice(0, 2), [80, 82]);
    assert.ok(Number.isNaN(s.accs[2]!));
    assert.equal(s.testAcc.mean, 81);
    assert.equal(s.diverged, 1);
    assert.deepEqual(s.divergedSteps, [30]);
    assert.deepEqual(s.classes, ["learned", "learned", "diverged"]);
    // early step 40: the first eval at >= 40; the diverged run stopped at 30
    assert.equal(s.earlyStep, 40);
    assertClose(s.earlyAccs.slice(0, 2), [10 + 70 * 0.4, 10 + 72 * 0.4]);
    assert.ok(Number.isNaN(s.earlyAccs[2]!));
    assert.equal(s.lr, 1e-3);
    assert.equal(s.lrNote, "shared: test");
  });

  const res = (id: string, mean: number | undefined) => armResult(seeds3(dyt(id), mean), id, "tuned");

  it("separates clear differences from seed noise and never rests a verdict on a diverged or stuck arm", () => {
    const hi = res("hi", 85);
    const lo = res("lo", 80);
    const near = res("near", 85.1);
    assert.equal(compareArms(hi, lo, "beats").outcome, "supported");
    assert.equal(compareArms(lo, hi, "beats").outcome, "not supported");
    assert.equal(compareArms(lo, hi, "worse").outcome, "supported");
    assert.equal(compareArms(hi, near, "matches").outcome, "supported");
    // 0.1 point apart: no evidence that hi beats near
    assert.notEqual(compareArms(hi, near, "beats").outcome, "supported");
    const dead = res("dead", undefined);
    const c = compareArms(lo, dead, "beats");
    assert.equal(c.outcome, "not testable");
    assert.match(c.reason, /dead: of 3 seeds 3 diverged/);
    const stuck = res("stuck", 10.5);
    assert.equal(compareArms(hi, stuck, "beats").outcome, "not testable");
    assert.match(compareArms(hi, stuck, "beats").reason, /3 did not learn/);
    // one seed against three: one pair, no noise estimate
    const one = armResult([rec(dyt("one"), 1, 84)], "one");
    assert.equal(compareArms(one, lo, "beats").outcome, "not testable");
    assert.match(compareArms(one, lo, "beats").reason, /1 paired seed/);
    assert.match(compareArms(hi, lo, "beats").lrPolicy, /hi at lr 0.001 \(tuned\), lo at lr 0.001 \(tuned\)/);
  });

  it("combines parts: allOf needs every part, anyOf one; an untestable part makes allOf untestable", () => {
    const hi = res("hi", 85);
    const lo = res("lo", 80);
    const same = res("same", 85.05);
    const sup = compareArms(hi, lo, "beats");
    const refuted = compareArms(same, hi, "beats");
    assert.equal(refuted.outcome, "not supported");
    assert.equal(allOf([sup, sup]).outcome, "supported");
    assert.equal(allOf([sup, refuted]).outcome, "not supported");
    assert.equal(anyOf([sup, refuted]).outcome, "supported");
    assert.equal(anyOf([refuted, refuted]).outcome, "not supported");
    const nt = compareArms(hi, res("dead", undefined), "beats");
    assert.equal(allOf([sup, nt]).outcome, "not testable");
    assert.equal(allOf([]).outcome, "not testable");
    // The combined evidence is what the claims table corrects (Holm): largest p for, Bonferroni p against.
    const v = allOf([sup, refuted]);
    assert.equal(v.evidence!.pFor, Math.max(sup.evidence!.pFor, refuted.evidence!.pFor));
    assert.equal(v.evidence!.pAgainst, Math.min(1, 2 * Math.min(sup.evidence!.pAgainst, refuted.evidence!.pAgainst)));
  });
});

describe("arm studies: lr policy", () => {
  it("picks each arm's lr on the tuning runs, and names the arm whose lr another takes", () => {
    const A = dyt("A");
    const B = dyt("B");
    const C = dyt("C");
    const study: ArmStudy = { experiment: "t", base: BASE, arms: [A, B, C], epochs: 1, seeds: [1, 2, 3], extraSeeds: [], lr: { kind: "tuned", tuning: { lrs: [1e-3, 2e-3], seed: 101 } }, lrFrom: { C: { arm: "A", why: "descriptive" } } };
    const tune = [rec(A, 101, 70, { role: "tune", lr: 1e-3 }), rec(A, 101, 80, { role: "tune", lr: 2e-3 }), rec(B, 101, 75, { role: "tune", lr: 1e-3 }), rec(B, 101, 12, { role: "tune", lr: 2e-3 })];
    // evaluation runs never enter the pick
    const evals = [rec(B, 1, 99, { lr: 2e-3 })];
    const { lrs, picks } = studyLrs(study, [...tune, ...evals]);
    assert.equal(lrs.A!.lr, 2e-3);
    assert.equal(lrs.B!.lr, 1e-3);
    assert.equal(lrs.C!.lr, 2e-3);
    assert.match(lrs.C!.note, /A's tuned lr: descriptive/);
    assert.equal(picks.length, 2);
    const shared = studyLrs({ ...study, lr: { kind: "shared", lr: 3e-3, why: "cost" } }, []);
    assert.deepEqual(shared.lrs.B, { lr: 3e-3, note: "shared: cost" });
  });

  it("rejects a tuning seed that is an evaluation seed, and duplicate arms", async () => {
    const A = dyt("A");
    const study: ArmStudy = { experiment: "t", base: BASE, arms: [A], epochs: 1, seeds: [1, 101], extraSeeds: [], lr: { kind: "tuned", tuning: { lrs: [1e-3], seed: 101 } } };
    await assert.rejects(runArmStudy({ scale: "smoke", verbose: false }, study), /tuning seed 101 is also an evaluation seed/);
    await assert.rejects(runArmStudy({ scale: "smoke", verbose: false }, { ...study, seeds: [1], arms: [A, A] }), /two arms share the id "A"/);
  });
});

describe("squash verdicts", () => {
  const grid = (acc: Partial<Record<string, number | undefined>>, noclip: number | undefined) => [
    ...Object.entries(acc).flatMap(([k, m]) => {
      const [sq, mode] = k.split(":") as [Squasher, AlphaMode];
      return seeds3(squashArm(sq, mode), m);
    }),
    ...seeds3(IDENTITY_NOCLIP, noclip),
  ];
  const scale = { ...SQUASH_SCALES.full, lr: { kind: "shared" as const, lr: 1e-3, why: "test" } };

  it("supports the ordering, identity divergence (no clipping) and removing-alpha only when the paired data show them", () => {
    const s = summarizeSquash("full", grid({ "tanh:learned": 85, "hardtanh:learned": 83, "sigmoid:learned": 80, "identity:learned": 70, "tanh:fixed1": 82, "hardtanh:fixed1": 80, "sigmoid:fixed1": 77 }, undefined), scale);
    assert.equal(s.ordering.outcome, "supported");
    assert.equal(s.ordering.parts.length, 2);
    assert.equal(s.identity.outcome, "supported");
    assert.equal(s.removeAlpha.outcome, "supported");
    assert.equal(s.removeAlpha.parts.length, 3);
    assert.equal(s.scaleAlone.outcome, "supported");
    // every comparison states its lr policy
    for (const c of s.comparisons) assert.match(c.lrPolicy, /lr 0.001 \(shared: test\)/);
  });

  it("rejects an ordering that is reversed, removing-alpha within noise, and identity that trains", () => {
    const s = summarizeSquash("full", grid({ "tanh:learned": 83, "hardtanh:learned": 85, "sigmoid:learned": 80, "identity:learned": 84, "tanh:fixed1": 83.1, "hardtanh:fixed1": 80, "sigmoid:fixed1": 77 }, 84), scale);
    assert.equal(s.ordering.outcome, "not supported");
    assert.equal(s.identity.outcome, "not supported");
    assert.equal(s.removeAlpha.outcome, "not supported", "tanh without α is not worse");
    assert.equal(s.scaleAlone.outcome, "not supported");
  });

  it("identity: not testable with clipping or when not run; inconclusive when the seeds disagree", () => {
    const div = armResult(seeds3(IDENTITY_NOCLIP, undefined), IDENTITY_NOCLIP.id, "t");
    assert.equal(identityVerdict(div, 0).outcome, "supported");
    const clipped = identityVerdict(div, 1.0);
    assert.equal(clipped.outcome, "not testable");
    assert.match(clipped.reason, /clips gradients \(global norm 1\).*testable only without clipping/);
    assert.equal(identityVerdict(undefined, 0).outcome, "not testable");
    const mixed = armResult([rec(IDENTITY_NOCLIP, 1, undefined), rec(IDENTITY_NOCLIP, 2, 80), rec(IDENTITY_NOCLIP, 3, undefined)], IDENTITY_NOCLIP.id);
    assert.equal(identityVerdict(mixed, 0).outcome, "inconclusive");
    // The registered arm really turns clipping off, and the summary reads the clip from its records.
    assert.equal(resolveRun(SQUASH_SCALES.full.base, IDENTITY_NOCLIP, 1).train.clipNorm, 0);
    const withClip = deriveArm("dyt", { id: IDENTITY_NOCLIP.id, label: "identity clipped", normOptions: { squash: "identity" } });
    const s = summarizeSquash("smoke", seeds3(withClip, undefined), { ...SQUASH_SCALES.smoke, arms: [withClip] });
    assert.equal(s.identity.outcome, "not testable");
  });

  it("comparisons of arms not run at a scale are not testable, not silently dropped", () => {
    const s = summarizeSquash("quick", grid({ "tanh:learned": 85, "hardtanh:learned": 83 }, undefined), { ...SQUASH_SCALES.quick, lr: scale.lr });
    assert.equal(s.ordering.parts.length, 1, "hardtanh vs sigmoid needs sigmoid");
    assert.equal(s.removeAlpha.outcome, "not testable");
    assert.equal(s.scaleAlone.outcome, "not testable");
  });
});

describe("gain-bias verdicts", () => {
  const A = (id: string) => GAIN_BIAS_ARMS.find((a) => a.id === id)!;
  const scale = { ...GAIN_BIAS_SCALES.full, lr: { kind: "shared" as const, lr: 1e-3, why: "test" } };
  const runs = (estimator: number) => [
    ...seeds3(A("dyt"), 85),
    ...seeds3(A("dyt-no-beta"), 85.1),
    ...seeds3(A("dyt-no-gamma"), 80),
    ...seeds3(A("dyt-no-gamma-beta"), 79),
    ...seeds3(A("layernorm"), 86),
    ...seeds3(A("ln-no-beta"), 86),
    ...seeds3(A("ln-no-gamma"), 86),
    ...seeds3(A("ln-no-gamma-beta"), 86),
    ...seeds3(A("tanh-estimator"), estimator, { prepared: { layers: { "blocks.0.norm1": { alpha: 0.01, gamma: 0.5, beta: 0.5 } } } }),
    ...seeds3(A("dyt-calibrated-fixed"), 85),
  ];

  it("computes each part's contribution from paired runs", () => {
    const s = summarizeGainBias("full", runs(60), scale);
    assert.equal(s.dytGamma.outcome, "supported");
    assert.equal(s.dytBeta.outcome, "not supported");
    assert.equal(s.ln.outcome, "not supported");
    assert.equal(s.ln.parts.length, 3);
    assert.equal(s.tanhEstimator.outcome, "supported", "a tanh-estimator that learned can be compared");
    assert.equal(s.calibrated.outcome, "not supported");
  });

  it("the tanh-estimator row is not testable, never supported, when the estimator did not learn", () => {
    const s = summarizeGainBias("full", runs(10.2), scale);
    assert.equal(s.tanhEstimator.outcome, "not testable");
    assert.match(s.tanhEstimator.reason, /tanh-estimator \(fixed\): of 3 seeds 0 diverged, 3 did not learn/);
    assert.match(s.tanhEstimator.reason, /frozen at mean slope γ·α = 0.0050/);
    assert.equal(s.tanhEstimator.evidence, undefined, "outside the Holm family");
    // the other rows are unchanged
    assert.equal(s.dytGamma.outcome, "supported");
  });
});

describe("alpha0 verdicts", () => {
  const cfg: Alpha0Scale = { ...ALPHA0_SCALES.full, sizes: [{ name: "w32", model: { dim: 16 } }, { name: "w64", model: { dim: 16 } }], alpha0s: [0.5, 2], lrs: [1e-3, 8e-3], tuningSeed: 101, seeds: [1, 2, 3], earlyFrac: 0.2 };
  const gridCell = (size: string, lr: number, a: number, acc: number | undefined) => rec(alpha0Arm(a), 101, acc, { role: "tune", lr, axes: { size, alpha0: a }, divergedAt: 5 });
  const evalCell = (size: string, lr: number, a: number, mean: number | undefined) => seeds3(alpha0Arm(a), mean, { lr, axes: { size, alpha0: a }, divergedAt: 5 });
  const grid = [
    gridCell("w32", 1e-3, 0.5, 80), gridCell("w32", 1e-3, 2, 80.1),
    gridCell("w32", 8e-3, 0.5, 86), gridCell("w32", 8e-3, 2, undefined),
    gridCell("w64", 1e-3, 0.5, 84), gridCell("w64", 1e-3, 2, 78),
    gridCell("w64", 8e-3, 0.5, 70), gridCell("w64", 8e-3, 2, 70),
  ];

  it("picks each width's lr on the grid (diverged = chance), marks diverged cells, and judges insensitivity on the evaluation seeds", () => {
    // w32: lr 8e-3 scores (86 + 10)/2 = 48 < lr 1e-3's 80.05
    assert.equal(pickAlpha0Lr(grid, "w32", cfg.lrs, cfg.alpha0s).bestLr, 1e-3);
    // Evaluation runs never enter the lr choice.
    assert.equal(pickAlpha0Lr([...grid, ...evalCell("w32", 8e-3, 2, 99)], "w32", cfg.lrs, cfg.alpha0s).bestLr, 1e-3);
    const evals = [...evalCell("w32", 1e-3, 0.5, 80), ...evalCell("w32", 1e-3, 2, 80.1), ...evalCell("w64", 1e-3, 0.5, 84), ...evalCell("w64", 1e-3, 2, 78)];
    const s = summarizeAlpha0("full", [...grid, ...evals], cfg);
    const w32 = s.bySize.find((b) => b.size === "w32")!;
    const w64 = s.bySize.find((b) => b.size === "w64")!;
    assert.deepEqual(w32.classes, [["learned", "learned"], ["learned", "diverged"]]);
    assert.ok(Number.isNaN(w32.valAcc[1]![1]!));
    assert.equal(w64.bestLr, 1e-3);
    assert.equal(w64.reference, 0.5);
    assert.equal(w32.reference, 2, "80.1 vs 80 on the grid");
    // w32 is flat at its lr, w64 is not (6 points): claim 7 not supported overall
    assert.equal(w32.matches[0]!.outcome, "supported");
    assert.equal(w64.matches[0]!.outcome, "not supported");
    assert.equal(s.insensitive.outcome, "not supported");
    assert.equal(s.insensitive.parts.length, 2);
    // 7-width tests an LLM claim: never testable on the ViT
    assert.equal(s.width.outcome, "not testable");
    assert.match(s.width.reason, /about LLMs.*the language-model table is experiment lm-alpha0/);
    assert.match(s.width.statement, /w32 2 \(lr 0.001\), w64 0.5 \(lr 0.001\)/);

    const flat = summarizeAlpha0("full", [...grid, ...evals.filter((r) => r.axes.size !== "w64" || r.axes.alpha0 !== 2), ...evalCell("w64", 1e-3, 2, 84.05)], cfg);
    assert.equal(flat.insensitive.outcome, "supported");
    assert.ok(flat.insensitive.evidence, "a supported row carries paired evidence for the table's Holm correction");
  });

  it("an alpha0 that diverges at the picked lr refutes insensitivity; the early pair comes from the grid", () => {
    const evals = [...evalCell("w32", 1e-3, 0.5, 80), ...evalCell("w32", 1e-3, 2, undefined), ...evalCell("w64", 1e-3, 0.5, 84), ...evalCell("w64", 1e-3, 2, 84)];
    const s = summarizeAlpha0("full", [...grid, ...evals], cfg);
    assert.equal(s.insensitive.outcome, "not supported");
    assert.match(s.insensitive.reason, /w32 at lr 0.001: DyT α₀ 2: 3\/3 diverged/);
    // w64's grid: α₀ 0.5 reaches 84 and α₀ 2 78 at lr 1e-3; linear curves make 0.5 the fast one
    assert.deepEqual(s.bySize.find((b) => b.size === "w64")!.earlyPair, [0.5, 2]);
    assert.ok(["supported", "not supported", "inconclusive", "not testable"].includes(s.early.outcome));
  });
});

describe("gain-bias calibration (tanh-estimator) on a real model", () => {
  before(() => useEngine("cpu"));

  it("sets alpha = 0.01/sigma per layer in forward order, freezes alpha/gamma/beta, and reproduces 0.5(tanh(0.01(x-mu)/sigma)+1)", () => {
    const v = GAIN_BIAS_ARMS.find((x) => x.id === "tanh-estimator")!;
    const model = new ViT({ dim: 16, depth: 1, heads: 2, patchSize: 7, norm: "dyt", normOptions: v.normOptions, seed: 3 });
    const rng = new Rng(1);
    const x = tf.tensor4d(Float32Array.from({ length: 8 * 28 * 28 }, () => rng.normal()), [8, 28, 28, 1]);
    try {
      const before = tf.memory().numTensors;
      const out = tanhEstimatorPrepare(model, x) as { layers: Record<string, { alpha: number; inputStd: number; inputMean: number }> };
      assert.equal(tf.memory().numTensors, before, "calibration leaks no tensors");
      const caps = captureNorms(model, x, { maxRows: 64 });
      assert.equal(Object.keys(out.layers).length, model.norms().length);
      for (const c of caps) {
        const l = out.layers[c.layer]!;
        // After calibrating every layer, the statistics it saw are still the inputs' (later layers do not feed earlier ones).
        assertClose([c.inputStd], [l.inputStd], 1e-4, 1e-7, `${c.layer} input std`);
        assertClose([l.alpha], [TANH_ESTIMATOR_SCALE / l.inputStd], 1e-6, 0, `${c.layer} alpha`);
        const want = Array.from(c.input, (xi) => 0.5 * (Math.tanh((TANH_ESTIMATOR_SCALE * (xi - l.inputMean)) / l.inputStd) + 1));
        assertClose(c.output, want, 1e-4, 1e-6, `${c.layer} output`);
      }
      for (const n of model.norms()) for (const p of n.params) assert.equal(p.variable.trainable, false, `${p.name} must be frozen`);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe("arm studies end to end (tiny)", () => {
  before(() => useEngine("cpu"));
  useTempResultsDirs("ablations-");

  it("trains each arm x seed once through runJobs, caches by resolved config, and records a diverged run with its step", async () => {
    const base: RunBase = { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { batchSize: 16, evalLimit: 50 }, data: { trainLimit: 96, testLimit: 50 } };
    // A loss cap below ln 10 stops the run at its first step: recorded as diverged, not thrown.
    const boom = deriveArm("dyt", { id: "boom", label: "boom", train: { divergenceFactor: 0.5 } });
    const study: ArmStudy = { experiment: "study-test", base, arms: [arm("dyt"), boom], epochs: 1, seeds: [1], extraSeeds: [], lr: { kind: "shared", lr: 1e-3, why: "test" } };
    const ctx = { scale: "smoke" as const, verbose: false };
    const a = await runArmStudy(ctx, study);
    assert.equal(a.records.length, 2);
    assert.equal(a.records[0]!.result.status, "completed");
    assert.ok(a.records[0]!.result.test && a.records[0]!.result.finalAlpha);
    assert.equal(a.records[0]!.config.train.steps, 6, "1 epoch of 96 images at batch 16");
    assert.equal(a.records[1]!.result.status, "diverged");
    assert.equal(typeof a.records[1]!.result.diverged!.step, "number");
    const b = await runArmStudy(ctx, study);
    assert.equal(b.records[0]!.provenance.startedAt, a.records[0]!.provenance.startedAt, "second call loads the saved record");
    // A changed default (here the budget) is a different resolved config: re-run, never reused.
    const c = await runArmStudy(ctx, { ...study, arms: [arm("dyt")], epochs: 2 });
    assert.notEqual(c.records[0]!.provenance.startedAt, a.records[0]!.provenance.startedAt);
  });

  it("gain-bias smoke runs its named calibration steps in worker processes", async () => {
    const { records, summary } = await runGainBias({ scale: "smoke", verbose: false, workers: 2 });
    const est = records.filter((r) => r.arm === "tanh-estimator");
    assert.equal(est.length, GAIN_BIAS_SCALES.smoke.seeds.length);
    for (const r of est) {
      assert.equal(r.config.prepare, TANH_ESTIMATOR_PREPARE);
      assert.ok(r.result.prepared, "the calibration ran and was recorded");
    }
    assert.equal(summary.arms.length, GAIN_BIAS_SCALES.smoke.arms.length);
    assert.ok(["supported", "not supported", "inconclusive", "not testable"].includes(summary.tanhEstimator.outcome));
  });
});
