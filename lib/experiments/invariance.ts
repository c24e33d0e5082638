/**
 * Reviewer question "R-invariance": LayerNorm's rescaling invariances are
 * gone in DyT (only DyT_a(c x) = DyT_(c a)(x) remains). Does that matter?
 * Part 1 measures the invariances numerically (invariance-numeric.ts). Part 2
 * trains LN and DyT ViTs on Fashion-MNIST whose input images are multiplied
 * by 0.1, 1 or 10 (a data transform; same seeds, same schedule) and compares
 * the final accuracy per input scale.
 */
import { loadFashionMnist } from "../data/fashion-mnist";
import type { ImageDataset } from "../data/dataset";
import { withinNoise } from "../analysis/stats";
import { ViT, type ViTConfig } from "../models/vit";
import type { NormKind } from "../norms/types";
import { evaluate, train, type LogLine, type TrainConfig } from "../train/trainer";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { meanStd } from "./stats-lite";
import { invarianceTable, type InvarianceOptions, type InvarianceRow } from "./invariance-numeric";
import { VIT_SMALL } from "./sizes";
import type { TrainedRunResult } from "./protocol/legacy";

export const INVARIANCE = "invariance";

export interface InvarianceConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  norms: NormKind[];
  /** Multipliers applied to the (already standardised) input images. */
  inputScales: number[];
  seeds: number[];
  trainLimit: number;
  testLimit: number;
  numeric: InvarianceOptions;
}


export const INVARIANCE_SCALES: Record<Scale, InvarianceConfig> = {
  smoke: {
    model: VIT_SMALL,
    train: { steps: 15, batchSize: 32, warmupSteps: 3, evalEvery: 15, evalLimit: 256, logEvery: 5, checkpointEvery: 0, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    seeds: [1],
    trainLimit: 1000,
    testLimit: 300,
    numeric: { rows: 64, dim: 64, inDim: 64, seed: 0 },
  },
  quick: {
    model: VIT_SMALL,
    train: { steps: 200, batchSize: 64, warmupSteps: 20, evalEvery: 50, evalLimit: 1000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    seeds: [1, 2],
    trainLimit: 20000,
    testLimit: 2000,
    numeric: { rows: 64, dim: 64, inDim: 64, seed: 0 },
  },
  full: {
    model: VIT_SMALL,
    train: { steps: 500, batchSize: 64, warmupSteps: 40, evalEvery: 100, evalLimit: 2000, logEvery: 10, checkpointEvery: 250, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    seeds: [1, 2, 3],
    trainLimit: 20000,
    testLimit: 0,
    numeric: { rows: 64, dim: 64, inDim: 64, seed: 0 },
  },
};

/** A copy of `ds` with every pixel value multiplied by `c` (the normalisation record says so). */
export function scaleImages(ds: ImageDataset, c: number): ImageDataset {
  if (!(Number.isFinite(c) && c > 0)) throw new Error(`scaleImages: the input scale must be a positive number, got ${c}`);
  if (c === 1) return ds;
  const images = new Float32Array(ds.images.length);
  for (let i = 0; i < images.length; i++) images[i] = ds.images[i]! * c;
  return { ...ds, images, normalization: { ...ds.normalization, kind: `${ds.normalization.kind} x${c}` } };
}

export type ScaledRunResult = TrainedRunResult;

/** Train one ViT with `norm` on images multiplied by `inputScale`; test on equally scaled test images. */
export async function runScaledOne(cfg: InvarianceConfig, norm: NormKind, inputScale: number, seed: number, runDir: string | undefined, label: string): Promise<ScaledRunResult> {
  const trainSet = scaleImages(loadFashionMnist({ split: "train", limit: cfg.trainLimit || undefined }), inputScale);
  const val = scaleImages(loadFashionMnist({ split: "val", limit: cfg.train.evalLimit || undefined }), inputScale);
  const test = scaleImages(loadFashionMnist({ split: "test", limit: cfg.testLimit || undefined }), inputScale);
  const model = new ViT({ ...cfg.model, norm, seed });
  try {
    const r = await train(model, { train: trainSet, eval: val }, { ...cfg.train, seed }, { runDir, label });
    return {
      status: r.status,
      diverged: r.diverged,
      log: r.log,
      evals: r.evals,
      test: r.status === "completed" ? evaluate(model, test, 0, 250) : undefined,
      msPerStep: r.msPerStep,
      trainWallTimeSec: r.wallTimeSec,
    };
  } finally {
    model.dispose();
  }
}

export interface ScaleCell {
  norm: NormKind;
  inputScale: number;
  testAcc: { mean: number; std: number; n: number };
  /** Mean train loss over the last 10% of logged steps, mean over seeds. */
  finalLoss: number;
  diverged: number;
  /** Versus the same norm at input scale 1: difference of mean test accuracy (points) and whether it is within seed noise (Welch, 2 SE). */
  vsUnit?: { diff: number; within: boolean; se: number };
}

export interface InvarianceSummary {
  experiment: string;
  scale: Scale;
  numeric: InvarianceRow[];
  numericPass: boolean;
  cells: ScaleCell[];
  /** Per norm: max - min of the mean test accuracy over the input scales (points). */
  spread: { norm: NormKind; points: number }[];
  verdict: string;
  statement: string;
}

function finalLoss(log: LogLine[]): number {
  const ok = log.filter((l) => Number.isFinite(l.loss));
  const tail = ok.slice(Math.floor(ok.length * 0.9));
  return tail.length ? tail.reduce((a, l) => a + l.loss, 0) / tail.length : NaN;
}

export function summarizeInvariance(scale: Scale, numeric: InvarianceRow[], records: RunRecord<InvarianceConfig, ScaledRunResult>[]): InvarianceSummary {
  const normOf = (r: RunRecord<InvarianceConfig, ScaledRunResult>) => r.config.norms[0]!;
  const scaleOf = (r: RunRecord<InvarianceConfig, ScaledRunResult>) => r.config.inputScales[0]!;
  const accs = (norm: NormKind, s: number) => records.filter((r) => normOf(r) === norm && scaleOf(r) === s && r.result.test).map((r) => 100 * r.result.test!.acc);
  const norms = [...new Set(records.map(normOf))];
  const scales = [...new Set(records.map(scaleOf))].sort((a, b) => a - b);
  const cells: ScaleCell[] = [];
  for (const norm of norms) {
    for (const s of scales) {
      const rs = records.filter((r) => normOf(r) === norm && scaleOf(r) === s);
      const a = accs(norm, s);
      const cell: ScaleCell = {
        norm,
        inputScale: s,
        testAcc: meanStd(a),
        finalLoss: meanStd(rs.map((r) => finalLoss(r.result.log)).filter(Number.isFinite)).mean,
        diverged: rs.filter((r) => r.result.status === "diverged").length,
      };
      const unit = accs(norm, 1);
      if (s !== 1 && a.length && unit.length && a.length + unit.length >= 3) {
        const t = withinNoise(a, unit);
        cell.vsUnit = { diff: t.diff, within: t.within, se: t.se };
      }
      cells.push(cell);
    }
  }
  const spread = norms.map((norm) => {
    const m = cells.filter((c) => c.norm === norm && c.testAcc.n > 0).map((c) => c.testAcc.mean);
    return { norm, points: m.length ? Math.max(...m) - Math.min(...m) : NaN };
  });
  const numericPass = numeric.length > 0 && numeric.every((r) => r.pass);
  const { verdict, statement } = invarianceVerdict(numeric, cells, spread);
  return { experiment: INVARIANCE, scale, numeric, numericPass, cells, spread, verdict, statement };
}

/**
 * Verdict rule: supported when (a) every numerical invariance matches theory,
 * (b) LayerNorm's accuracy at every input scale is within seed noise of its
 * accuracy at scale 1 (or a diverged run counts as "not within"), and (c) DyT's
 * is not, at least at one scale (a drop beyond noise or a divergence), with a
 * larger spread than LN's. Without a noise estimate (one seed): not testable.
 */
export function invarianceVerdict(numeric: InvarianceRow[], cells: ScaleCell[], spread: { norm: NormKind; points: number }[]): { verdict: string; statement: string } {
  const failed = numeric.filter((r) => !r.pass);
  const numText = failed.length
    ? `Numerically, ${failed.length} of ${numeric.length} (norm, transform) pairs contradict the theory: ${failed.map((r) => `${r.norm}/${r.transform} rel=${r.rel.toExponential(1)}`).join("; ")}.`
    : `Numerically all ${numeric.length} (norm, transform) pairs match the theory (LN: rel < 1e-5 for W/b rescale, W re-centering, per-example rescale; RMSNorm loses re-centering; DyT none, except DyT_a(cx) = DyT_(ca)(x)).`;
  const fmt = (norm: NormKind) =>
    cells
      .filter((c) => c.norm === norm)
      .map((c) => `x${c.inputScale}: ${c.testAcc.n ? c.testAcc.mean.toFixed(1) : "-"}%${c.diverged ? ` (${c.diverged} diverged)` : ""}`)
      .join(", ");
  const sp = (norm: NormKind) => spread.find((s) => s.norm === norm)?.points ?? NaN;
  const trainText = `Test accuracy by input scale, LN: ${fmt("layernorm")} (spread ${sp("layernorm").toFixed(1)} pts); DyT: ${fmt("dyt")} (spread ${sp("dyt").toFixed(1)} pts).`;
  const off = (norm: NormKind) => cells.filter((c) => c.norm === norm && c.inputScale !== 1);
  const tested = (norm: NormKind) => off(norm).length > 0 && off(norm).every((c) => c.vsUnit || c.diverged > 0);
  if (!tested("layernorm") || !tested("dyt")) return { verdict: "not testable at this scale", statement: `${numText} ${trainText} Too few seeds for a noise estimate.` };
  const moved = (c: ScaleCell) => c.diverged > 0 || (c.vsUnit !== undefined && !c.vsUnit.within);
  const lnMoved = off("layernorm").filter(moved);
  const dytMoved = off("dyt").filter(moved);
  const lnInsensitive = lnMoved.length === 0;
  const dytSensitive = dytMoved.length > 0 && sp("dyt") > sp("layernorm");
  const verdict = failed.length === 0 && lnInsensitive && dytSensitive ? "supported" : "not supported";
  const why =
    verdict === "supported"
      ? "LN training is insensitive to the input scale (within seed noise) while DyT's is not."
      : `${lnInsensitive ? "LN stays within noise" : `LN moves beyond noise at x${lnMoved.map((c) => c.inputScale).join(", x")}`}; ${dytMoved.length ? `DyT moves beyond noise at x${dytMoved.map((c) => c.inputScale).join(", x")}` : "DyT stays within noise at every scale"}.`;
  return { verdict, statement: `${numText} ${trainText} ${why}` };
}

export async function runInvariance(ctx: ExperimentContext, override: Partial<InvarianceConfig> = {}): Promise<{ records: RunRecord<InvarianceConfig, ScaledRunResult>[]; numeric: InvarianceRow[]; summary: InvarianceSummary }> {
  const cfg: InvarianceConfig = { ...INVARIANCE_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? cfg.seeds;
  // The numerical table is cheap; it is cached like a run so it carries provenance.
  const num = await cachedRun(INVARIANCE, ctx, "numeric", cfg.numeric.seed ?? 0, { numeric: cfg.numeric }, async () => invarianceTable(cfg.numeric));
  const records: RunRecord<InvarianceConfig, ScaledRunResult>[] = [];
  for (const seed of seeds) {
    for (const inputScale of cfg.inputScales) {
      for (const norm of cfg.norms) {
        const run = `${norm}-x${inputScale}-s${seed}`;
        const runCfg = { ...cfg, norms: [norm], inputScales: [inputScale], seeds: [seed] };
        records.push(await cachedRun(INVARIANCE, ctx, run, seed, runCfg, (dir) => runScaledOne(runCfg, norm, inputScale, seed, dir, `${INVARIANCE}/${ctx.scale}/${run}`)));
      }
    }
  }
  const summary = summarizeInvariance(ctx.scale, num.result, records);
  saveSummary(INVARIANCE, ctx.scale, summary);
  return { records, numeric: num.result, summary };
}
