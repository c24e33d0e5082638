import type { ViTConfig } from "../models/vit";
import { saveSummary, type ExperimentContext } from "./runner";
import type { Scale } from "./scale";
import type { VerdictPart } from "./squash";
import {
  compareValues,
  compareVariants,
  describeComparison,
  runGrid,
  summarizeVariants,
  type GridBase,
  type GridComparison,
  type GridRecord,
  type GridVariant,
  type GridVariantSummary,
} from "./grid";

/**
 * alpha0 sensitivity of DyT on a ViT (paper section 7 / claim 7): a grid of
 * alpha0 x learning rate x model size. The paper: vision trains over a wide
 * alpha0 range, large alpha0 with large lr can diverge, alpha0 affects early
 * convergence, and (for LLMs) wider models need smaller alpha0.
 *
 * Seeds: the whole grid runs with `gridSeeds`; then, per size, the lr with the
 * best mean accuracy over alpha0 (diverged runs scored at chance) is chosen
 * from those runs and every alpha0 at that lr gets `focusSeeds` too, so the
 * comparisons at the best lr have >= 3 seeds without paying for 3 seeds
 * everywhere.
 *
 * The grid budget is short (under one epoch), and the paper's claim is about
 * accuracy after full training; so a `long` phase trains one size at its best
 * lr for several times the steps, every alpha0, all seeds. Claim 7's verdict
 * uses the long runs when they exist; the grid answers the early-convergence
 * and width questions.
 */
export const ALPHA0 = "alpha0";

/** Accuracy (%) of a diverged run when ranking learning rates: chance on 10 classes. */
const CHANCE_ACC = 10;
/** Claim 7 tolerance: alpha0 "does not matter" if best - worst at the best lr is within seed noise or at most this many points. */
export const ALPHA0_FLAT_POINTS = 1.0;

export interface Alpha0Size {
  name: string;
  model: Partial<ViTConfig>;
}

export interface Alpha0Config {
  base: GridBase;
  sizes: Alpha0Size[];
  alpha0s: number[];
  lrs: number[];
  gridSeeds: number[];
  focusSeeds: number[];
  /** Fraction of the steps at which early accuracy is read. */
  earlyFrac: number;
  /** Longer training of one size at its best lr (claim 7 at a larger budget); none = skip. */
  long?: Alpha0Long;
}

export interface Alpha0Long {
  size: string;
  steps: number;
  warmupSteps: number;
  evalEvery: number;
  alpha0s: number[];
  seeds: number[];
}

const SIZES: Alpha0Size[] = [
  { name: "w32", model: { dim: 32, depth: 2, heads: 2 } },
  { name: "w64", model: { dim: 64, depth: 2, heads: 4 } },
];

export const ALPHA0_SCALES: Record<Scale, Alpha0Config> = {
  smoke: {
    base: {
      model: { patchSize: 7 },
      train: { steps: 20, batchSize: 32, warmupSteps: 4, evalEvery: 5, evalLimit: 200, logEvery: 5, checkpointEvery: 0 },
      trainLimit: 2000,
      testLimit: 300,
    },
    sizes: [{ name: "w16", model: { dim: 16, depth: 1, heads: 2 } }],
    alpha0s: [0.5, 4],
    lrs: [2e-3],
    gridSeeds: [1],
    focusSeeds: [],
    earlyFrac: 0.25,
  },
  quick: {
    base: {
      model: { patchSize: 7 },
      train: { steps: 200, batchSize: 64, warmupSteps: 20, evalEvery: 20, evalLimit: 1000, logEvery: 10, checkpointEvery: 0 },
      trainLimit: 0,
      testLimit: 5000,
    },
    sizes: SIZES,
    alpha0s: [0.1, 0.5, 2],
    lrs: [2e-3],
    gridSeeds: [1],
    focusSeeds: [2],
    earlyFrac: 0.2,
  },
  full: {
    base: {
      model: { patchSize: 7 },
      train: { steps: 300, batchSize: 64, warmupSteps: 30, evalEvery: 30, evalLimit: 1000, logEvery: 10, checkpointEvery: 0 },
      trainLimit: 0,
      testLimit: 0,
    },
    sizes: SIZES,
    alpha0s: [0.1, 0.5, 1, 2, 4],
    // Two lrs only (compute budget on a shared 2-core machine): the squash/gain-bias lr and 4x it, where divergence shows.
    lrs: [2e-3, 8e-3],
    gridSeeds: [1],
    focusSeeds: [2, 3],
    earlyFrac: 0.2,
    long: { size: "w32", steps: 1500, warmupSteps: 75, evalEvery: 150, alpha0s: [0.1, 0.5, 1, 2, 4], seeds: [1, 2, 3] },
  },
};

export function alpha0VariantName(size: string, lr: number, alpha0: number): string {
  return `${size}-lr${lr.toExponential(0).replace("+", "")}-a${alpha0}`;
}

export function alpha0Variant(size: Alpha0Size, lr: number, alpha0: number, long?: Alpha0Long): GridVariant {
  const v: GridVariant = {
    name: alpha0VariantName(size.name, lr, alpha0),
    label: `${size.name}, lr ${lr}, α₀ ${alpha0}`,
    norm: "dyt",
    normOptions: { alpha0, learnAlpha: true },
    model: size.model,
    train: { lr },
    tags: { size: size.name, lr, alpha0 },
  };
  if (long) {
    v.name += `-long${long.steps}`;
    v.label += `, ${long.steps} steps`;
    v.train = { lr, steps: long.steps, warmupSteps: long.warmupSteps, evalEvery: long.evalEvery };
    v.tags = { ...v.tags, budget: long.steps };
  }
  return v;
}

const isLong = (r: GridRecord) => r.config.tags.budget !== undefined;

export interface Alpha0SizeResult {
  size: string;
  /** Mean test accuracy (%) per lr (rows) x alpha0 (columns); NaN where every run diverged. */
  acc: number[][];
  /** Diverged runs / runs per cell. */
  diverged: number[][];
  runs: number[][];
  /** Mean validation accuracy (%) at the early step, per lr x alpha0. */
  early: number[][];
  /** lr-ranking score: mean over alpha0 of seed-1-grid accuracy, diverged = chance. */
  lrScore: number[];
  bestLr: number;
  /** At the best lr: the alpha0 with the highest / lowest mean test accuracy among completed cells. */
  bestAlpha0?: number;
  worstAlpha0?: number;
  /** Best - worst at the best lr, points. */
  range?: number;
  bestVsWorst?: GridComparison;
  /** Early val accuracy at the best lr: highest vs lowest alpha0 cell. */
  earlyBestVsWorst?: GridComparison;
  earlyRange?: number;
  divergedAtBestLr: number;
  /** At the best lr: alpha0 values within seed noise (or ALPHA0_FLAT_POINTS) of the best. */
  nearBest: number[];
}

export interface Alpha0LongResult {
  size: string;
  lr: number;
  steps: number;
  variants: GridVariantSummary[];
  bestAlpha0?: number;
  worstAlpha0?: number;
  range?: number;
  bestVsWorst?: GridComparison;
  /** alpha0 values whose accuracy is within seed noise (or ALPHA0_FLAT_POINTS) of the best one. */
  nearBest: number[];
  diverged: number;
}

export interface Alpha0Summary {
  experiment: string;
  scale: Scale;
  alpha0s: number[];
  lrs: number[];
  sizes: string[];
  earlyStep: number;
  variants: GridVariantSummary[];
  bySize: Alpha0SizeResult[];
  /** Claim 7 (vision part): accuracy is insensitive to alpha0 — from the long runs when present, else the grid. */
  insensitive: VerdictPart;
  /** The same test on the short-budget grid at each size's best lr. */
  insensitiveShort: VerdictPart;
  /** The long-budget runs (one size, its best lr), when run. */
  long?: Alpha0LongResult;
  /** alpha0 affects early convergence (val accuracy at earlyFrac of training). */
  early: VerdictPart;
  /** The larger model prefers a smaller alpha0. */
  width: VerdictPart;
  /** Which (size, lr, alpha0) cells diverged. */
  divergedCells: string[];
  verdict: string;
  statement: string;
}

export async function runAlpha0(ctx: ExperimentContext, override: Partial<Alpha0Config> = {}): Promise<{ records: GridRecord[]; summary: Alpha0Summary }> {
  const cfg: Alpha0Config = { ...ALPHA0_SCALES[ctx.scale], ...override };
  const gridSeeds = ctx.seeds ?? cfg.gridSeeds;
  const focusSeeds = ctx.seeds ? [] : cfg.focusSeeds.filter((s) => !gridSeeds.includes(s));
  const all: GridVariant[] = cfg.sizes.flatMap((size) => cfg.lrs.flatMap((lr) => cfg.alpha0s.map((a) => alpha0Variant(size, lr, a))));
  const records = await runGrid(ALPHA0, ctx, cfg.base, all, gridSeeds);
  if (focusSeeds.length) {
    // Best lr per size from the grid-seed runs only, so the choice does not depend on the focus seeds.
    const focus = cfg.sizes.flatMap((size) => {
      const lr = bestLr(records, size.name, cfg.lrs, cfg.alpha0s);
      return cfg.alpha0s.map((a) => alpha0Variant(size, lr, a));
    });
    records.push(...(await runGrid(ALPHA0, ctx, cfg.base, focus, focusSeeds)));
  }
  const long = cfg.long;
  if (long && !ctx.seeds) {
    const size = cfg.sizes.find((s) => s.name === long.size);
    if (!size) throw new Error(`alpha0: long.size "${long.size}" is not one of the sizes ${cfg.sizes.map((s) => s.name).join(", ")}`);
    const lr = bestLr(records, size.name, cfg.lrs, cfg.alpha0s);
    records.push(...(await runGrid(ALPHA0, ctx, cfg.base, long.alpha0s.map((a) => alpha0Variant(size, lr, a, long)), long.seeds)));
  }
  const summary = summarizeAlpha0(ctx.scale, records, cfg);
  saveSummary(ALPHA0, ctx.scale, summary);
  return { records, summary };
}

const acc = (r: GridRecord) => (r.result.test ? 100 * r.result.test.acc : CHANCE_ACC);

function lrScores(records: GridRecord[], size: string, lrs: number[], alpha0s: number[], seeds?: number[]): number[] {
  return lrs.map((lr) => {
    const rs = records.filter((r) => !isLong(r) && r.config.tags.size === size && r.config.tags.lr === lr && alpha0s.includes(r.config.tags.alpha0 as number) && (!seeds || seeds.includes(r.seed)));
    return rs.length ? rs.reduce((a, r) => a + acc(r), 0) / rs.length : NaN;
  });
}

/** The lr with the best mean test accuracy over alpha0 (diverged = chance), using the lowest seed's runs. */
export function bestLr(records: GridRecord[], size: string, lrs: number[], alpha0s: number[]): number {
  const mine = records.filter((r) => !isLong(r) && r.config.tags.size === size);
  if (!mine.length) throw new Error(`alpha0: no runs for size ${size}`);
  const seed = Math.min(...mine.map((r) => r.seed));
  const scores = lrScores(records, size, lrs, alpha0s, [seed]);
  let best = 0;
  scores.forEach((s, i) => {
    if (s > scores[best]! || !Number.isFinite(scores[best]!)) best = i;
  });
  return lrs[best]!;
}

export function summarizeAlpha0(scale: Scale, allRecords: GridRecord[], cfg: Alpha0Config): Alpha0Summary {
  const records = allRecords.filter((r) => !isLong(r));
  const longRecords = allRecords.filter(isLong);
  const variants = summarizeVariants(records, { earlyFrac: cfg.earlyFrac });
  const earlyStep = Math.max(1, Math.round(cfg.earlyFrac * cfg.base.train.steps));
  const sizes = cfg.sizes.map((s) => s.name).filter((s) => records.some((r) => r.config.tags.size === s));
  const get = (size: string, lr: number, a: number) => variants.find((v) => v.name === alpha0VariantName(size, lr, a));
  const divergedCells: string[] = [];
  const bySize: Alpha0SizeResult[] = sizes.map((size) => {
    const grid = <T>(f: (v: GridVariantSummary | undefined) => T) => cfg.lrs.map((lr) => cfg.alpha0s.map((a) => f(get(size, lr, a))));
    const lr = bestLr(records, size, cfg.lrs, cfg.alpha0s);
    const atBest = cfg.alpha0s.map((a) => get(size, lr, a)).filter((v): v is GridVariantSummary => !!v);
    for (const v of variants) if (v.tags.size === size && v.diverged) divergedCells.push(`${v.label}: ${v.diverged}/${v.seeds.length} diverged (steps ${v.divergedSteps.join(", ")})`);
    const res: Alpha0SizeResult = {
      size,
      acc: grid((v) => (v && v.testAcc.n ? v.testAcc.mean : NaN)),
      diverged: grid((v) => v?.diverged ?? 0),
      runs: grid((v) => v?.seeds.length ?? 0),
      early: grid((v) => (v && v.earlyAcc.n ? v.earlyAcc.mean : NaN)),
      lrScore: lrScores(records, size, cfg.lrs, cfg.alpha0s, [Math.min(...records.filter((r) => r.config.tags.size === size).map((r) => r.seed))]),
      bestLr: lr,
      divergedAtBestLr: atBest.reduce((n, v) => n + v.diverged, 0),
      nearBest: [],
    };
    const done = atBest.filter((v) => v.testAcc.n > 0).sort((a, b) => b.testAcc.mean - a.testAcc.mean);
    if (done.length >= 2) {
      const best = done[0]!;
      const worst = done[done.length - 1]!;
      res.bestAlpha0 = best.tags.alpha0 as number;
      res.worstAlpha0 = worst.tags.alpha0 as number;
      res.range = best.testAcc.mean - worst.testAcc.mean;
      res.bestVsWorst = compareVariants(variants, best.name, worst.name);
      res.nearBest = nearBest(atBest, best);
    } else if (done.length === 1) {
      res.bestAlpha0 = done[0]!.tags.alpha0 as number;
    }
    const withEarly = atBest.filter((v) => v.earlyAccs.length > 0).sort((a, b) => b.earlyAcc.mean - a.earlyAcc.mean);
    if (withEarly.length >= 2) {
      const hi = withEarly[0]!;
      const lo = withEarly[withEarly.length - 1]!;
      res.earlyRange = hi.earlyAcc.mean - lo.earlyAcc.mean;
      res.earlyBestVsWorst = compareValues(hi.name, hi.earlyAccs, lo.name, lo.earlyAccs);
    }
    return res;
  });

  // Claim 7 (vision): at each size's best lr, every alpha0 trains and best - worst is within noise or <= ALPHA0_FLAT_POINTS.
  const flatParts = bySize.map((s) => {
    const p = flatness(`${s.size} at lr ${s.bestLr}, ${cfg.base.train.steps} steps`, s);
    return { ...p, text: `${p.text}; α₀ within noise of the best: ${s.nearBest.join(", ") || "-"}` };
  });
  const rule = `insensitive = no divergence and best − worst within seed noise (2 SE) or ≤ ${ALPHA0_FLAT_POINTS} pt`;
  const insensitiveShort: VerdictPart = {
    verdict: combine(flatParts.map((p) => p.verdict)),
    statement: `Short budget (${cfg.base.train.steps} steps): test accuracy vs α₀ (${cfg.alpha0s.join(", ")}) at each size's best lr; ${rule}. ${flatParts.map((p) => p.text).join("; ")}.`,
  };
  let long: Alpha0LongResult | undefined;
  let insensitive = insensitiveShort;
  if (longRecords.length) {
    const lv = summarizeVariants(longRecords, { earlyFrac: cfg.earlyFrac });
    const first = longRecords[0]!;
    long = { size: String(first.config.tags.size), lr: Number(first.config.tags.lr), steps: first.config.train.steps, variants: lv, nearBest: [], diverged: lv.reduce((n, v) => n + v.diverged, 0) };
    const done = lv.filter((v) => v.testAcc.n > 0).sort((a, b) => b.testAcc.mean - a.testAcc.mean);
    if (done.length >= 2) {
      long.bestAlpha0 = done[0]!.tags.alpha0 as number;
      long.worstAlpha0 = done[done.length - 1]!.tags.alpha0 as number;
      long.range = done[0]!.testAcc.mean - done[done.length - 1]!.testAcc.mean;
      long.bestVsWorst = compareVariants(lv, done[0]!.name, done[done.length - 1]!.name);
      long.nearBest = nearBest(lv, done[0]!);
    }
    for (const v of lv) if (v.diverged) divergedCells.push(`${v.label}: ${v.diverged}/${v.seeds.length} diverged (steps ${v.divergedSteps.join(", ")})`);
    const p = flatness(`${long.size} at lr ${long.lr}, ${long.steps} steps`, { ...long, divergedAtBestLr: long.diverged });
    insensitive = {
      verdict: p.verdict,
      statement: `Longer budget (${long.steps} steps, ${long.size}, lr ${long.lr}, α₀ ${lv.map((v) => v.tags.alpha0).join(", ")}): ${p.text}; ${rule}. α₀ within noise of the best: ${long.nearBest.join(", ") || "-"}. (${insensitiveShort.statement})`,
    };
  }

  const earlyParts = bySize.map((s): { verdict: VerdictPart["verdict"]; text: string } => {
    const c = s.earlyBestVsWorst;
    if (!c || s.earlyRange === undefined) return { verdict: "not testable at this scale", text: `${s.size}: fewer than two α₀ values with an early eval` };
    const text = `${s.size} at lr ${s.bestLr}: val acc at step ${earlyStep} ranges ${s.earlyRange.toFixed(2)} pts over α₀ (${describeComparison(c)})`;
    if (c.outcome === "untestable") return { verdict: "not testable at this scale", text };
    return { verdict: c.outcome === "a>b" ? "supported" : "not supported", text };
  });
  const early: VerdictPart = {
    verdict: combine(earlyParts.map((p) => p.verdict), "any"),
    statement: `α₀ affects early convergence if the best and worst α₀ differ beyond seed noise in validation accuracy at ${Math.round(100 * cfg.earlyFrac)}% of training. ${earlyParts.map((p) => p.text).join("; ")}.`,
  };

  // Larger model prefers smaller alpha0: compare the two sizes' best alpha0, and check on the larger model that its best beats the smaller model's best beyond noise.
  let width: VerdictPart = { verdict: "not testable at this scale", statement: "Needs two model sizes with completed runs at their best lr." };
  if (bySize.length >= 2) {
    const small = bySize[0]!;
    const large = bySize[bySize.length - 1]!;
    if (small.bestAlpha0 !== undefined && large.bestAlpha0 !== undefined) {
      const head = `best α₀: ${small.size} ${small.bestAlpha0} (lr ${small.bestLr}), ${large.size} ${large.bestAlpha0} (lr ${large.bestLr})`;
      if (large.bestAlpha0 === small.bestAlpha0) width = { verdict: "not supported", statement: `${head}: the same α₀.` };
      else {
        const c = compareVariants(variants, alpha0VariantName(large.size, large.bestLr, large.bestAlpha0), alpha0VariantName(large.size, large.bestLr, small.bestAlpha0));
        const text = `${head}; on ${large.size}, its best vs ${small.size}'s best α₀: ${describeComparison(c)}`;
        if (c.outcome === "untestable") width = { verdict: "not testable at this scale", statement: text };
        else if (large.bestAlpha0 < small.bestAlpha0 && c.outcome === "a>b") width = { verdict: "supported", statement: `${text}.` };
        else width = { verdict: "not supported", statement: `${text}${c.outcome === "tie" ? " (no preference beyond noise)" : ""}.` };
      }
    }
  }

  return {
    experiment: ALPHA0,
    scale,
    alpha0s: cfg.alpha0s,
    lrs: cfg.lrs,
    sizes,
    earlyStep,
    variants,
    bySize,
    insensitive,
    insensitiveShort,
    ...(long ? { long } : {}),
    early,
    width,
    divergedCells,
    verdict: insensitive.verdict,
    statement: `${insensitive.statement} ${early.statement} ${width.statement}${divergedCells.length ? ` Diverged: ${divergedCells.join("; ")}.` : " No run diverged."}`,
  };
}

/** The alpha0 values (sorted) whose test accuracy is within seed noise of, or at most ALPHA0_FLAT_POINTS below, the best variant. */
function nearBest(vs: GridVariantSummary[], best: GridVariantSummary): number[] {
  return vs
    .filter((v) => v.testAcc.n > 0)
    .filter((v) => v === best || best.testAcc.mean - v.testAcc.mean <= ALPHA0_FLAT_POINTS || compareVariants(vs, best.name, v.name).outcome === "tie")
    .map((v) => v.tags.alpha0 as number)
    .sort((a, b) => a - b);
}

/** Claim 7's flatness rule for one set of alpha0 cells. */
function flatness(head: string, s: { range?: number; bestVsWorst?: GridComparison; bestAlpha0?: number; worstAlpha0?: number; divergedAtBestLr: number }): { verdict: VerdictPart["verdict"]; text: string } {
  if (s.range === undefined || !s.bestVsWorst) return { verdict: "not testable at this scale", text: `${head}: fewer than two α₀ values completed` };
  const c = s.bestVsWorst;
  const spread = `best α₀ ${s.bestAlpha0} vs worst α₀ ${s.worstAlpha0}: ${describeComparison(c)}`;
  if (s.divergedAtBestLr > 0) return { verdict: "not supported", text: `${head}: ${s.divergedAtBestLr} run(s) diverged; ${spread}` };
  if (s.range <= ALPHA0_FLAT_POINTS || c.outcome === "tie") return { verdict: "supported", text: `${head}: range ${s.range.toFixed(2)} pts; ${spread}` };
  if (c.outcome === "untestable") return { verdict: "not testable at this scale", text: `${head}: range ${s.range.toFixed(2)} pts > ${ALPHA0_FLAT_POINTS} and no noise estimate; ${spread}` };
  return { verdict: "not supported", text: `${head}: range ${s.range.toFixed(2)} pts; ${spread}` };
}

/** "all": supported only if every part is; "any": supported if any part is. Untestable parts make the whole untestable unless decided otherwise. */
function combine(vs: VerdictPart["verdict"][], mode: "all" | "any" = "all"): VerdictPart["verdict"] {
  if (vs.length === 0) return "not testable at this scale";
  if (mode === "any" && vs.includes("supported")) return "supported";
  if (mode === "all" && vs.includes("not supported")) return "not supported";
  if (vs.includes("not testable at this scale")) return "not testable at this scale";
  return mode === "all" ? "supported" : "not supported";
}
