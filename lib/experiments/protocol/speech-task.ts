/**
 * The speech training path of the runner (task "speech-pretrain"): a small
 * wav2vec 2.0 (lib/models/wav2vec.ts), its transformer norm slots (block
 * norms, the feature norm, the encoder's final norm) filled by the arm, its
 * conv feature encoder's norms by `model.convNorm` (a property of the base,
 * the same for both arms), self-supervised on 1 s windows of the speech train
 * split (lib/data/speech.ts: split by speaker group, never by clip). During
 * training it is scored on validation pretraining loss (lr tuning, plateau),
 * at the end on test pretraining loss (the claim) with the contrastive
 * accuracy, codebook perplexity and the share of distractors equal to their
 * target beside it; then a language-ID linear probe (lib/train/probe.ts) on
 * the frozen model's mean-pooled context features, and the same probe on the
 * model at initialisation (same seed) as its reference.
 *
 * The probe's split: "by-source" (the design) trains on the asterisk IVR
 * voices and tests on the other sources, so it must carry across recording
 * conditions; "alternate" splits the IVR windows alternately, for subsets
 * that hold no other source (the "tiny" subset of the smoke scale), a
 * pipeline check only.
 *
 * `resolveSpeechRun` writes every default out (data, probe, model, training),
 * so the resolved config is a complete cache key. Exact resume and the leak
 * check come from the trainer (the task redraws masks, distractors and Gumbel
 * noise from the seed and the batch's indices); the probe is deterministic.
 */
import * as tf from "@tensorflow/tfjs";
import { DatasetFileError } from "../../data/fashion-mnist";
import { SPEECH_LID_LANGS, SPEECH_SAMPLE_RATE, SPEECH_SUBSETS, gatherLanguageId, loadSpeechLanguageId, loadSpeechWindows, speechCacheDir, speechCacheReady, speechSourceKey, type SpeechSubset, type SpeechWindows } from "../../data/speech";
import { alphaTraceHook } from "../../hooks/alpha";
import { WAV2VEC_DEFAULTS, Wav2Vec2, drawWav2VecBatch, resolveWav2VecConfig, wav2vecFrames, type Wav2VecConfig } from "../../models/wav2vec";
import { resolveNormOptions } from "../../norms/factory";
import type { NormKind, NormOptions } from "../../norms/types";
import { extractFeatures, linearProbe, type ProbeResult } from "../../train/probe";
import { evaluateWav2Vec, wav2vecPretrainTask, type Wav2VecEval } from "../../train/speech-task";
import type { TrainTask } from "../../train/task";
import { train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import { dataDir } from "../../util/paths";
import { Rng } from "../../util/rng";
import type { Arm } from "./arms";
import { readNorms, type NormReading } from "./image-probe";
import { trainedFields } from "./trained";
// task.ts imports this module: only type imports from it here (no import cycle at load time).
import type { TrainedRunResult } from "./task";

export interface SpeechDataConfig {
  dataset: "speech";
  /** A subset name of lib/data/speech.ts ("all", "tiny", ...) or package names. */
  packages: SpeechSubset | string[];
  /** Clips kept per speaker group (0 = all; smoke runs keep a few). */
  maxClipsPerGroup: number;
  /** Samples per window (16,000 = 1 s at 16 kHz). */
  windowSamples: number;
  /** Test windows scored for the final loss, evenly spread over the test split (0 = all). */
  testLimit: number;
}

export const SPEECH_DATA_DEFAULTS: Omit<SpeechDataConfig, "dataset"> = { packages: "all", maxClipsPerGroup: 0, windowSamples: SPEECH_SAMPLE_RATE, testLimit: 0 };

/** The language-ID linear probe on frozen features. */
export interface SpeechProbeConfig {
  /** Probe at all (a scale may leave it out and say why). */
  enabled: boolean;
  /** "by-source": train on IVR voices, test on the other sources (the design); "alternate": IVR windows split alternately (subsets without other sources). */
  split: "by-source" | "alternate";
  /** At most this many windows per language on each side (evenly spread; balances the classes; 0 = all). */
  perClass: number;
  /** linearProbe: full-batch Adam steps, lr, L2 on the weights. */
  steps: number;
  lr: number;
  l2: number;
  /** Windows per forward pass of the feature extraction. */
  batchSize: number;
  /** Also probe the model at initialisation (same seed): the reference for what pretraining bought. */
  init: boolean;
}

export const SPEECH_PROBE_DEFAULTS: SpeechProbeConfig = { enabled: true, split: "by-source", perClass: 200, steps: 300, lr: 0.05, l2: 1e-3, batchSize: 32, init: true };

/**
 * Norm readings (wav2vec-scurves): every norm of the model read on a fixed
 * batch of validation windows (the first `windows` of the split, spread
 * evenly) with protocol/image-probe.ts's readNorms, on the model at
 * initialisation (a fresh model of the same config and seed) and at the end.
 * Reading runs a forward pass outside training, so it cannot change the run.
 */
export interface SpeechReadingConfig {
  windows: number;
  /** Seed of the token sample of each layer. */
  seed: number;
  /** Tokens (time steps) kept per layer for the fits. */
  maxRows: number;
  /** Tokens per layer kept for scatter plots. */
  plotTokens: number;
}

/** Everything that determines a speech run's result, every default written out: the cache key and the saved config. */
export interface SpeechResolvedRun {
  task: "speech-pretrain";
  arm: string;
  data: SpeechDataConfig;
  probe: SpeechProbeConfig;
  model: Wav2VecConfig & { convNorm: NormKind };
  /** The norm options in effect, defaults filled. */
  normResolved: NormOptions;
  train: TrainConfig;
  /** Norm readings at init and at the end; absent = none (so runs without them keep their cache keys). */
  readings?: SpeechReadingConfig;
}

/** The shared part of a speech run's config at one scale, before an arm and a seed are applied. */
export interface SpeechRunBase {
  task: "speech-pretrain";
  /** `convNorm` is required: which norm the conv feature encoder keeps is a protocol decision, stated by the experiment. */
  model: Partial<Wav2VecConfig> & { convNorm: NormKind };
  train: Partial<TrainConfig>;
  data: Partial<Omit<SpeechDataConfig, "dataset">>;
  probe?: Partial<SpeechProbeConfig>;
  readings?: SpeechReadingConfig;
}

/** One linear probe's scores (accuracies in [0, 1]). */
export type SpeechProbeScores = ProbeResult;

export interface SpeechProbeResult extends SpeechProbeScores {
  split: SpeechProbeConfig["split"];
  nTrain: number;
  nTest: number;
  numClasses: number;
  featureDim: number;
  /** The same probe on the model at initialisation (probe.init). */
  init?: SpeechProbeScores;
}

export interface SpeechRunResult extends TrainedRunResult {
  /** Final scores on the scored test windows: loss = the objective's total (nats), acc = fairseq's contrastive accuracy, strictAcc = ties lost, and the codebook's state. */
  test?: Wav2VecEval;
  /** The language-ID probe on frozen features (completed runs with probe.enabled). */
  probe?: SpeechProbeResult;
  /** DyT alpha per layer at the end of training (DyT models only). */
  finalAlpha?: Record<string, number>;
  params: number;
  /** With `readings` in the config: every norm read at init and (completed runs) at the end. */
  readings?: NormReading[];
}

export function isSpeechBase(b: object): b is SpeechRunBase {
  return (b as Partial<SpeechRunBase>).task === "speech-pretrain";
}

/** The fully resolved config of arm `a` at `seed` on a speech base (every default written out: the cache key). */
export function resolveSpeechRun(base: SpeechRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<Wav2VecConfig>; train?: Partial<TrainConfig> } = {}): SpeechResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a LLaMA language-model arm; a speech run takes norm arms (e.g. "${a.norm}")`);
  if (a.method || a.placement) throw new Error(`arm "${a.id}" sets a residual method or a placement, which only the ViT has; wav2vec runs take norm arms`);
  const pk = base.data.packages ?? SPEECH_DATA_DEFAULTS.packages;
  const data: SpeechDataConfig = { dataset: "speech", ...SPEECH_DATA_DEFAULTS, ...base.data, packages: typeof pk === "string" ? pk : [...pk] };
  if (typeof data.packages === "string" && !(data.packages in SPEECH_SUBSETS)) throw new Error(`speech-pretrain task: unknown subset "${data.packages}"; valid: ${Object.keys(SPEECH_SUBSETS).join(", ")}, or a list of package names`);
  for (const k of ["maxClipsPerGroup", "testLimit"] as const) if (!Number.isInteger(data[k]) || data[k] < 0) throw new Error(`speech-pretrain task: ${k} must be a non-negative integer (0 = all), got ${data[k]}`);
  const probe: SpeechProbeConfig = { ...SPEECH_PROBE_DEFAULTS, ...base.probe };
  if (probe.split !== "by-source" && probe.split !== "alternate") throw new Error(`speech-pretrain task: probe.split must be "by-source" or "alternate", got "${String(probe.split)}"`);
  if (!Number.isInteger(probe.perClass) || probe.perClass < 0) throw new Error(`speech-pretrain task: probe.perClass must be a non-negative integer (0 = all), got ${probe.perClass}`);
  for (const k of ["steps", "batchSize"] as const) if (!Number.isInteger(probe[k]) || probe[k] < 1) throw new Error(`speech-pretrain task: probe.${k} must be a positive integer, got ${probe[k]}`);
  const m = resolveWav2VecConfig({ ...base.model, ...overrides.model, norm: a.norm, normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions }, seed });
  const model = { ...m, convNorm: overrides.model?.convNorm ?? base.model.convNorm };
  // A trial draw throws, naming the fix, when the windows are too short for the conv stack or for two masked steps.
  drawWav2VecBatch(model, 1, wav2vecFrames(model, data.windowSamples), new Rng(0), { gumbel: false });
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const rd = base.readings;
  if (rd && !(Number.isInteger(rd.windows) && rd.windows >= 1 && Number.isInteger(rd.maxRows) && rd.maxRows >= 1 && Number.isInteger(rd.plotTokens) && rd.plotTokens >= 0 && Number.isInteger(rd.seed)))
    throw new Error(`speech-pretrain task: readings.windows and readings.maxRows must be positive integers, plotTokens a non-negative one, seed an integer; got ${JSON.stringify(rd)}`);
  const readings = rd ? { readings: { windows: rd.windows, seed: rd.seed, maxRows: rd.maxRows, plotTokens: rd.plotTokens } } : {};
  return { task: "speech-pretrain", arm: a.id, data, probe, model, normResolved: resolveNormOptions(model.norm, model.normOptions), train: trainCfg, ...readings };
}

/** Run `load`, naming the task in front of a data error (whose message already names the fix). */
function loading<T>(what: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof DatasetFileError) e.message = `speech-pretrain task: cannot load ${what}: ${e.message}`;
    throw e;
  }
}

/** The speech loader's source options of a data config (no clip cap: the option left out). */
export const speechSourceOpts = (d: Pick<SpeechDataConfig, "packages" | "maxClipsPerGroup">) => ({ packages: d.packages, ...(d.maxClipsPerGroup > 0 ? { maxClipsPerGroup: d.maxClipsPerGroup } : {}) });

let windowCache: { key: string; train: SpeechWindows; val: SpeechWindows; test: SpeechWindows } | undefined;
/** The train / val / test windows of a data config (all of them), kept in memory across the runs of one process. */
export function speechSplits(d: Pick<SpeechDataConfig, "packages" | "maxClipsPerGroup" | "windowSamples">): { train: SpeechWindows; val: SpeechWindows; test: SpeechWindows } {
  const key = JSON.stringify([dataDir(), process.env.DYT_SPEECH_DEB_DIR ?? "", d.packages, d.maxClipsPerGroup, d.windowSamples]);
  if (windowCache?.key !== key) {
    const o = { ...speechSourceOpts(d), windowSamples: d.windowSamples };
    windowCache = loading("the speech splits", () => ({
      key,
      train: loadSpeechWindows({ ...o, split: "train" }),
      val: loadSpeechWindows({ ...o, split: "val" }),
      test: loadSpeechWindows({ ...o, split: "test" }),
    }));
  }
  return windowCache;
}

/** A recorded count of training windows: the subset (speechSourceKey), the window length, the count. */
export interface RecordedSpeechWindows {
  source: string;
  windowSamples: number;
  train: number;
}

/**
 * Training windows of the data config the committed wav2vec results use
 * (every package, no clip cap, 1 s windows), recorded from the built set on
 * 2026-12-05. A job's step count (a budget in epochs) needs only this number,
 * so a fresh clone that reads those results with --cached-only (the report,
 * the verdict-robustness test) does not build 8.5 h of audio (~4-7 min).
 * Whenever the set is built, speechTrainWindows checks the count against it.
 */
export const RECORDED_SPEECH_TRAIN_WINDOWS: readonly RecordedSpeechWindows[] = [{ source: "37870b45023fc47b", windowSamples: 16000, train: 30538 }];

/**
 * Training windows of a speech base (its "examples": budgets in epochs are
 * over these): the recorded count while the set is not built, else counted
 * from the set, which must then equal any recorded count.
 */
export function speechTrainWindows(base: SpeechRunBase, recorded: readonly RecordedSpeechWindows[] = RECORDED_SPEECH_TRAIN_WINDOWS): number {
  const d = { ...SPEECH_DATA_DEFAULTS, ...base.data };
  const o = speechSourceOpts(d);
  const source = speechSourceKey(o);
  const rec = recorded.find((r) => r.source === source && r.windowSamples === d.windowSamples);
  if (rec && !speechCacheReady(o)) return rec.train;
  const n = speechSplits(d).train.n;
  if (rec && rec.train !== n)
    throw new Error(
      `speech-pretrain task: the built speech set (${speechCacheDir(o)}) has ${n} training windows of ${d.windowSamples} samples, but ${rec.train} are recorded for it ` +
        `(RECORDED_SPEECH_TRAIN_WINDOWS in lib/experiments/protocol/speech-task.ts), so the committed runs' step counts do not fit it; rebuild the set (delete that folder) or, if its sources really changed, record the new count`,
    );
  return n;
}

/** The first `limit` of a split's windows when they are spread evenly (limit 0 = all): a view, no copy. */
export function spreadWindows(w: SpeechWindows, limit: number): SpeechWindows {
  if (limit <= 0 || limit >= w.n) return w;
  const idx = Int32Array.from({ length: limit }, (_, i) => Math.floor(((i + 0.5) * w.n) / limit));
  return { ...w, n: limit, starts: idx.map((i) => w.starts[i]!), group: idx.map((i) => w.group[i]!), read: (i, out, offset) => w.read(idx[i]!, out, offset) };
}

/** What the trainer trains a run on: wav2vec pretraining on every train window, evaluated on its validation windows (train.evalLimit, spread evenly). */
export function speechRunTask(r: SpeechResolvedRun): TrainTask {
  const d = speechSplits(r.data);
  return wav2vecPretrainTask(d.train, spreadWindows(d.val, r.train.evalLimit), r.model, { seed: r.train.seed });
}

/** The probe's labelled windows: [n, W] waves and language labels, train and test sides. */
export interface SpeechProbeSplits {
  train: { x: Float32Array; y: Int32Array; n: number };
  test: { x: Float32Array; y: Int32Array; n: number };
  windowSamples: number;
}

export function speechProbeSplits(d: SpeechDataConfig, p: SpeechProbeConfig): SpeechProbeSplits {
  const o = { ...speechSourceOpts(d), windowSamples: d.windowSamples, ...(p.perClass > 0 ? { perClass: p.split === "alternate" ? 2 * p.perClass : p.perClass } : {}) };
  return loading("the language-ID probe windows", () => {
    if (p.split === "by-source") {
      const tr = gatherLanguageId(loadSpeechLanguageId({ ...o, side: "ivr" }));
      const te = gatherLanguageId(loadSpeechLanguageId({ ...o, side: "other" }));
      if (tr.n === 0 || te.n === 0) throw new Error(`speech-pretrain task: the by-source probe needs IVR and other-source windows, got ${tr.n} and ${te.n} (subset ${JSON.stringify(d.packages)}); use probe.split "alternate" for IVR-only subsets`);
      return { train: tr, test: te, windowSamples: d.windowSamples };
    }
    const all = gatherLanguageId(loadSpeechLanguageId({ ...o, side: "ivr" }));
    const W = all.windowSamples;
    const half = (odd: number) => {
      const ids = Array.from({ length: all.n }, (_, i) => i).filter((i) => i % 2 === odd);
      const x = new Float32Array(ids.length * W);
      ids.forEach((i, k) => x.set(all.x.subarray(i * W, (i + 1) * W), k * W));
      return { x, y: Int32Array.from(ids.map((i) => all.y[i]!)), n: ids.length };
    };
    return { train: half(0), test: half(1), windowSamples: W };
  });
}

/** The language-ID probe of a frozen model on mean-pooled context features. */
export function probeSpeechModel(model: Wav2Vec2, p: SpeechProbeConfig, s: SpeechProbeSplits): SpeechProbeScores & { featureDim: number } {
  const ftr = extractFeatures(model, s.train.x, s.train.n, s.windowSamples, { batchSize: p.batchSize });
  const fte = extractFeatures(model, s.test.x, s.test.n, s.windowSamples, { batchSize: p.batchSize });
  const r = linearProbe({ feats: ftr.feats, labels: s.train.y }, { feats: fte.feats, labels: s.test.y }, ftr.dim, SPEECH_LID_LANGS.length, { steps: p.steps, lr: p.lr, l2: p.l2 });
  return { ...r, featureDim: ftr.dim };
}

/** "wav2vec 2.0 (7 convs x 32 ch, LayerNorm in the conv encoder), width 64, depth 2; ... 1 s windows of the train split: ..." */
export function describeSpeechBase(base: SpeechRunBase, steps: number): string {
  const m = { ...WAV2VEC_DEFAULTS, ...base.model };
  const data = { ...SPEECH_DATA_DEFAULTS, ...base.data };
  const probe = { ...SPEECH_PROBE_DEFAULTS, ...base.probe };
  const t = { ...TRAIN_DEFAULTS, ...base.train };
  const windows = speechTrainWindows(base);
  const secs = data.windowSamples / SPEECH_SAMPLE_RATE;
  const subset = typeof data.packages === "string" ? `the "${data.packages}" speech subset` : `speech packages ${data.packages.join(", ")}`;
  const sched = t.minLrRatio === 1 ? "warmup + constant lr" : "5 % warmup + cosine";
  const probeText = probe.enabled
    ? `language-ID linear probe (${SPEECH_LID_LANGS.length} languages, ${probe.split === "by-source" ? "trained on IVR voices, tested on the other sources" : "IVR windows split alternately (pipeline check)"}, <= ${probe.perClass || "all"} windows per language)`
    : "no probe";
  return (
    `wav2vec 2.0 (${m.convLayers.length} convs x ${m.convLayers[0]![0]} channels, ${base.model.convNorm} in the conv encoder), width ${m.dim}, depth ${m.depth}, quantizer ${m.quantGroups} x ${m.quantEntries}, K = ${m.numNegatives} distractors; ` +
    `self-supervised on ${secs} s windows of ${subset}${data.maxClipsPerGroup ? ` (<= ${data.maxClipsPerGroup} clips per group)` : ""}: ${steps} steps, batch ${t.batchSize} (${((steps * t.batchSize) / windows).toFixed(2)} epoch of ${windows.toLocaleString("en")} windows); AdamW, ${sched}; ${probeText}`
  );
}

/** The readings' batch: the first `n` validation windows spread evenly, as a [n, W] wave. */
export function readingWaves(d: SpeechWindows, n: number): tf.Tensor2D {
  const v = spreadWindows(d, n);
  const W = v.windowSamples;
  const x = new Float32Array(v.n * W);
  for (let i = 0; i < v.n; i++) v.read(i, x, i * W);
  return tf.tensor2d(x, [v.n, W]);
}

/** Read every norm of a wav2vec on the readings' batch (LayerNorm models are fitted too: tanh vs line). */
function readSpeechNorms(model: Wav2Vec2, wave: tf.Tensor, r: SpeechResolvedRun, step: number): NormReading {
  const rd = r.readings!;
  const eps = r.model.norm === "layernorm" ? r.normResolved.eps : undefined;
  return readNorms(model, wave, { images: rd.windows, seed: rd.seed, maxRows: rd.maxRows, plotTokens: rd.plotTokens }, step, eps);
}

/** Train one wav2vec 2.0; validation loss during training, test loss and the probe at the end. */
export async function runSpeechTask(r: SpeechResolvedRun, runDir: string | undefined, label: string): Promise<SpeechRunResult> {
  const d = speechSplits(r.data);
  const probeSplits = r.probe.enabled ? speechProbeSplits(r.data, r.probe) : undefined;
  const model = new Wav2Vec2(r.model);
  try {
    const res = await train(model, speechRunTask(r), r.train, { runDir, hooks: [alphaTraceHook()], label });
    if (res.status !== "completed") return trainedFields(res, model);
    // Test draws from a fixed seed, independent of the run's: every run is scored on the same masks and distractors.
    const test = evaluateWav2Vec(model, spreadWindows(d.test, r.data.testLimit), r.model, 0, r.train.evalBatchSize);
    // One model at initialisation (same config and seed: the weights this run started from) serves the probe's and the readings' references.
    const fresh = (probeSplits && r.probe.init) || r.readings ? new Wav2Vec2(r.model) : undefined;
    try {
      let probe: SpeechProbeResult | undefined;
      if (probeSplits) {
        const { featureDim, ...scores } = probeSpeechModel(model, r.probe, probeSplits);
        let init: SpeechProbeScores | undefined;
        if (r.probe.init) {
          const { featureDim: _f, ...s } = probeSpeechModel(fresh!, r.probe, probeSplits);
          void _f;
          init = s;
        }
        probe = { split: r.probe.split, ...scores, nTrain: probeSplits.train.n, nTest: probeSplits.test.n, numClasses: SPEECH_LID_LANGS.length, featureDim, ...(init ? { init } : {}) };
      }
      let readings: NormReading[] | undefined;
      if (r.readings) {
        const wave = readingWaves(d.val, r.readings.windows);
        try {
          readings = [readSpeechNorms(fresh!, wave, r, 0), readSpeechNorms(model, wave, r, res.stepsDone)];
        } finally {
          wave.dispose();
        }
      }
      return { ...trainedFields(res, model), test, ...(probe ? { probe } : {}), ...(readings ? { readings } : {}) };
    } finally {
      fresh?.dispose();
    }
  } finally {
    model.dispose();
  }
}
