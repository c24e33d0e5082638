/**
 * Reviewer study: learning-rate sensitivity and training stability of LN vs
 * DyT (and optionally any norm-free method) on the same ViT. An lr grid
 * base * 2^k, the same warmup/cosine schedule for every arm, loss logged at
 * every step, then (lib/analysis): the divergence rule, LR-sensitivity
 * metrics (Wortsman et al. 2023 style), the loss-spike rule and the max
 * gradient norm.
 */
import { chanceLoss } from "../analysis/divergence";
import { lrSensitivity, summarizeRun, type LrRun, type LrSensitivity } from "../analysis/lrsens";
import { detectSpikes } from "../analysis/spikes";
import type { ViTConfig } from "../models/vit";
import type { TrainConfig } from "../train/trainer";
import { assertVariant, NORM_FREE_VARIANTS, variantOf, variantRunConfig, vitRunSetup } from "./norm-free";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { runVitFashionOne, type VitFashionConfig, type VitRunResult } from "./protocol/legacy";
import { VIT_SMALL } from "./sizes";

export const LR_STABILITY = "lr-stability";

export interface LrStabilityConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  /** Variant ids of the norm-free experiment (layernorm, dyt, fixup, ...). */
  variants: string[];
  baseLr: number;
  /** Grid exponents k: lr = baseLr * 2^k. */
  exponents: number[];
  seeds: number[];
  trainLimit: number;
  testLimit: number;
}

export const LR_STABILITY_SCALES: Record<Scale, LrStabilityConfig> = {
  smoke: {
    model: { ...VIT_SMALL },
    train: { steps: 10, batchSize: 32, warmupSteps: 2, evalEvery: 10, evalLimit: 128, logEvery: 1, checkpointEvery: 0 },
    variants: ["layernorm", "dyt"],
    baseLr: 1e-3,
    exponents: [-1, 0, 4],
    seeds: [1],
    trainLimit: 1000,
    testLimit: 250,
  },
  quick: {
    model: { dim: 32, depth: 2, heads: 4, patchSize: 7 },
    train: { steps: 200, batchSize: 64, warmupSteps: 20, evalEvery: 100, evalLimit: 1000, logEvery: 1, checkpointEvery: 100 },
    variants: ["layernorm", "dyt"],
    baseLr: 1e-3,
    exponents: [-2, -1, 0, 1, 2, 3, 4],
    seeds: [1],
    trainLimit: 0,
    testLimit: 1000,
  },
  // full: the norm-free experiment's ViT (width 32, 3 blocks), 300 steps, lr
  // 5e-4 .. 0.128 (nine points, up into divergence) x 3 seeds.
  full: {
    model: { dim: 32, depth: 3, heads: 4, patchSize: 7 },
    train: { steps: 300, batchSize: 64, warmupSteps: 30, evalEvery: 150, evalLimit: 1000, logEvery: 1, checkpointEvery: 150 },
    variants: ["layernorm", "dyt"],
    baseLr: 1e-3,
    exponents: [-1, 0, 1, 2, 3, 4, 5, 6, 7],
    seeds: [1, 2, 3],
    trainLimit: 0,
    testLimit: 2000,
  },
};

export interface LrRunSummary {
  variant: string;
  lr: number;
  seed: number;
  status: string;
  /** Tail-mean training loss (divergence rule). */
  finalLoss: number;
  diverged: boolean;
  spikes: number;
  maxSpikeRatio: number;
  maxGradNorm: number;
  testAcc?: number;
}

export interface LrVariantSummary {
  variant: string;
  label: string;
  sensitivity: LrSensitivity;
  spikes: number;
  runs: number;
}

export interface LrStabilitySummary {
  experiment: string;
  scale: Scale;
  /** The model and budget the verdict holds for (lr is the swept variable). */
  setup: string;
  runs: LrRunSummary[];
  byVariant: LrVariantSummary[];
  verdict: string;
  statement: string;
}

export async function runLrStability(
  ctx: ExperimentContext,
  override: Partial<LrStabilityConfig> = {},
): Promise<{ records: RunRecord<VitFashionConfig, VitRunResult>[]; summary: LrStabilitySummary }> {
  const cfg: LrStabilityConfig = { ...LR_STABILITY_SCALES[ctx.scale], ...override };
  cfg.variants.forEach(assertVariant);
  if (!(cfg.baseLr > 0)) throw new Error(`lr-stability: baseLr must be > 0, got ${cfg.baseLr}`);
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<VitFashionConfig, VitRunResult>[] = [];
  for (const seed of seeds)
    for (const k of cfg.exponents)
      for (const id of cfg.variants) {
        const v = assertVariant(id);
        const lr = cfg.baseLr * 2 ** k;
        const run = `${id}-lr${lr.toExponential(2)}-s${seed}`;
        const runCfg = variantRunConfig(cfg, v, seed, lr);
        records.push(await cachedRun(LR_STABILITY, ctx, run, seed, runCfg, (dir) => runVitFashionOne(runCfg, v.norm, seed, dir, `${LR_STABILITY}/${ctx.scale}/${run}`)));
      }
  const summary = summarizeLrStability(ctx.scale, records);
  saveSummary(LR_STABILITY, ctx.scale, summary);
  return { records, summary };
}

export function summarizeLrStability(scale: Scale, records: RunRecord<VitFashionConfig, VitRunResult>[]): LrStabilitySummary {
  const l0 = chanceLoss(records[0]?.config.model.numClasses ?? 10);
  const runs: LrRunSummary[] = records.map((r) => {
    const losses = r.result.log.map((l) => l.loss);
    // The trainer stops a run on blow-up; the divergence rule then sees its last (non-finite or huge) loss.
    const s: LrRun = summarizeRun(r.config.train.lr!, losses, l0, {}, r.seed);
    const spikes = detectSpikes(losses.filter(Number.isFinite));
    return {
      variant: variantOf(r),
      lr: r.config.train.lr!,
      seed: r.seed,
      status: r.result.status,
      finalLoss: s.loss,
      diverged: s.diverged || r.result.status === "diverged",
      spikes: spikes.count,
      maxSpikeRatio: spikes.events.reduce((m, e) => Math.max(m, e.peakRatio), 0),
      maxGradNorm: r.result.log.reduce((m, l) => (Number.isFinite(l.gradNorm) ? Math.max(m, l.gradNorm) : m), 0),
      testAcc: r.result.test?.acc,
    };
  });
  const ids = [...new Set(runs.map((r) => r.variant))];
  const byVariant: LrVariantSummary[] = ids.map((id) => {
    const rs = runs.filter((r) => r.variant === id);
    return {
      variant: id,
      label: NORM_FREE_VARIANTS[id]?.label ?? id,
      sensitivity: lrSensitivity(rs.map((r) => ({ lr: r.lr, loss: r.finalLoss, diverged: r.diverged, seed: r.seed })), l0),
      spikes: rs.reduce((a, r) => a + r.spikes, 0),
      runs: rs.length,
    };
  });
  return { experiment: LR_STABILITY, scale, setup: vitRunSetup(records[0]?.config).replace(/, lr [^)]*\)/, ")"), runs, byVariant, ...lrVerdict(byVariant) };
}

/** Largest grid lr whose mean (capped) final loss is below 0.9 l0: where the model still learns. */
function learningEdge(b: LrVariantSummary): number | undefined {
  return b.sensitivity.grid.filter((g) => g.loss < 0.9 * b.sensitivity.l0).at(-1)?.lr;
}

/**
 * Reviewer question: is DyT as robust to the learning rate as LN? Supported
 * when DyT's largest stable lr is at least LN's AND its widest near-optimal
 * lr interval is no narrower than LN's by more than one grid step (2x).
 */
export function lrVerdict(byVariant: LrVariantSummary[]): { verdict: string; statement: string } {
  const ln = byVariant.find((b) => b.variant === "layernorm");
  const dy = byVariant.find((b) => b.variant === "dyt");
  if (!ln || !dy) return { verdict: "not testable at this scale", statement: "LayerNorm or DyT runs are missing." };
  const points = dy.sensitivity.grid.length;
  const fmt = (b: LrVariantSummary) =>
    `${b.label}: best lr ${b.sensitivity.lrStar.toExponential(1)} (loss ${b.sensitivity.lStar.toFixed(3)}), max stable lr ${b.sensitivity.maxStableLr?.toExponential(1) ?? "none"}, ` +
    `widest near-optimal interval ${b.sensitivity.widest.decades.toFixed(2)} decades, sens ${b.sensitivity.sens.toFixed(3)}, ${b.spikes} loss spikes in ${b.runs} runs, ` +
    // The divergence rule only flags loss >= l0; a run stuck just under chance is "stable" by it, so say where learning stops.
    `largest lr still learning (mean loss < 0.9 ln 10) ${learningEdge(b)?.toExponential(1) ?? "none"}`;
  const facts = `${fmt(ln)}; ${fmt(dy)}`;
  if (points < 4) return { verdict: "not testable at this scale", statement: `${points} lr points are too few to measure a stable range. ${facts}.` };
  // A grid that never reaches divergence and whose best lr sits at its top edge has not
  // bracketed either arm's stable range: "max stable lr" is then just the grid's end.
  const top = Math.max(...dy.sensitivity.grid.map((g) => g.lr), ...ln.sensitivity.grid.map((g) => g.lr));
  const noDivergence = [ln, dy].every((b) => b.sensitivity.grid.every((g) => g.diverged === 0));
  if (noDivergence && (ln.sensitivity.lrStar === top || dy.sensitivity.lrStar === top))
    return { verdict: "not testable at this scale", statement: `No run diverged and the best lr is the grid's largest, so the grid does not bracket the stable range (extend it upward). ${facts}.` };
  const stable = (dy.sensitivity.maxStableLr ?? 0) >= (ln.sensitivity.maxStableLr ?? 0);
  const wide = dy.sensitivity.widest.decades >= ln.sensitivity.widest.decades - Math.log10(2) - 1e-9;
  const verdict = stable && wide ? "supported" : "not supported";
  const why = stable && wide ? "DyT tolerates the same lr range as LN" : [!stable ? "DyT diverges at a lower lr than LN" : "", !wide ? "DyT's near-optimal lr interval is narrower than LN's by more than one grid step" : ""].filter(Boolean).join("; ");
  return { verdict, statement: `${why}. ${facts}.` };
}
