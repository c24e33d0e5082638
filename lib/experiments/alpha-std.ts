/**
 * Claim 4 (paper section 6.2, Figures 8-9): DyT's learned alpha tracks 1/std
 * of its layer's input, across layers and during training. We train DyT ViTs
 * (several seeds) and every K steps read each DyT layer's alpha and the std of
 * its input on a fixed probe batch; then correlate alpha_l with 1/std_l across
 * layers at each checkpoint (baselines.md "a vs 1/std").
 */
import type * as tf from "@tensorflow/tfjs";
import { loadFashionMnist } from "../data/fashion-mnist";
import { captureNorms } from "../hooks/capture";
import { ViT, type ViTConfig } from "../models/vit";
import { pearson, pearsonOverSeeds, logLogSlope, type PearsonOverSeeds } from "../analysis/stats";
import { evaluate, train, type Model, type TrainConfig, type TrainHook } from "../train/trainer";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { probeImages, type ProbeConfig } from "./scurves";
import { meanStd } from "./stats-lite";
import { VIT_SMALL, VIT_MAIN } from "./sizes";
import type { TrainedRunResult } from "./protocol/legacy";

export const ALPHA_STD = "alpha-std";

export interface AlphaStdConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  seeds: number[];
  trainLimit: number;
  testLimit: number;
  probe: ProbeConfig;
  /** Read alpha and the input stds every this many steps (a multiple of train.logEvery). */
  every: number;
}


export const ALPHA_STD_SCALES: Record<Scale, AlphaStdConfig> = {
  smoke: {
    model: { ...VIT_SMALL, norm: "dyt" },
    train: { steps: 20, batchSize: 32, warmupSteps: 4, evalEvery: 20, evalLimit: 256, logEvery: 5, checkpointEvery: 0, lr: 1e-3 },
    seeds: [1, 2],
    trainLimit: 2000,
    testLimit: 500,
    probe: { images: 16, seed: 7, maxRows: 256 },
    every: 5,
  },
  quick: {
    model: { ...VIT_MAIN, norm: "dyt" },
    train: { steps: 300, batchSize: 64, warmupSteps: 30, evalEvery: 100, evalLimit: 2000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    seeds: [1, 2],
    trainLimit: 0,
    testLimit: 2000,
    probe: { images: 64, seed: 7, maxRows: 256 },
    every: 30,
  },
  full: {
    model: { ...VIT_MAIN, norm: "dyt" },
    train: { steps: 600, batchSize: 64, warmupSteps: 50, evalEvery: 200, evalLimit: 2000, logEvery: 10, checkpointEvery: 200, lr: 1e-3 },
    seeds: [1, 2, 3],
    trainLimit: 0,
    testLimit: 0,
    probe: { images: 64, seed: 7, maxRows: 256 },
    every: 50,
  },
};

/** One reading of every norm layer: alpha (DyT only) and its input's spread on the probe batch. */
export interface AlphaStdPoint {
  /** Updates done when read (0 = init). */
  step: number;
  layers: string[];
  /** alpha per layer (NaN for layers without alpha, e.g. LayerNorm). */
  alpha: number[];
  /** Population std over ALL B*T*C elements of the layer's input (the primary measure). */
  std: number[];
  /** Mean over the sampled tokens of each token's std over channels (secondary). */
  tokenStd: number[];
}

/** Read alpha and input stds of every norm of `model` on the probe batch (one forward, no tensors kept). */
export function readAlphaStd(model: Model, probe: tf.Tensor, probeCfg: ProbeConfig, step: number): AlphaStdPoint {
  const caps = captureNorms(model, probe, { maxRows: probeCfg.maxRows, seed: probeCfg.seed });
  const alphaOf = new Map(model.norms().map((n) => [n.name, n.alpha ? n.alpha.dataSync()[0]! : NaN]));
  return {
    step,
    layers: caps.map((c) => c.layer),
    alpha: caps.map((c) => alphaOf.get(c.layer) ?? NaN),
    std: caps.map((c) => c.inputStd),
    tokenStd: caps.map((c) => meanTokenStd(c.input, c.rows, c.channels)),
  };
}

/** Mean over rows of the population std over each row's C values. */
export function meanTokenStd(x: ArrayLike<number>, rows: number, C: number): number {
  if (x.length !== rows * C) throw new Error(`meanTokenStd: ${x.length} values is not rows ${rows} x C ${C}`);
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += x[r * C + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c]! - m) ** 2;
    acc += Math.sqrt(v / C);
  }
  return acc / rows;
}

export interface AlphaStdRunResult extends TrainedRunResult {
  /** alpha / std readings, init first. */
  points: AlphaStdPoint[];
  /** 1/std of the inputs of the same-seed LayerNorm ViT at init (to compare with alpha0). */
  lnInit: AlphaStdPoint;
}

export async function runAlphaStdOne(cfg: AlphaStdConfig, seed: number, runDir: string | undefined, label: string): Promise<AlphaStdRunResult> {
  const logEvery = cfg.train.logEvery ?? 10;
  if (!(Number.isInteger(cfg.every) && cfg.every > 0 && cfg.every % logEvery === 0))
    throw new Error(`alpha-std: every (${cfg.every}) must be a positive multiple of train.logEvery (${logEvery}): the hook only runs on logged steps`);
  if (cfg.model.norm !== "dyt") throw new Error(`alpha-std: model.norm must be "dyt" (alpha is DyT's), got "${cfg.model.norm}"`);
  const trainSet = loadFashionMnist({ split: "train", limit: cfg.trainLimit || undefined });
  const val = loadFashionMnist({ split: "val" });
  const test = loadFashionMnist({ split: "test", limit: cfg.testLimit || undefined });
  const probe = probeImages(val, cfg.probe.images, cfg.probe.seed);
  const ln = new ViT({ ...cfg.model, norm: "layernorm", seed });
  let lnInit: AlphaStdPoint;
  try {
    lnInit = readAlphaStd(ln, probe, cfg.probe, 0);
  } finally {
    ln.dispose();
  }
  const model = new ViT({ ...cfg.model, seed });
  try {
    const init = readAlphaStd(model, probe, cfg.probe, 0);
    const steps = cfg.train.steps ?? 0;
    // The hook runs after the update of step s (s+1 updates done); the reading goes into the
    // metrics line, so it survives a resume from checkpoint.
    const hook: TrainHook = {
      name: "alpha-std",
      onLog(step, m) {
        if (step % cfg.every !== 0 && step !== steps - 1) return undefined;
        return { alphaStd: readAlphaStd(m, probe, cfg.probe, step + 1) };
      },
    };
    const r = await train(model, { train: trainSet, eval: val }, { ...cfg.train, seed }, { runDir, hooks: [hook], label });
    const points = [init, ...r.log.filter((l) => l.alphaStd).map((l) => l.alphaStd as AlphaStdPoint)];
    for (const l of r.log) delete l.alphaStd; // kept once, in points
    return {
      status: r.status,
      diverged: r.diverged,
      log: r.log,
      evals: r.evals,
      test: r.status === "completed" ? evaluate(model, test, 0, 250) : undefined,
      points,
      lnInit,
      msPerStep: r.msPerStep,
      trainWallTimeSec: r.wallTimeSec,
    };
  } finally {
    probe.dispose();
    model.dispose();
  }
}

/** The across-layer analysis at one checkpoint, over seeds. */
export interface AlphaStdCheckpoint {
  step: number;
  seeds: number;
  /** Pearson r of alpha_l vs 1/std_l across layers, per seed (NaN when all alphas are equal, as at init). */
  perSeedR: number[];
  meanR: number;
  /** Bootstrap CI over seeds of the mean per-seed r. */
  ci: [number, number];
  /** Pooled over seeds (Fisher CI). */
  pooledR: number;
  /** Mean over seeds of the log-log slope of alpha vs 1/std (1 = proportional). */
  logLogSlope: number;
  /** Same r with the mean per-token std instead of the population std. */
  meanRTokenStd: number;
  /**
   * Same r over the block norms only: the final norm sees just the class
   * token, whose scale differs from the patch tokens', and can dominate r.
   */
  meanRBlocks: number;
}

export interface AlphaStdSummary {
  experiment: string;
  scale: Scale;
  seeds: number[];
  alpha0: number;
  checkpoints: AlphaStdCheckpoint[];
  /** Per layer, over seeds: Pearson r over time of alpha_l(t) vs 1/std_l(t) (the "during training" part). */
  temporal: { layer: string; r: { mean: number; std: number; n: number } }[];
  /** alpha0 vs 1/std of the LayerNorm ViT's norm inputs at init, per layer (mean over seeds). */
  lnInit: { layer: string; invStd: number; alpha0: number }[];
  testAcc: { mean: number; std: number; n: number };
  diverged: number;
  verdict: string;
  statement: string;
}

const inv = (v: number[]) => v.map((s) => 1 / s);
const finite = (v: number[]) => v.filter(Number.isFinite);

/** Pearson r across layers of alpha vs 1/std for one reading; NaN when alpha does not vary. */
export function acrossLayerR(p: AlphaStdPoint, which: "std" | "tokenStd" = "std", blocksOnly = false): number {
  const keep = p.alpha.map((a, i) => (Number.isFinite(a) && (!blocksOnly || /^blocks\./.test(p.layers[i]!)) ? i : -1)).filter((i) => i >= 0);
  if (keep.length < 3) return NaN;
  return pearson(keep.map((i) => 1 / p[which][i]!), keep.map((i) => p.alpha[i]!)).r;
}

export function summarizeAlphaStd(scale: Scale, records: RunRecord<AlphaStdConfig, AlphaStdRunResult>[]): AlphaStdSummary {
  const ok = records.filter((r) => r.result.status === "completed");
  const alpha0 = records[0]?.config.model.normOptions?.alpha0 ?? 0.5;
  const steps = [...new Set(ok.flatMap((r) => r.result.points.map((p) => p.step)))].sort((a, b) => a - b);
  const checkpoints: AlphaStdCheckpoint[] = [];
  for (const step of steps) {
    const pts = ok.map((r) => r.result.points.find((p) => p.step === step)).filter((p): p is AlphaStdPoint => !!p);
    const perSeedR = pts.map((p) => acrossLayerR(p));
    if (!finite(perSeedR).length) {
      checkpoints.push({ step, seeds: pts.length, perSeedR, meanR: NaN, ci: [NaN, NaN], pooledR: NaN, logLogSlope: NaN, meanRTokenStd: NaN, meanRBlocks: NaN });
      continue;
    }
    const series = pts.map((p) => ({ x: inv(p.std), y: p.alpha }));
    const pos: PearsonOverSeeds = pearsonOverSeeds(series, { seed: 1 });
    const slopes = pts.map((p) => (p.alpha.every((a) => a > 0) ? logLogSlope(inv(p.std), p.alpha).slope : NaN));
    checkpoints.push({
      step,
      seeds: pts.length,
      perSeedR,
      meanR: pos.meanR,
      ci: [pos.bootstrap.lo, pos.bootstrap.hi],
      pooledR: pos.pooled.r,
      logLogSlope: meanStd(finite(slopes)).mean,
      meanRTokenStd: meanStd(finite(pts.map((p) => acrossLayerR(p, "tokenStd")))).mean,
      meanRBlocks: meanStd(finite(pts.map((p) => acrossLayerR(p, "std", true)))).mean,
    });
  }
  const layers = ok[0]?.result.points[0]?.layers ?? [];
  const temporal = layers.map((layer, i) => {
    const rs = ok.map((r) => {
      const pts = r.result.points.slice(1); // after init: alpha is constant at step 0 for every layer
      return pts.length >= 3 ? pearson(pts.map((p) => 1 / p.std[i]!), pts.map((p) => p.alpha[i]!)).r : NaN;
    });
    const m = meanStd(finite(rs));
    return { layer, r: m.n ? m : { mean: NaN, std: NaN, n: 0 } };
  });
  const lnInit = layers.map((layer, i) => ({ layer, invStd: meanStd(ok.map((r) => 1 / r.result.lnInit.std[i]!)).mean, alpha0 }));
  const testAcc = meanStd(ok.filter((r) => r.result.test).map((r) => 100 * r.result.test!.acc));
  const diverged = records.filter((r) => r.result.status === "diverged").length;
  const { verdict, statement: core } = alphaStdVerdict(checkpoints, temporal, lnInit, diverged);
  // How far alpha and 1/std spread across layers at the end: a small alpha range next to a wide
  // 1/std range means alpha has not (yet) followed the input scale, whatever r says.
  const finals = ok.map((r) => r.result.points.at(-1)!).filter((p) => p.step > 0);
  const perLayer = (f: (p: AlphaStdPoint, i: number) => number) => layers.map((_, i) => meanStd(finals.map((p) => f(p, i))).mean);
  const alphaEnd = perLayer((p, i) => p.alpha[i]!);
  const invEnd = perLayer((p, i) => 1 / p.std[i]!);
  const range = (v: number[]) => `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}`;
  const statement = finals.length && layers.length ? `${core} At the end, alpha spans ${range(alphaEnd)} across layers while 1/std spans ${range(invEnd)} (means over seeds).` : core;
  return { experiment: ALPHA_STD, scale, seeds: records.map((r) => r.seed), alpha0, checkpoints, temporal, lnInit, testAcc, diverged, verdict, statement };
}

/** Threshold on the mean across-layer r at the end of training for "alpha tracks 1/std". */
export const ALPHA_STD_MIN_R = 0.5;

/**
 * Verdict rule for claim 4: at the last checkpoint, the mean over seeds of the
 * across-layer Pearson r(alpha, 1/std) is > ALPHA_STD_MIN_R, every seed's r is
 * > 0 and the bootstrap CI over seeds lies above 0. Fewer than 3 seeds: not
 * testable (a CI over 2 seeds means nothing).
 */
export function alphaStdVerdict(
  checkpoints: AlphaStdCheckpoint[],
  temporal: { layer: string; r: { mean: number } }[],
  lnInit: { invStd: number; alpha0: number }[],
  diverged: number,
): { verdict: string; statement: string } {
  const last = checkpoints.at(-1);
  const tMean = meanStd(finite(temporal.map((t) => t.r.mean))).mean;
  const lnInv = lnInit.map((l) => l.invStd);
  const lnText = lnInv.length
    ? ` At init the LayerNorm ViT's norm inputs have 1/std ${Math.min(...lnInv).toFixed(2)}-${Math.max(...lnInv).toFixed(2)} across layers, vs alpha0 = ${lnInit[0]!.alpha0}.`
    : "";
  const div = diverged ? ` ${diverged} run(s) diverged and were left out.` : "";
  if (!last || !Number.isFinite(last.meanR))
    return { verdict: "not testable at this scale", statement: `No checkpoint with varying alpha across layers.${lnText}${div}` };
  const core =
    `At step ${last.step}, r(alpha, 1/std) across layers = ${last.meanR.toFixed(3)} (mean of ${last.seeds} seeds; per seed ${last.perSeedR.map((r) => r.toFixed(2)).join(", ")}; ` +
    `bootstrap CI [${last.ci[0].toFixed(2)}, ${last.ci[1].toFixed(2)}]); log-log slope ${last.logLogSlope.toFixed(2)}; with the per-token std r = ${last.meanRTokenStd.toFixed(3)}; block norms only (no final norm) r = ${last.meanRBlocks.toFixed(3)}. ` +
    `Over time, within a layer, r(alpha(t), 1/std(t)) averages ${tMean.toFixed(2)}.`;
  if (last.seeds < 3) return { verdict: "not testable at this scale", statement: `${core} Fewer than 3 seeds: no usable CI.${lnText}${div}` };
  const ok = last.meanR > ALPHA_STD_MIN_R && last.ci[0] > 0 && last.perSeedR.every((r) => r > 0);
  return ok
    ? { verdict: "supported", statement: `${core} alpha tracks 1/std across layers (r > ${ALPHA_STD_MIN_R}, CI above 0).${lnText}${div}` }
    : { verdict: "not supported", statement: `${core} Not supported by the rule (mean r > ${ALPHA_STD_MIN_R}, all seeds r > 0, CI above 0).${lnText}${div}` };
}

export async function runAlphaStd(ctx: ExperimentContext, override: Partial<AlphaStdConfig> = {}): Promise<{ records: RunRecord<AlphaStdConfig, AlphaStdRunResult>[]; summary: AlphaStdSummary }> {
  const cfg: AlphaStdConfig = { ...ALPHA_STD_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<AlphaStdConfig, AlphaStdRunResult>[] = [];
  for (const seed of seeds) {
    const run = `dyt-s${seed}`;
    const runCfg = { ...cfg, seeds: [seed] };
    records.push(await cachedRun(ALPHA_STD, ctx, run, seed, runCfg, (dir) => runAlphaStdOne(runCfg, seed, dir, `${ALPHA_STD}/${ctx.scale}/${run}`)));
  }
  const summary = summarizeAlphaStd(ctx.scale, records);
  saveSummary(ALPHA_STD, ctx.scale, summary);
  return { records, summary };
}
