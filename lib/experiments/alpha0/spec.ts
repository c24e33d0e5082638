/**
 * alpha0 sensitivity of DyT on a ViT (paper section 7 / claim 7) under the
 * protocol. An alpha0 x lr grid per model width runs on the tuning seed and is
 * scored on validation; it picks each width's lr (best mean validation
 * accuracy over alpha0, runs that did not learn scored at chance), the
 * reference alpha0 (the grid's best at that lr) and the early-convergence pair
 * (the grid's fastest and slowest alpha0 at that lr). The evaluation seeds
 * then train every alpha0 at the picked lr for a longer budget, and the
 * claims are paired over those seeds, so nothing is both chosen and judged
 * on the same runs.
 *
 *  - 7, "vision is insensitive to alpha0": at each width, every alpha0 matches
 *    the reference alpha0 (paired test accuracy, the protocol's match margin),
 *    all parts together (intersection-union); an alpha0 that diverges on any
 *    seed at the picked lr refutes it (a run that diverges does not train to
 *    similar accuracy).
 *  - 7-early, "alpha0 affects early convergence": the fast alpha0 beats the
 *    slow one in validation accuracy at `earlyFrac` of training, at some width.
 *  - 7-width is an LLM claim (Table 11): not testable on a ViT.
 */
import type { ViTConfig } from "../../models/vit";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { deriveArm, type Arm } from "../protocol/arms";
import { classifyRun, type RunClass } from "../protocol/classify";
import { accAtStep, allOf, anyOf, armResults, compareArms, describeComparison, type ArmResult, type CombinedVerdict, type Comparison } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { epochSchedule } from "../protocol/jobs";
import { extraSeedsFor } from "../protocol/study";
import { resolveRun, stepsForEpochs, trainSize, type RunBase } from "../protocol/task";
import { assertTuning, lrId } from "../protocol/tuning";
import type { ClaimVerdict, Outcome } from "../protocol/verdict";

export const ALPHA0 = "alpha0";

export interface Alpha0Size {
  name: string;
  model: Partial<ViTConfig>;
}

export interface Alpha0Scale {
  /** Shared settings; each width's model fields come on top. */
  base: RunBase;
  sizes: Alpha0Size[];
  alpha0s: number[];
  /** lr axis of the grid (run on the tuning seed, scored on validation). */
  lrs: number[];
  tuningSeed: number;
  /** Budget of the grid runs, and of the evaluation runs at each width's picked lr (epochs). */
  gridEpochs: number;
  evalEpochs: number;
  seeds: number[];
  /** Added (up to the rules' maximum) to the alpha0 arms of inconclusive comparisons. */
  extraSeeds: number[];
  /** Fraction of the steps at which early accuracy is read. */
  earlyFrac: number;
}

/** The DyT arm with initial alpha `a` (learned). */
export function alpha0Arm(a: number): Arm {
  return deriveArm("dyt", { id: `dyt-a${a}`, label: `DyT α₀ ${a}`, normOptions: { alpha0: a, learnAlpha: true } });
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const SIZES: Alpha0Size[] = [
  { name: "w32", model: { dim: 32, depth: 2, heads: 2 } },
  { name: "w64", model: { dim: 64, depth: 2, heads: 4 } },
];

/**
 * full: two widths x 5 alpha0 x 3 lrs for 1 epoch on the tuning seed, then
 * 5 alpha0 x 3 seeds for 3 epochs per width (first 20,000 training images),
 * about the steps of the pre-protocol grid with its long phase.
 */
export const ALPHA0_SCALES: Record<Scale, Alpha0Scale> = {
  smoke: {
    base: { model: { patchSize: 7 }, train: { ...TRAIN, batchSize: 32, evalLimit: 200 }, data: { trainLimit: 1000, testLimit: 300 } },
    sizes: [{ name: "w16", model: { dim: 16, depth: 1, heads: 2 } }],
    alpha0s: [0.5, 4],
    lrs: [2e-3],
    tuningSeed: 101,
    gridEpochs: 0.5,
    evalEpochs: 0.5,
    seeds: [1, 2],
    extraSeeds: [],
    earlyFrac: 0.25,
  },
  quick: {
    base: { model: { patchSize: 7 }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 10_000, testLimit: 5000 } },
    sizes: [SIZES[0]!],
    alpha0s: [0.1, 0.5, 2],
    lrs: [2e-3],
    tuningSeed: 101,
    gridEpochs: 0.5,
    evalEpochs: 1,
    seeds: [1, 2, 3],
    extraSeeds: [],
    earlyFrac: 0.2,
  },
  full: {
    base: { model: { patchSize: 7 }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    sizes: SIZES,
    alpha0s: [0.1, 0.5, 1, 2, 4],
    // 2e-3..3.2e-2 in factors of 4 (was 1e-3, 2e-3, 8e-3): DyT ViTs of these widths pick 1.6e-2..3.2e-2 at
    // 1-3 epochs (vit-fashion, alpha-std, quantization full runs). Set before any alpha0 full run.
    lrs: [2e-3, 8e-3, 3.2e-2],
    tuningSeed: 101,
    gridEpochs: 1,
    evalEpochs: 3,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    earlyFrac: 0.2,
  },
};

function sizeOf(s: Alpha0Scale, name: string): Alpha0Size {
  const z = s.sizes.find((x) => x.name === name);
  if (!z) throw new Error(`alpha0: unknown size "${name}"; sizes: ${s.sizes.map((x) => x.name).join(", ")}`);
  return z;
}

function alpha0Job(s: Alpha0Scale, scale: Scale, size: string, lr: number, a: number, seed: number, role: Job["role"]): Job {
  const epochs = role === "tune" ? s.gridEpochs : s.evalEpochs;
  const arm = alpha0Arm(a);
  const run = role === "tune" ? `grid-${size}-lr${lrId(lr)}-a${a}-s${seed}` : `${size}-a${a}-s${seed}`;
  return {
    experiment: ALPHA0,
    scale,
    run,
    seed,
    role,
    axes: { size, lr, alpha0: a, epochs },
    label: arm.label,
    resolved: resolveRun(s.base, arm, seed, { lr, model: sizeOf(s, size).model, train: epochSchedule(epochs, s.base) }),
  };
}

/** One grid cell (tuning seed): final and early validation accuracy (%), and the run's class. */
export interface Alpha0Cell {
  lr: number;
  alpha0: number;
  valAcc: number;
  earlyVal: number;
  class: RunClass;
}

export interface Alpha0SizeResult {
  size: string;
  /** Grid cells, lr-major. */
  cells: Alpha0Cell[];
  /** Final validation accuracy (%) per lr (rows) x alpha0 (columns) on the tuning seed; NaN where the run diverged. */
  valAcc: number[][];
  /** Validation accuracy (%) at the early step, per lr x alpha0. */
  earlyAcc: number[][];
  classes: RunClass[][];
  /** lr-ranking score: mean over alpha0 of final validation accuracy, runs that did not learn at chance. */
  lrScore: number[];
  bestLr: number;
  /** The grid's best alpha0 at the picked lr: the reference of claim 7. */
  reference?: number;
  /** The grid's fastest and slowest alpha0 (early validation accuracy) at the picked lr: claim 7-early's pair. */
  earlyPair?: [number, number];
  /** Evaluation arms (every alpha0 at the picked lr), by alpha0. */
  arms: ArmResult[];
  /** Claim 7's parts at this width: every alpha0 matches the reference. */
  matches: Comparison[];
  early?: Comparison;
  /** Arms that diverged on some seed at the picked lr. */
  diverged: string[];
}

export interface Alpha0Summary {
  experiment: string;
  scale: Scale;
  setup: string;
  alpha0s: number[];
  lrs: number[];
  sizes: string[];
  gridSteps: number;
  evalSteps: number;
  /** Step of the early reading in the grid and in the evaluation runs. */
  gridEarlyStep: number;
  evalEarlyStep: number;
  bySize: Alpha0SizeResult[];
  /** Claim 7 (vision part): every alpha0 matches the reference at each width. */
  insensitive: ClaimVerdict & { parts: Comparison[]; rule: string };
  /** Claim 7-early. */
  early: CombinedVerdict;
  /** Claim 7-width: not testable here (LLM claim); the grid's best alpha0 per width, descriptively. */
  width: ClaimVerdict & { statement: string };
  verdict: string;
  statement: string;
}

/** Run (or load) the grid on the tuning seed, then every alpha0 at each width's picked lr on the evaluation seeds. */
export async function runAlpha0(ctx: ExperimentContext, override: Partial<Alpha0Scale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: Alpha0Summary }> {
  const s: Alpha0Scale = { ...ALPHA0_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  assertTuning({ lrs: s.lrs, seed: s.tuningSeed }, [...seeds, ...s.extraSeeds], ALPHA0);
  const t = s.tuningSeed;
  const grid = await runJobs(
    s.sizes.flatMap((z) => s.lrs.flatMap((lr) => s.alpha0s.map((a) => alpha0Job(s, ctx.scale, z.name, lr, a, t, "tune")))),
    ctx,
  );
  const records = [...grid];
  const lrOf = new Map(s.sizes.map((z) => [z.name, pickAlpha0Lr(grid, z.name, s.lrs, s.alpha0s, rules).bestLr]));
  const evalJob = (size: string, a: number, seed: number) => alpha0Job(s, ctx.scale, size, lrOf.get(size)!, a, seed, "eval");
  records.push(...(await runJobs(seeds.flatMap((seed) => s.sizes.flatMap((z) => s.alpha0s.map((a) => evalJob(z.name, a, seed)))), ctx)));
  const extra = extraSeedsFor(ctx, s.extraSeeds, seeds, rules);
  if (extra.length) {
    const sum = summarizeAlpha0(ctx.scale, records, s, rules);
    const more = sum.bySize.flatMap((b) =>
      [...b.matches, ...(b.early ? [b.early] : [])]
        .filter((c) => c.outcome === "inconclusive")
        .flatMap((c) => c.arms.map((id) => ({ size: b.size, a: b.arms.find((x) => x.arm === id)!.axes.alpha0 as number }))),
    );
    const uniq = [...new Map(more.map((m) => [`${m.size}/${m.a}`, m])).values()];
    if (uniq.length) records.push(...(await runJobs(extra.flatMap((seed) => uniq.map((m) => evalJob(m.size, m.a, seed))), ctx)));
  }
  const summary = summarizeAlpha0(ctx.scale, records, s, rules);
  saveSummary(ALPHA0, ctx.scale, summary);
  return { records, summary };
}

const valFinal = (r: ProtocolRecord) => {
  const last = r.result.evals.at(-1);
  return last ? 100 * last.acc : NaN;
};
const classOf = (r: ProtocolRecord, rules: ProtocolRules) => classifyRun({ status: r.result.status, acc: r.result.evals.at(-1)?.acc, numClasses: r.config.model.numClasses }, rules);

/**
 * The lr with the best mean final validation accuracy over alpha0 on the
 * grid (tuning-seed) runs of one width; runs that diverged or did not learn
 * count at chance. Ties go to the smaller lr. Evaluation runs never enter.
 */
export function pickAlpha0Lr(records: readonly ProtocolRecord[], size: string, lrs: number[], alpha0s: number[], rules: ProtocolRules = RULES): { bestLr: number; lrScore: number[] } {
  const mine = records.filter((r) => r.role === "tune" && r.axes.size === size);
  if (!mine.length) throw new Error(`alpha0: no grid runs for size ${size}`);
  const lrScore = lrs.map((lr) => {
    const rs = mine.filter((r) => r.axes.lr === lr && alpha0s.includes(r.axes.alpha0 as number));
    return rs.length ? rs.reduce((sum, r) => sum + (classOf(r, rules) === "learned" ? valFinal(r) : 100 / r.config.model.numClasses), 0) / rs.length : NaN;
  });
  let best = -1;
  lrScore.forEach((v, i) => {
    if (Number.isFinite(v) && (best < 0 || v > lrScore[best]!)) best = i;
  });
  if (best < 0) throw new Error(`alpha0: no grid lr of size ${size} has runs`);
  return { bestLr: lrs[best]!, lrScore };
}

export function summarizeAlpha0(scale: Scale, records: ProtocolRecord[], s: Alpha0Scale = ALPHA0_SCALES[scale], rules: ProtocolRules = RULES): Alpha0Summary {
  const gridSteps = stepsForEpochs(s.gridEpochs, s.base.data, s.base.train.batchSize ?? 64);
  const evalSteps = stepsForEpochs(s.evalEpochs, s.base.data, s.base.train.batchSize ?? 64);
  const gridEarlyStep = Math.max(1, Math.round(s.earlyFrac * gridSteps));
  const sizes = s.sizes.map((z) => z.name).filter((z) => records.some((r) => r.role === "tune" && r.axes.size === z));
  const bySize = sizes.map((size): Alpha0SizeResult => {
    const grid = records.filter((r) => r.role === "tune" && r.axes.size === size);
    const cellOf = (lr: number, a: number) => grid.find((r) => r.axes.lr === lr && r.axes.alpha0 === a);
    const cells: Alpha0Cell[] = s.lrs.flatMap((lr) =>
      s.alpha0s.flatMap((a) => {
        const r = cellOf(lr, a);
        return r ? [{ lr, alpha0: a, valAcc: r.result.status === "completed" ? valFinal(r) : NaN, earlyVal: accAtStep(r, gridEarlyStep), class: classOf(r, rules) }] : [];
      }),
    );
    const at = <T>(f: (c: Alpha0Cell | undefined) => T) => s.lrs.map((lr) => s.alpha0s.map((a) => f(cells.find((c) => c.lr === lr && c.alpha0 === a))));
    const { bestLr, lrScore } = pickAlpha0Lr(records, size, s.lrs, s.alpha0s, rules);
    const learnedAtBest = cells.filter((c) => c.lr === bestLr && c.class === "learned");
    const byVal = learnedAtBest.slice().sort((x, y) => y.valAcc - x.valAcc);
    const byEarly = learnedAtBest.filter((c) => Number.isFinite(c.earlyVal)).sort((x, y) => y.earlyVal - x.earlyVal);
    const arms = armResults(
      records.filter((r) => r.role === "eval" && r.axes.size === size),
      Object.fromEntries(s.alpha0s.map((a) => [alpha0Arm(a).id, { note: `picked on the grid (tuning seed ${s.tuningSeed}, ${s.gridEpochs} epoch(s), lrs ${s.lrs.join(", ")})` }])),
      rules,
      s.earlyFrac,
    ).sort((x, y) => Number(x.axes.alpha0) - Number(y.axes.alpha0));
    const res: Alpha0SizeResult = {
      size,
      cells,
      valAcc: at((c) => c?.valAcc ?? NaN),
      earlyAcc: at((c) => c?.earlyVal ?? NaN),
      classes: at((c) => c?.class ?? "did not learn"),
      lrScore,
      bestLr,
      arms,
      matches: [],
      diverged: arms.filter((a) => a.diverged > 0).map((a) => `${a.label}: ${a.diverged}/${a.seeds.length} diverged (steps ${a.divergedSteps.join(", ")})`),
    };
    const armOf = (a: number) => arms.find((x) => x.axes.alpha0 === a);
    if (byVal[0]) {
      res.reference = byVal[0].alpha0;
      const ref = armOf(res.reference);
      if (ref) res.matches = arms.filter((x) => x !== ref).map((x) => compareArms(x, ref, "matches", rules));
    }
    if (byEarly.length >= 2) {
      const hi = byEarly[0]!.alpha0;
      const lo = byEarly[byEarly.length - 1]!.alpha0;
      res.earlyPair = [hi, lo];
      const x = armOf(hi);
      const y = armOf(lo);
      if (x && y) res.early = compareArms(x, y, "beats", rules, { metric: `validation accuracy at step ${x.earlyStep}`, of: (r) => r.earlyAccs });
    }
    return res;
  });

  const evalEarlyStep = Math.max(1, Math.round(s.earlyFrac * evalSteps));
  const insensitive = insensitivity(bySize, rules);
  const earlyParts = bySize.flatMap((b) => (b.early ? [b.early] : []));
  const early = anyOf(earlyParts, rules);
  if (earlyParts.length === 0) early.reason = `no width has two α₀ that learned on the grid at its picked lr`;
  const width = {
    outcome: "not testable" as Outcome,
    reason: "the paper's claim is about LLMs (Table 11: smaller α₀ as LLaMA width grows); the ViT grid does not test it: the language-model table is experiment lm-alpha0 (rows 7-width (LM), 7-depth (LM))",
    statement: `Descriptive only: the grid's best α₀ by width (tuning seed, at each width's picked lr): ${bySize.map((b) => `${b.size} ${b.reference ?? "none learned"} (lr ${b.bestLr})`).join(", ")}.`,
  };
  const setupText = `ViT widths ${s.sizes.map((z) => `${z.name} (dim ${z.model.dim}, depth ${z.model.depth}, ${z.model.heads} heads)`).join(", ")}; grid α₀ ${s.alpha0s.join(", ")} × lr ${s.lrs.join(", ")} for ${s.gridEpochs} epoch(s) (${gridSteps} steps) on tuning seed ${s.tuningSeed}, scored on validation; evaluation: every α₀ at the picked lr for ${s.evalEpochs} epoch(s) (${evalSteps} steps); first ${trainSize(s.base.data).toLocaleString("en")} training images, batch ${s.base.train.batchSize ?? 64}`;
  const verdicts: [string, Outcome][] = [
    ["7", insensitive.outcome],
    ["7-early", early.outcome],
    ["7-width", width.outcome],
  ];
  return {
    experiment: ALPHA0,
    scale,
    setup: setupText,
    alpha0s: s.alpha0s,
    lrs: s.lrs,
    sizes,
    gridSteps,
    evalSteps,
    gridEarlyStep,
    evalEarlyStep,
    bySize,
    insensitive,
    early,
    width,
    verdict: verdicts.map(([id, o]) => `${id}: ${o}`).join("; "),
    statement: [
      `α₀ insensitivity: ${insensitive.outcome} (${insensitive.reason}). ${insensitive.parts.map(describeComparison).join(" ")}`,
      `Early convergence: ${early.outcome} (${early.reason}). ${earlyParts.map(describeComparison).join(" ")}`,
      `Width: not testable (${width.reason}). ${width.statement}`,
    ].join(" "),
  };
}

/**
 * Claim 7's rule: an alpha0 that diverged on any seed at its width's picked
 * lr refutes the claim; otherwise every alpha0 must match the reference
 * (allOf over all widths' parts).
 */
function insensitivity(bySize: Alpha0SizeResult[], rules: ProtocolRules): Alpha0Summary["insensitive"] {
  const parts = bySize.flatMap((b) => b.matches);
  const diverged = bySize.flatMap((b) => b.diverged.map((d) => `${b.size} at lr ${b.bestLr}: ${d}`));
  const rule = "an α₀ that diverges at the picked lr refutes the claim; else every α₀ must match the grid's best α₀ (paired test accuracy, all parts)";
  if (diverged.length) return { outcome: "not supported", reason: `${diverged.join("; ")}; rule: ${rule}`, parts, rule };
  const noRef = bySize.filter((b) => b.reference === undefined).map((b) => b.size);
  if (noRef.length) return { outcome: "not testable", reason: `no α₀ learned on the grid at the picked lr for ${noRef.join(", ")}`, parts, rule };
  const v = allOf(parts, rules);
  return { ...v, rule: `${rule}; ${v.rule}` };
}
