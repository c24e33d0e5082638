/**
 * Reviewer study (issue 6): stability with depth. The same small-width ViT at
 * depths from shallow to deep, with LN and DyT in pre- and post-norm blocks
 * and the norm-free methods (ReZero, SkipInit, Fixup, σ-Reparam, NF-style),
 * one recipe for every arm (lr 8e-3, warmup + cosine, grad clip 1): a
 * stability study at a common lr, not a per-arm tuned comparison. Each run
 * logs every step's loss and gradient norm, and the registered
 * activation-stats hook probes a fixed validation batch (per-block max |h|
 * and RMS of the residual stream, mean attention entropy). Every run gets
 * the one classification (diverged / did not learn / learned); a cell
 * (arm, depth) is broken when any seed did not learn.
 */
import { detectSpikes } from "../../analysis/spikes";
import { gatherImages } from "../../data/dataset";
import { activationStatsHook, activationTraces } from "../../hooks/activations";
import { Rng } from "../../util/rng";
import type { Scale } from "../scale";
import { saveSummary, type ExperimentContext } from "../runner";
import { armJob, armOrPlacement, describeBase, epochSchedule, type ArmJobSpec } from "../protocol/jobs";
import { allLearned, armSeeds, conjunction, everyCell, keepsUp, type ArmComparison, type ArmSeeds } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type ProtocolRecord } from "../protocol/runner";
import { fashionSplits, registerHook, type RunBase } from "../protocol/task";
import type { Outcome, PairedEvidence } from "../protocol/verdict";

export const DEPTH_STABILITY = "depth-stability";

/** Arms (registry ids; "<arm>-post" derived): LN and DyT pre- and post-norm, then the norm-free methods. */
export const DEPTH_ARM_IDS = ["layernorm", "dyt", "layernorm-post", "dyt-post", "rezero", "skipinit", "fixup", "sigma-reparam", "nf"];
/** Arms without any norm: the ones the claim expects to break first. */
export const NORM_FREE_DEPTH_ARMS = ["rezero", "skipinit", "fixup", "sigma-reparam", "nf"];
/** The LN / DyT pairs of the claim's part (a), per placement. */
export const DEPTH_PAIRS: readonly { placement: string; ln: string; dyt: string }[] = [
  { placement: "pre", ln: "layernorm", dyt: "dyt" },
  { placement: "post", ln: "layernorm-post", dyt: "dyt-post" },
];

/** The fixed probe batch of the activation-stats hook: `n` validation images picked by `seed`, probed every `every` steps. */
export interface ActivationProbeConfig {
  n: number;
  seed: number;
  every: number;
}

export interface DepthStabilityScale {
  base: RunBase;
  arms: string[];
  depths: number[];
  epochs: number;
  seeds: number[];
  probe: ActivationProbeConfig;
}

/**
 * The activation-stats hook under a name that carries its probe (so the probe
 * is part of every run's resolved config), registered for worker processes.
 */
export function probeHookName(p: ActivationProbeConfig): string {
  const name = `activation-stats-n${p.n}-s${p.seed}-e${p.every}`;
  registerHook(name, (r) => {
    const d = fashionSplits(r.data.trainLimit, r.data.testLimit);
    const pick = new Rng(p.seed).permutation(d.val.n).slice(0, Math.min(p.n, d.val.n));
    return activationStatsHook({ images: gatherImages(d.val, pick), shape: [pick.length, d.val.height, d.val.width, d.val.channels], every: p.every, lastStep: r.train.steps - 1 });
  });
  return name;
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

/*
 * lr 8e-3 for every arm: in the old per-method lr tuning (ViT width 32,
 * depth 3, 400 steps, seed 101, final validation accuracy; results/norm-free/
 * full/tune-*.json, record epoch 1) every method was within ~8 points of its
 * own best at 8e-3 (LN 78.9, DyT 75.5, Fixup 78.8, SkipInit 73.0,
 * σ-Reparam 70.5), while 4e-3 left DyT and σ-Reparam 12-15 points below theirs.
 * full: width 32, depths 4/12/24, 0.5 epoch of the first 20,000 training
 * images (157 steps at batch 64; the old budget was 150), 9 arms x 3 seeds = 81 runs.
 */
export const DEPTH_STABILITY_SCALES: Record<Scale, DepthStabilityScale> = {
  smoke: {
    base: { model: { dim: 32, heads: 2, patchSize: 7 }, train: { ...TRAIN, batchSize: 32, lr: 8e-3, evalLimit: 128 }, data: { trainLimit: 500, testLimit: 250 } },
    arms: DEPTH_ARM_IDS,
    depths: [2, 4],
    epochs: 0.4,
    seeds: [1],
    probe: { n: 16, seed: 7, every: 3 },
  },
  quick: {
    base: { model: { dim: 32, heads: 4, patchSize: 7 }, train: { ...TRAIN, lr: 8e-3, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 1000 } },
    arms: DEPTH_ARM_IDS,
    depths: [4, 12],
    epochs: 0.3,
    seeds: [1, 2],
    probe: { n: 32, seed: 7, every: 10 },
  },
  full: {
    base: { model: { dim: 32, heads: 4, patchSize: 7 }, train: { ...TRAIN, lr: 8e-3, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arms: DEPTH_ARM_IDS,
    depths: [4, 12, 24],
    epochs: 0.5,
    seeds: [1, 2, 3],
    probe: { n: 32, seed: 7, every: 10 },
  },
};
// Worker processes load this module through the registry: the scales' hooks exist there by name.
for (const s of Object.values(DEPTH_STABILITY_SCALES)) probeHookName(s.probe);

export interface DepthCell {
  arm: string;
  label: string;
  depth: number;
  runs: ArmSeeds;
  /** Runs the trainer stopped on a blow-up, with the step. */
  divergences: { seed: number; step: number | null; reason: string }[];
  diverged: number;
  /** Runs that finished below the learned threshold (e.g. stuck at chance). */
  didNotLearn: number;
  /** Some seed diverged or did not learn. */
  broken: boolean;
  /** Loss-spike events summed over seeds (baselines.md rule on per-step losses). */
  spikes: number;
  /** Largest gradient norm (before clipping) over seeds and steps. */
  maxGradNorm: number;
  /** Largest max |h| of the residual stream over seeds, probed steps and blocks. */
  maxAct: number;
  /** Mean over seeds of the mean-over-blocks attention entropy (nats) at each run's last probe. */
  finalEntropy: number;
  /** Per probed step: mean over seeds of the max-over-blocks |h|. */
  actTrace: { step: number; maxAct: number }[];
}

export interface DepthComparison extends ArmComparison {
  cell: string;
  placement: string;
  depth: number;
}

export interface DepthStabilitySummary {
  experiment: string;
  scale: Scale;
  setup: string;
  arms: string[];
  depths: number[];
  cells: DepthCell[];
  /** Expected (arm, depth) cells with no runs, or fewer seeds than planned. */
  missing: string[];
  /** Per arm: the shallowest depth whose cell is broken (null: none). */
  firstBroken: Record<string, number | null>;
  /** Part (a): DyT keeps up with LN per (placement, depth). */
  comparisons: DepthComparison[];
  keepsUp: { outcome: Outcome; reason: string };
  /** Part (b): the norm-free methods break first. */
  breakOrder: { outcome: Outcome; reason: string };
  evidence?: PairedEvidence;
  verdict: Outcome;
  reason: string;
  statement: string;
}

export async function runDepthStability(ctx: ExperimentContext, override: Partial<DepthStabilityScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: DepthStabilitySummary }> {
  const s: DepthStabilityScale = { ...DEPTH_STABILITY_SCALES[ctx.scale], ...override };
  const arms = s.arms.map((id) => armOrPlacement(id));
  for (const d of s.depths) if (!Number.isInteger(d) || d < 1) throw new Error(`${DEPTH_STABILITY}: depths must be positive integers, got ${d}`);
  const seeds = ctx.seeds ?? s.seeds;
  const base: RunBase = { ...s.base, train: { ...s.base.train, ...epochSchedule(s.epochs, s.base, { logEvery: 1 }) }, hooks: [probeHookName(s.probe)] };
  const spec: ArmJobSpec = { experiment: DEPTH_STABILITY, scale: ctx.scale, base };
  // Seeds outermost: an interrupted full run still has every (arm, depth) cell for the first seeds.
  const jobs = seeds.flatMap((seed) => s.depths.flatMap((depth) => arms.map((a) => armJob(spec, a, seed, { run: `${a.id}-d${depth}-s${seed}`, role: "eval", axes: { depth }, model: { depth } }))));
  const records = await runJobs(jobs, ctx);
  const summary = summarizeDepthStability(records, { ...s, seeds }, ctx.scale, rules);
  saveSummary(DEPTH_STABILITY, ctx.scale, summary);
  return { records, summary };
}

const finiteMax = (xs: number[]) => xs.reduce((m, x) => (Number.isFinite(x) ? Math.max(m, x) : m), -Infinity);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function depthCell(rs: readonly ProtocolRecord[], depth: number, rules: ProtocolRules = RULES): DepthCell {
  const runs = armSeeds(rs, rules);
  const sorted = rs.slice().sort((a, b) => a.seed - b.seed);
  const traces = sorted.map((r) => activationTraces(r.result.log));
  const ents = traces.flatMap((t) => t.slice(-1)).map((p) => mean(p.attnEntropy)).filter(Number.isFinite);
  const steps = [...new Set(traces.flatMap((t) => t.map((p) => p.step)))].sort((a, b) => a - b);
  return {
    arm: runs.arm,
    label: runs.label,
    depth,
    runs,
    divergences: sorted.filter((r) => r.result.status === "diverged").map((r) => ({ seed: r.seed, step: r.result.diverged?.step ?? null, reason: r.result.diverged?.reason ?? "diverged" })),
    diverged: runs.classes.filter((c) => c === "diverged").length,
    didNotLearn: runs.classes.filter((c) => c === "did not learn").length,
    broken: !allLearned(runs),
    spikes: sorted.reduce((a, r) => a + detectSpikes(r.result.log.map((l) => l.loss).filter(Number.isFinite)).count, 0),
    maxGradNorm: finiteMax(sorted.flatMap((r) => r.result.log.map((l) => l.gradNorm))),
    maxAct: finiteMax(traces.flatMap((t) => t.flatMap((p) => p.actMax))),
    finalEntropy: ents.length ? mean(ents) : NaN,
    actTrace: steps.map((step) => {
      const ys = traces.flatMap((t) => t.filter((p) => p.step === step)).map((p) => finiteMax(p.actMax)).filter(Number.isFinite);
      return { step, maxAct: ys.length ? mean(ys) : NaN };
    }),
  };
}

/** The per-(arm, depth) cells, missing cells and the verdict, from the records alone. */
export function summarizeDepthStability(records: readonly ProtocolRecord[], s: Pick<DepthStabilityScale, "arms" | "depths" | "seeds" | "base" | "epochs">, scale: Scale, rules: ProtocolRules = RULES): DepthStabilitySummary {
  const cells: DepthCell[] = [];
  const missing: string[] = [];
  for (const id of s.arms)
    for (const depth of s.depths) {
      const rs = records.filter((r) => r.arm === id && r.axes.depth === depth);
      const label = armOrPlacement(id).label;
      if (rs.length < s.seeds.length) missing.push(rs.length === 0 ? `${label} d${depth}: no runs` : `${label} d${depth}: ${rs.length}/${s.seeds.length} seeds`);
      if (rs.length) cells.push(depthCell(rs, depth, rules));
    }
  const at = (id: string, depth: number) => cells.find((c) => c.arm === id && c.depth === depth);
  const firstBroken: Record<string, number | null> = {};
  for (const id of s.arms.filter((a) => cells.some((c) => c.arm === a))) firstBroken[id] = s.depths.find((d) => at(id, d)?.broken) ?? null;
  const comparisons: DepthComparison[] = DEPTH_PAIRS.flatMap(({ placement, ln, dyt }) =>
    s.depths.flatMap((depth) => {
      const l = at(ln, depth);
      const d = at(dyt, depth);
      return l && d ? [{ ...keepsUp(d.runs, l.runs, rules), cell: `${placement} d${depth}`, placement, depth }] : [];
    }),
  );
  const a = everyCell(comparisons, rules);
  const b = breakOrder(firstBroken, s.depths);
  const { outcome, reason } = conjunction([
    { name: "(a) DyT keeps up with LN", outcome: a.outcome, reason: a.reason },
    { name: "(b) norm-free methods break first", outcome: b.outcome, reason: b.reason },
  ]);
  // The row's paired evidence is part (a)'s, and stands for the claim only when part (b) holds.
  const evidence = b.outcome === "supported" ? a.evidence : undefined;
  const labels = (id: string) => cells.find((c) => c.arm === id)?.label ?? id;
  const brokenFacts = Object.entries(firstBroken).map(([id, d]) => `${labels(id)} ${d === null ? "never" : `d${d}`}`).join(", ");
  const missingNote = missing.length ? ` Missing: ${missing.join("; ")}.` : "";
  const setup = `${describeBase(s.base, s.epochs)}; depths ${s.depths.join("/")}; lr ${s.base.train.lr} for every arm; ${s.seeds.length} seed(s)`;
  const statement = `${outcome}: ${reason}. First broken depth (some seed diverged or did not learn): ${brokenFacts || "none"}.${missingNote}`;
  return { experiment: DEPTH_STABILITY, scale, setup, arms: s.arms, depths: s.depths, cells, missing, firstBroken, comparisons, keepsUp: { outcome: a.outcome, reason: a.reason }, breakOrder: b, ...(evidence ? { evidence } : {}), verdict: outcome, reason, statement };
}

/**
 * Part (b), "the norm-free methods break first as depth grows", from each
 * arm's first broken depth (never = beyond every tested depth):
 *  - not testable without DyT pre-norm, a norm-free arm, or two depths, and
 *    when neither DyT nor any norm-free arm broke (the depths do not reach
 *    where anything breaks);
 *  - supported when some norm-free arm broke and every norm-free arm broke
 *    no deeper than DyT pre-norm;
 *  - not supported otherwise (a norm-free arm outlasted DyT).
 */
export function breakOrder(firstBroken: Record<string, number | null>, depths: readonly number[]): { outcome: Outcome; reason: string } {
  const nf = NORM_FREE_DEPTH_ARMS.filter((a) => a in firstBroken);
  if (!("dyt" in firstBroken) || !nf.length || depths.length < 2) return { outcome: "not testable", reason: !("dyt" in firstBroken) ? "DyT pre-norm was not run" : !nf.length ? "no norm-free arm was run" : "one depth cannot show an order" };
  const depthOf = (a: string) => firstBroken[a] ?? Infinity;
  const dyt = depthOf("dyt");
  const when = (d: number | null | undefined) => (d === null || d === undefined || d === Infinity ? "never broke" : `first broke at d${d}`);
  const say = (a: string) => `${a} (${when(firstBroken[a])})`;
  const broken = nf.filter((a) => firstBroken[a] !== null);
  if (!broken.length && dyt === Infinity) return { outcome: "not testable", reason: `no arm broke at any tested depth (up to d${Math.max(...depths)}): the depths do not reach where methods break` };
  const late = nf.filter((a) => depthOf(a) > dyt);
  if (broken.length && !late.length) return { outcome: "supported", reason: `every norm-free arm broke no deeper than DyT pre-norm (DyT ${when(dyt)}; ${nf.map(say).join(", ")})` };
  return { outcome: "not supported", reason: `${late.map(say).join(", ")} outlasted DyT pre-norm (${when(dyt)})` };
}
