/**
 * The DNA training path of the runner (task "dna-lm"): a HyenaDNA-style
 * decoder (lib/models/hyena.ts), its norm slots filled from the one factory
 * by the arm (LayerNorm / DyT ...), pretrained on next-nucleotide prediction
 * over windows of the train split of the 10 genomes (lib/data/dna.ts: split
 * by genome position, so no window touches the validation or test blocks).
 * During training it is scored on validation bits per nucleotide (lr tuning,
 * plateau), at the end on test bits per nucleotide (the pretraining verdict),
 * then a downstream linear probe (lib/train/probe.ts) on the frozen model's
 * mean-pooled features of a labelled task ("coding": 200 bp windows, coding
 * vs intergenic) gives the probe's test accuracy (the downstream verdict).
 * The same probe on the model at initialisation (same seed) is recorded as a
 * reference: how much of the downstream accuracy pretraining bought.
 *
 * Validation and test windows are spread evenly over the split's windows (all
 * genomes, in proportion to their size), not its first windows (which would
 * all come from the first genome). `resolveDnaRun` writes every default out,
 * so the resolved config is a complete cache key, as for the other tasks.
 * Exact resume and the per-step leak check come from the trainer; the probe
 * is deterministic (zero-initialised, full batch), so a resumed run probes to
 * the same accuracy.
 */
import * as tf from "@tensorflow/tfjs";
import { DNA_GENOMES, DNA_TASK_INFO, DNA_TASKS, DNA_VOCAB_SIZE, dnaWindowStarts, loadDnaPretrain, loadDnaTask, type DnaClassDataset, type DnaStream, type DnaTask } from "../../data/dna";
import { DatasetFileError } from "../../data/fashion-mnist";
import { alphaTraceHook } from "../../hooks/alpha";
import { HYENA_DEFAULTS, HyenaDNA, resolveHyenaConfig, type HyenaConfig } from "../../models/hyena";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { extractFeatures, linearProbe } from "../../train/probe";
import { windowedNextTokenTask, type TokenWindows, type TrainTask } from "../../train/task";
import { dataDir } from "../../util/paths";
import { train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import type { Arm } from "./arms";
import { trainedFields } from "./trained";
// task.ts imports this module: only type imports from it here (no import cycle at load time).
import type { TrainedRunResult } from "./task";

export interface DnaDataConfig {
  dataset: "dna";
  /** Genome ids of the pretraining stream (lib/data/dna.ts; default all 10). */
  genomes: string[];
  /** Bases per training window (the model's context). */
  seqLen: number;
  /** Training bases used per genome: the start of each genome's train block (0 = all). */
  trainBasesPerGenome: number;
  /** Test windows scored for the final bits per base, spread evenly over the test split (0 = all). */
  testLimit: number;
}

export const DNA_DATA_DEFAULTS: Omit<DnaDataConfig, "dataset" | "seqLen"> = { genomes: DNA_GENOMES.map((g) => g.id), trainBasesPerGenome: 0, testLimit: 0 };

/** The downstream linear probe on frozen features. */
export interface DnaProbeConfig {
  /** Labelled task (lib/data/dna.ts). */
  task: DnaTask;
  /** Probe training examples: the first N of the task's train split (stored shuffled: a random sample; 0 = all). */
  trainLimit: number;
  /** Probe test examples: the first N of its test split (0 = all). */
  testLimit: number;
  /** linearProbe: full-batch Adam steps, lr, L2 on the weights. */
  steps: number;
  lr: number;
  l2: number;
  /** Windows per forward pass of the feature extraction. */
  batchSize: number;
  /** Also probe the model at initialisation (same seed): the reference for what pretraining bought. */
  init: boolean;
}

export const DNA_PROBE_DEFAULTS: DnaProbeConfig = { task: "coding", trainLimit: 2000, testLimit: 0, steps: 300, lr: 0.05, l2: 1e-3, batchSize: 64, init: true };

/** Everything that determines a DNA run's result, every default written out: the cache key and the saved config. */
export interface DnaResolvedRun {
  task: "dna-lm";
  arm: string;
  data: DnaDataConfig;
  probe: DnaProbeConfig;
  model: HyenaConfig;
  /** The norm options in effect, defaults filled. */
  normResolved: NormOptions;
  train: TrainConfig;
}

/** The shared part of a DNA run's config at one scale, before an arm and a seed are applied. */
export interface DnaRunBase {
  task: "dna-lm";
  model: Partial<HyenaConfig>;
  train: Partial<TrainConfig>;
  data: Partial<Omit<DnaDataConfig, "dataset">> & { seqLen: number };
  probe?: Partial<DnaProbeConfig>;
}

/** Context-free baselines of the scored tokens (bits per nucleotide). */
export interface DnaBaselines {
  /** log2 of the 5 codes. */
  uniformBpb: number;
  /** The training split's base frequencies (add-one). */
  unigramBpb: number;
  /** An order-`markovOrder` Markov model of the training split (add-half). */
  markovBpb: number;
  markovOrder: number;
}

/** One linear probe's scores (accuracies in [0, 1]). */
export interface DnaProbeScores {
  trainAcc: number;
  testAcc: number;
  testLoss: number;
  /** Test accuracy per class (null in JSON where a class has no test example). */
  perClassAcc: number[];
  /** Always answering the most frequent training class, on the test set. */
  majorityAcc: number;
}

export interface DnaProbeResult extends DnaProbeScores {
  task: DnaTask;
  nTrain: number;
  nTest: number;
  featureDim: number;
  /** The same probe on the model at initialisation (probe.init). */
  init?: DnaProbeScores;
}

export interface DnaRunResult extends TrainedRunResult {
  /** Final scores on the scored test windows: loss in nats per base, next-base accuracy, bpb = bits per nucleotide. */
  test?: { loss: number; acc: number; bpb: number };
  /** Context-free baselines of the scored validation and test tokens. */
  baselines: { val: DnaBaselines; test: DnaBaselines };
  /** The downstream linear probe on frozen features (completed runs only). */
  probe?: DnaProbeResult;
  /** DyT alpha per layer at the end of training (DyT models only). */
  finalAlpha?: Record<string, number>;
  params: number;
}

export function isDnaBase(b: object): b is DnaRunBase {
  return (b as Partial<DnaRunBase>).task === "dna-lm";
}

/** Order of the Markov baseline saved with every run. */
export const DNA_MARKOV_ORDER = 8;

/** The fully resolved config of arm `a` at `seed` on a DNA base (every default written out: the cache key). */
export function resolveDnaRun(base: DnaRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<HyenaConfig>; train?: Partial<TrainConfig> } = {}): DnaResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a LLaMA language-model arm; a DNA run takes norm arms (e.g. "${a.norm}")`);
  if (a.method || a.placement) throw new Error(`arm "${a.id}" sets a residual method or a placement, which only the ViT has; HyenaDNA runs take norm arms`);
  const data: DnaDataConfig = { dataset: "dna", ...DNA_DATA_DEFAULTS, ...base.data, genomes: [...(base.data.genomes ?? DNA_DATA_DEFAULTS.genomes)] };
  for (const id of data.genomes) if (!DNA_GENOMES.some((g) => g.id === id)) throw new Error(`dna-lm task: unknown genome "${id}"; valid: ${DNA_GENOMES.map((g) => g.id).join(", ")}`);
  if (data.genomes.length === 0) throw new Error("dna-lm task: no genomes given; name at least one (default: all 10)");
  if (!Number.isInteger(data.seqLen) || data.seqLen < 2) throw new Error(`dna-lm task: seqLen must be an integer >= 2, got ${data.seqLen}`);
  for (const k of ["trainBasesPerGenome", "testLimit"] as const) if (!Number.isInteger(data[k]) || data[k] < 0) throw new Error(`dna-lm task: ${k} must be a non-negative integer (0 = all), got ${data[k]}`);
  const probe: DnaProbeConfig = { ...DNA_PROBE_DEFAULTS, ...base.probe };
  if (!(DNA_TASKS as readonly string[]).includes(probe.task)) throw new Error(`dna-lm task: unknown probe task "${probe.task}"; valid: ${DNA_TASKS.join(", ")}`);
  for (const k of ["trainLimit", "testLimit"] as const) if (!Number.isInteger(probe[k]) || probe[k] < 0) throw new Error(`dna-lm task: probe.${k} must be a non-negative integer (0 = all), got ${probe[k]}`);
  for (const k of ["steps", "batchSize"] as const) if (!Number.isInteger(probe[k]) || probe[k] < 1) throw new Error(`dna-lm task: probe.${k} must be a positive integer, got ${probe[k]}`);
  const model = resolveHyenaConfig({
    // The probe's windows must fit too: the implicit filter spans maxSeqLen.
    maxSeqLen: Math.max(data.seqLen, DNA_TASK_INFO[probe.task].seqLen),
    ...base.model,
    ...overrides.model,
    vocabSize: DNA_VOCAB_SIZE,
    head: "lm",
    norm: a.norm,
    normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions },
    seed,
  });
  if (model.bidirectional || model.rcEquivariant)
    throw new Error(`dna-lm task: next-nucleotide pretraining needs a causal model; the Caduceus-style settings (bidirectional, rcEquivariant) let every position see the base it predicts. Use the HyenaDNA decoder (bidirectional: false, rcEquivariant: false)`);
  if (model.maxSeqLen < data.seqLen || model.maxSeqLen < DNA_TASK_INFO[probe.task].seqLen)
    throw new Error(`dna-lm task: model.maxSeqLen ${model.maxSeqLen} is shorter than the training windows (${data.seqLen}) or the probe's ${probe.task} windows (${DNA_TASK_INFO[probe.task].seqLen}); leave maxSeqLen to the task`);
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  return { task: "dna-lm", arm: a.id, data, probe, model, normResolved: resolveNormOptions(model.norm, model.normOptions), train: trainCfg };
}

/** Run `load`, naming the dna-lm task in front of a data error (whose message already names the fix). */
function loading<T>(what: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof DatasetFileError) {
      e.message = `dna-lm task: cannot load ${what}: ${e.message}`;
      throw e;
    }
    throw e;
  }
}

let streamCache: { key: string; train: DnaStream; val: DnaStream; test: DnaStream } | undefined;
/** The pretraining streams of a data config, kept in memory across the runs of one process. */
export function dnaStreams(d: Pick<DnaDataConfig, "genomes" | "trainBasesPerGenome">): { train: DnaStream; val: DnaStream; test: DnaStream } {
  const key = JSON.stringify([dataDir(), process.env.DYT_DNA_SOURCE_DIR ?? "", d.genomes, d.trainBasesPerGenome]);
  if (streamCache?.key !== key) {
    const genomes = d.genomes;
    streamCache = loading("the DNA pretraining splits", () => ({
      key,
      train: loadDnaPretrain({ split: "train", genomes, ...(d.trainBasesPerGenome > 0 ? { maxBasesPerGenome: d.trainBasesPerGenome } : {}) }),
      val: loadDnaPretrain({ split: "val", genomes }),
      test: loadDnaPretrain({ split: "test", genomes }),
    }));
  }
  return streamCache;
}

/** Training windows of a DNA base (its "examples": budgets in epochs are over these). */
export function dnaTrainWindows(base: DnaRunBase): number {
  const data = { ...DNA_DATA_DEFAULTS, ...base.data };
  return dnaWindowStarts(dnaStreams(data).train, data.seqLen).length;
}

/** `n` of the window starts, evenly spread (all when n is 0 or covers them). */
export function spreadStarts(starts: Int32Array, n: number): Int32Array {
  if (n <= 0 || n >= starts.length) return starts;
  return Int32Array.from({ length: n }, (_, i) => starts[Math.floor(((i + 0.5) * starts.length) / n)]!);
}

function windowsOf(ds: DnaStream, starts: Int32Array): TokenWindows {
  return { name: ds.name, split: ds.split, tokens: ds.tokens, vocabSize: ds.vocabSize, starts, tokensPerByte: 1 };
}

const markovCache = new Map<string, Float64Array>();
/** Counts of (order-k context, next base) over a stream's segments. */
function markovCounts(ds: DnaStream, k: number, key: string): Float64Array {
  const hit = markovCache.get(key);
  if (hit) return hit;
  const V = ds.vocabSize;
  const C = V ** k;
  const cnt = new Float64Array(C * V);
  for (const s of ds.segments) {
    let ctx = 0;
    for (let i = 0; i < s.length; i++) {
      const t = ds.tokens[s.offset + i]!;
      if (i >= k) cnt[ctx * V + t]!++;
      ctx = k > 0 ? (ctx * V + t) % C : 0;
    }
  }
  markovCache.clear();
  markovCache.set(key, cnt);
  return cnt;
}

/**
 * Context-free baselines of the targets the evaluation scores (bases 1..T of
 * each window): uniform, the training split's unigram rate (add-one) and an
 * order-k Markov model of the training split (add-half; contexts run inside
 * the window's segment, as the windows do).
 */
export function dnaBaselines(train: DnaStream, scored: DnaStream, starts: Int32Array, seqLen: number, trainKey: string, order = DNA_MARKOV_ORDER): DnaBaselines {
  const V = train.vocabSize;
  const uni = new Float64Array(V).fill(1);
  for (let i = 0; i < train.tokens.length; i++) uni[train.tokens[i]!]!++;
  const total = train.tokens.length + V;
  const cnt = markovCounts(train, order, `${trainKey}/${order}`);
  const C = V ** order;
  // The segment of each window start (both sorted), for the context's left edge.
  const segs = scored.segments;
  let si = 0;
  let uniBits = 0;
  let mkBits = 0;
  let n = 0;
  for (const s of starts) {
    while (si < segs.length - 1 && s >= segs[si]!.offset + segs[si]!.length) si++;
    const segStart = segs[si]!.offset;
    for (let p = s + 1; p <= s + seqLen; p++) {
      const t = scored.tokens[p]!;
      uniBits -= Math.log2(uni[t]! / total);
      let ctx = 0;
      if (p - order >= segStart) for (let j = p - order; j < p; j++) ctx = (ctx * V + scored.tokens[j]!) % C;
      let row = 0;
      if (p - order >= segStart) for (let v = 0; v < V; v++) row += cnt[ctx * V + v]! + 0.5;
      // A context at the segment's start (fewer than `order` bases before it) falls back to the unigram rate.
      mkBits -= p - order >= segStart ? Math.log2((cnt[ctx * V + t]! + 0.5) / row) : Math.log2(uni[t]! / total);
      n++;
    }
  }
  return { uniformBpb: Math.log2(V), unigramBpb: uniBits / Math.max(1, n), markovBpb: mkBits / Math.max(1, n), markovOrder: order };
}

/** The labelled task's probe splits of a probe config. */
export function dnaProbeSplits(p: Pick<DnaProbeConfig, "task" | "trainLimit" | "testLimit">): { train: DnaClassDataset; test: DnaClassDataset } {
  return loading(`the DNA "${p.task}" task`, () => ({
    train: loadDnaTask(p.task, { split: "train", ...(p.trainLimit > 0 ? { limit: p.trainLimit } : {}) }),
    test: loadDnaTask(p.task, { split: "test", ...(p.testLimit > 0 ? { limit: p.testLimit } : {}) }),
  }));
}

/** Mean-pooled features of the model's trunk (embedding, blocks, final norm) over a labelled split: [n, dim]. */
export function dnaFeatures(model: HyenaDNA, ds: DnaClassDataset, batchSize: number): { feats: Float32Array; dim: number } {
  const trunk = { forward: (x: tf.Tensor) => model.trunk(tf.cast(x, "int32")) };
  return extractFeatures(trunk, Float32Array.from(ds.seqs), ds.n, ds.seqLen, { batchSize });
}

/** The linear probe of a frozen model on a probe config's task. */
export function probeDnaModel(model: HyenaDNA, p: DnaProbeConfig, splits = dnaProbeSplits(p)): DnaProbeScores & { nTrain: number; nTest: number; featureDim: number } {
  const { train: tr, test: te } = splits;
  const ftr = dnaFeatures(model, tr, p.batchSize);
  const fte = dnaFeatures(model, te, p.batchSize);
  const r = linearProbe({ feats: ftr.feats, labels: tr.labels }, { feats: fte.feats, labels: te.labels }, ftr.dim, tr.numClasses, { steps: p.steps, lr: p.lr, l2: p.l2 });
  return { ...r, nTrain: tr.n, nTest: te.n, featureDim: ftr.dim };
}

/** "HyenaDNA width 64, depth 2, context 256 bases; 0.75 M training bases (...)" */
export function describeDnaBase(base: DnaRunBase, steps: number): string {
  const m = { ...HYENA_DEFAULTS, ...base.model };
  const data = { ...DNA_DATA_DEFAULTS, ...base.data };
  const probe = { ...DNA_PROBE_DEFAULTS, ...base.probe };
  const batch = base.train.batchSize ?? TRAIN_DEFAULTS.batchSize;
  const windows = dnaTrainWindows(base);
  const bases = steps * batch * data.seqLen;
  const genomes = data.genomes.length === DNA_GENOMES.length ? "all 10 genomes" : `genomes ${data.genomes.join(", ")}`;
  const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n.toLocaleString("en"));
  return (
    `HyenaDNA-style decoder width ${m.dim}, depth ${m.depth}, filter MLP ${m.filterOrder}, init std ${Number(m.initStd.toPrecision(3))}, context ${data.seqLen} bases; next-nucleotide pretraining on the train blocks of ${genomes}: ` +
    `${count(bases)} training bases (${((steps * batch) / windows).toFixed(3)} epoch of ${count(windows * data.seqLen)}; ${steps} steps, batch ${batch}); AdamW, 5 % warmup + cosine; ` +
    `downstream: linear probe on mean-pooled frozen features, task "${probe.task}" (${probe.trainLimit || "all"} training / ${probe.testLimit || "all"} test windows)`
  );
}

/** A run's windows: every training window, the scored validation windows (train.evalLimit) and test windows (data.testLimit), spread evenly. */
export function dnaRunWindows(r: DnaResolvedRun): { streams: ReturnType<typeof dnaStreams>; train: TokenWindows; val: TokenWindows; test: TokenWindows } {
  const d = dnaStreams(r.data);
  const T = r.data.seqLen;
  return {
    streams: d,
    train: windowsOf(d.train, dnaWindowStarts(d.train, T)),
    val: windowsOf(d.val, spreadStarts(dnaWindowStarts(d.val, T), r.train.evalLimit)),
    test: windowsOf(d.test, spreadStarts(dnaWindowStarts(d.test, T), r.data.testLimit)),
  };
}

/** What the trainer trains a run on: next-nucleotide prediction over its training windows, evaluated on its validation windows. */
export function dnaPretrainTask(r: DnaResolvedRun): TrainTask {
  const w = dnaRunWindows(r);
  return windowedNextTokenTask(w.train, w.val, { seqLen: r.data.seqLen });
}

/** Train one HyenaDNA on next-nucleotide prediction; validation bits per base during training, test bits per base and the downstream probe at the end. */
export async function runDnaTask(r: DnaResolvedRun, runDir: string | undefined, label: string): Promise<DnaRunResult> {
  const T = r.data.seqLen;
  const { streams: d, train: trainWin, val: valWin, test: testWin } = dnaRunWindows(r);
  const probeSplits = dnaProbeSplits(r.probe);
  const trainKey = JSON.stringify([dataDir(), r.data.genomes, r.data.trainBasesPerGenome]);
  const baselines = { val: dnaBaselines(d.train, d.val, valWin.starts, T, trainKey), test: dnaBaselines(d.train, d.test, testWin.starts, T, trainKey) };
  const model = new HyenaDNA(r.model);
  try {
    const res = await train(model, windowedNextTokenTask(trainWin, valWin, { seqLen: T }), r.train, { runDir, hooks: [alphaTraceHook()], label });
    if (res.status !== "completed") return { ...trainedFields(res, model), baselines };
    const ev = windowedNextTokenTask(trainWin, testWin, { seqLen: T }).evaluate(model, 0, r.train.evalBatchSize);
    const probed = probeDnaModel(model, r.probe, probeSplits);
    let init: DnaProbeScores | undefined;
    if (r.probe.init) {
      // Same config and seed: the weights this run started from.
      const fresh = new HyenaDNA(r.model);
      try {
        const { trainAcc, testAcc, testLoss, perClassAcc, majorityAcc } = probeDnaModel(fresh, r.probe, probeSplits);
        init = { trainAcc, testAcc, testLoss, perClassAcc, majorityAcc };
      } finally {
        fresh.dispose();
      }
    }
    return {
      ...trainedFields(res, model),
      test: { loss: ev.loss, acc: ev.acc, bpb: ev.bpb! },
      baselines,
      probe: { task: r.probe.task, ...probed, ...(init ? { init } : {}) },
    };
  } finally {
    model.dispose();
  }
}
