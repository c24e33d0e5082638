import type { ViTConfig } from "../models/vit";
import type { NormKind, NormOptions } from "../norms/types";
import type { TrainConfig } from "../train/trainer";
import { withinNoise, type NoiseTest } from "../analysis/stats";
import { cachedRun, type ExperimentContext, type RunRecord } from "./runner";
import { meanStd } from "./stats-lite";
import { runVitFashionOne, type PrepareModel, type VitRunResult } from "./protocol/legacy";

/**
 * Grids of ViT variants on Fashion-MNIST (the ablation studies): a list of
 * named variants (norm kind + options + model/train overrides) x seeds, each
 * run cached by its full config, then summarised per variant.
 */

/** One cell of a grid. Everything that changes the run must be in here (it is part of the cache key). */
export interface GridVariant {
  /** File-safe id, e.g. "tanh-learn"; run files are `<name>-s<seed>.json`. */
  name: string;
  /** Human label for tables and figures. */
  label: string;
  norm: NormKind;
  normOptions?: NormOptions;
  model?: Partial<ViTConfig>;
  train?: Partial<TrainConfig>;
  /** Name of a setup step applied to the built model before training (see GridPrepare). */
  prepare?: string;
  /** Grid coordinates (alpha0, lr, size, squash, ...) for grouping in summaries and figures. */
  tags?: Record<string, string | number | boolean>;
}

/** Shared settings of a grid at one scale. */
export interface GridBase {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig> & { steps: number };
  /** Training examples used (0 = all 55,000). */
  trainLimit: number;
  /** Test examples for the final accuracy (0 = all 10,000). */
  testLimit: number;
}

/** The resolved config of one run: what is cached and saved with the result. */
export interface GridRunConfig {
  variant: string;
  label: string;
  norm: NormKind;
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig> & { steps: number };
  trainLimit: number;
  testLimit: number;
  prepare?: string;
  tags: Record<string, string | number | boolean>;
}

/** A grid run's result: the ViT run result (with finalAlpha and prepared). */
export type GridRunResult = VitRunResult;

export type GridRecord = RunRecord<GridRunConfig, GridRunResult>;

/**
 * A setup step run on the freshly built model before training, with a
 * calibration batch of training images ([B, H, W, C]); it returns what it set
 * (saved with the run). Used for non-learned schemes whose constants come from
 * data statistics (the tanh-estimator).
 */
export type GridPrepare = PrepareModel;

export function resolveRunConfig(base: GridBase, v: GridVariant): GridRunConfig {
  if (!/^[A-Za-z0-9._-]+$/.test(v.name)) throw new Error(`grid variant name "${v.name}" must be file-safe (letters, digits, . _ -)`);
  const model: Partial<ViTConfig> = { ...base.model, ...v.model, normOptions: { ...base.model.normOptions, ...v.model?.normOptions, ...v.normOptions } };
  const cfg: GridRunConfig = {
    variant: v.name,
    label: v.label,
    norm: v.norm,
    model,
    train: { ...base.train, ...v.train },
    trainLimit: base.trainLimit,
    testLimit: base.testLimit,
    tags: v.tags ?? {},
  };
  if (v.prepare) cfg.prepare = v.prepare;
  return cfg;
}

/** Train one variant with one seed and evaluate it on the test split. Diverged runs return status "diverged" with the step. */
export async function runGridOne(cfg: GridRunConfig, seed: number, runDir: string | undefined, label: string, prepares: Record<string, GridPrepare> = {}): Promise<GridRunResult> {
  const prep = cfg.prepare ? prepares[cfg.prepare] : undefined;
  if (cfg.prepare && !prep) throw new Error(`grid variant "${cfg.variant}" needs prepare step "${cfg.prepare}", but only [${Object.keys(prepares).join(", ")}] were given`);
  return runVitFashionOne(cfg, cfg.norm, seed, runDir, label, prep);
}

/** Run every variant x seed (seed-major, so a partial grid already has every variant once), each cached. */
export async function runGrid(
  experiment: string,
  ctx: ExperimentContext,
  base: GridBase,
  variants: GridVariant[],
  seeds: number[],
  prepares: Record<string, GridPrepare> = {},
): Promise<GridRecord[]> {
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new Error(`grid ${experiment}: duplicate variant name "${v.name}"`);
    names.add(v.name);
  }
  if (seeds.length === 0) throw new Error(`grid ${experiment}: no seeds given; pass at least one (e.g. --seed 1)`);
  const out: GridRecord[] = [];
  for (const seed of seeds) {
    for (const v of variants) {
      const cfg = resolveRunConfig(base, v);
      const run = `${v.name}-s${seed}`;
      out.push(await cachedRun(experiment, ctx, run, seed, cfg, (dir) => runGridOne(cfg, seed, dir, `${experiment}/${ctx.scale}/${run}`, prepares)));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Summaries

export interface GridVariantSummary {
  name: string;
  label: string;
  tags: Record<string, string | number | boolean>;
  seeds: number[];
  /** Test accuracy (%) of each completed run, in seed order. */
  accs: number[];
  testAcc: { mean: number; std: number; n: number };
  /** Validation accuracy (%) at the early checkpoint (first eval at or after earlyFrac of the steps), completed runs or not. */
  earlyAcc: { mean: number; std: number; n: number; step: number };
  /** The per-run values behind earlyAcc, in seed order. */
  earlyAccs: number[];
  /** Steps until validation accuracy first reached `reachAcc` % (mean over runs that reached it). */
  stepsToReach: { target: number; mean: number; reached: number; n: number };
  diverged: number;
  divergedSteps: number[];
  /** Mean final alpha over layers and seeds (learnable-alpha DyT only). */
  meanFinalAlpha?: number;
  wallTimeSec: number;
}

export interface SummaryOptions {
  /** Fraction of the steps at which "early" accuracy is read (default 0.25). */
  earlyFrac?: number;
  /** Validation accuracy (%) for the steps-to-reach metric (default 70). */
  reachAcc?: number;
}

/** Val accuracy (%) at the first eval at or after `step`; undefined when the run stopped before. */
export function accAtStep(r: GridRecord, step: number): number | undefined {
  const e = r.result.evals.find((p) => p.step >= step);
  return e ? 100 * e.acc : undefined;
}

/** First eval step at which val accuracy (%) reached `target`; undefined when it never did. */
export function stepsToReach(r: GridRecord, target: number): number | undefined {
  return r.result.evals.find((p) => 100 * p.acc >= target)?.step;
}

export function summarizeVariants(records: GridRecord[], opts: SummaryOptions = {}): GridVariantSummary[] {
  const earlyFrac = opts.earlyFrac ?? 0.25;
  const reach = opts.reachAcc ?? 70;
  const order: string[] = [];
  const by = new Map<string, GridRecord[]>();
  for (const r of records) {
    const k = r.config.variant;
    if (!by.has(k)) {
      by.set(k, []);
      order.push(k);
    }
    by.get(k)!.push(r);
  }
  return order.map((name) => {
    const rs = by.get(name)!.slice().sort((a, b) => a.seed - b.seed);
    const first = rs[0]!;
    const done = rs.filter((r) => r.result.status === "completed" && r.result.test);
    const accs = done.map((r) => 100 * r.result.test!.acc);
    const earlyStep = Math.max(1, Math.round(earlyFrac * first.config.train.steps));
    const early = rs.map((r) => accAtStep(r, earlyStep)).filter((v): v is number => v !== undefined);
    const reached = rs.map((r) => stepsToReach(r, reach)).filter((v): v is number => v !== undefined);
    const alphas = done.flatMap((r) => (r.result.finalAlpha ? Object.values(r.result.finalAlpha) : []));
    const learnAlpha = first.config.model.normOptions?.learnAlpha !== false && first.config.norm === "dyt";
    const s: GridVariantSummary = {
      name,
      label: first.config.label,
      tags: first.config.tags,
      seeds: rs.map((r) => r.seed),
      accs,
      testAcc: meanStd(accs),
      earlyAcc: { ...meanStd(early), step: earlyStep },
      earlyAccs: early,
      stepsToReach: { target: reach, mean: reached.length ? reached.reduce((a, b) => a + b, 0) / reached.length : NaN, reached: reached.length, n: rs.length },
      diverged: rs.filter((r) => r.result.status === "diverged").length,
      divergedSteps: rs.filter((r) => r.result.diverged).map((r) => r.result.diverged!.step),
      wallTimeSec: rs.reduce((a, r) => a + r.wallTimeSec, 0),
    };
    if (learnAlpha && alphas.length) s.meanFinalAlpha = alphas.reduce((a, b) => a + b, 0) / alphas.length;
    return s;
  });
}

export function findVariant(summaries: GridVariantSummary[], name: string): GridVariantSummary | undefined {
  return summaries.find((s) => s.name === name);
}

/** Outcome of "a is better than b" judged against seed noise (lib/analysis withinNoise, |diff| < 2 SE). */
export interface GridComparison {
  a: string;
  b: string;
  /** mean(a) - mean(b), accuracy points. */
  diff: number;
  /** 2 x standard error of the difference. */
  band: number;
  /** "a>b" / "a<b" beyond noise, "tie" within noise, "untestable" without a noise estimate or with no completed runs. */
  outcome: "a>b" | "a<b" | "tie" | "untestable";
  /** Why untestable, or the noise test's note. */
  note?: string;
  test?: NoiseTest;
}

/**
 * Compare two variants' test accuracies. A variant whose every run diverged
 * counts as worse than one that completed (divergence is the larger failure);
 * both all-diverged is a tie. Needs >= 2 seeds on one side for a noise estimate.
 */
export function compareVariants(summaries: GridVariantSummary[], an: string, bn: string): GridComparison {
  const a = findVariant(summaries, an);
  const b = findVariant(summaries, bn);
  if (!a || !b) return { a: an, b: bn, diff: NaN, band: NaN, outcome: "untestable", note: `variant ${!a ? an : bn} was not run` };
  const aDead = a.accs.length === 0 && a.diverged > 0;
  const bDead = b.accs.length === 0 && b.diverged > 0;
  if (aDead || bDead) {
    const outcome = aDead && bDead ? "tie" : aDead ? "a<b" : "a>b";
    return { a: an, b: bn, diff: NaN, band: NaN, outcome, note: `${aDead && bDead ? "both" : aDead ? an : bn} diverged on every seed` };
  }
  return compareValues(an, a.accs, bn, b.accs);
}

/** Compare two sets of per-seed values (e.g. early accuracies) against seed noise: |diff| < 2 SE is a tie. */
export function compareValues(an: string, av: number[], bn: string, bv: number[]): GridComparison {
  if (av.length === 0 || bv.length === 0) return { a: an, b: bn, diff: NaN, band: NaN, outcome: "untestable", note: "no completed runs" };
  const t = withinNoise(av, bv);
  const band = 2 * t.se;
  if (!Number.isFinite(t.se)) return { a: an, b: bn, diff: t.diff, band, outcome: "untestable", note: t.note ?? "no noise estimate (one seed per side)", test: t };
  return { a: an, b: bn, diff: t.diff, band, outcome: t.within ? "tie" : t.diff > 0 ? "a>b" : "a<b", test: t, ...(t.note ? { note: t.note } : {}) };
}

/** "tanh − hardtanh = +0.42 ± 0.30 (2 SE)" */
export function describeComparison(c: GridComparison, la = c.a, lb = c.b): string {
  if (c.outcome === "untestable") return `${la} vs ${lb}: untestable (${c.note})`;
  if (!Number.isFinite(c.diff)) return `${la} vs ${lb}: ${c.note}`;
  const sign = c.diff >= 0 ? "+" : "";
  const word = c.outcome === "tie" ? "within noise" : "beyond noise";
  return `${la} − ${lb} = ${sign}${c.diff.toFixed(2)} pts (2 SE ${c.band.toFixed(2)}, ${word})`;
}

/** Mean ± std cell text, with the diverged count when any. */
export function accCell(s: GridVariantSummary | undefined): string {
  if (!s) return "-";
  const base = s.testAcc.n ? `${s.testAcc.mean.toFixed(2)} ± ${s.testAcc.std.toFixed(2)}` : "—";
  return s.diverged ? `${base} (${s.diverged}/${s.seeds.length} diverged)` : base;
}

/** "ViT width 32, depth 2, 400 steps (batch 64)": the setup a grid's verdicts hold for, from its first record. */
export function gridSetup(records: GridRecord[]): string {
  const r = records[0];
  if (!r) return "no runs";
  const m = r.config.model;
  return `ViT width ${m.dim ?? "?"}, depth ${m.depth ?? "?"}, ${r.config.train.steps} steps (batch ${r.config.train.batchSize ?? "?"}, lr ${r.config.train.lr ?? "?"})`;
}
