/**
 * The language-model training path of the runner: a LLaMA-style decoder
 * (lib/models/llama.ts) trained for next-byte prediction on the lab's English
 * text (lib/data/text.ts), scored in bits per byte on the validation split
 * during training (lr tuning, plateau) and on the test split at the end (the
 * verdicts). `resolveLmRun` writes every default out, so the resolved config
 * is a complete cache key, as for the ViT runs (task.ts).
 */
import { loadText, textBaselines, TEXT_CORPORA, type TextBaselines, type TextCorpus, type TextDataset } from "../../data/text";
import { alphaTraceHook } from "../../hooks/alpha";
import { trainedFields } from "./trained";
import { LLAMA_DEFAULTS, Llama, paperLlamaAlpha0, resolveLlamaConfig, widthMatchedInitStd, type LlamaConfig } from "../../models/llama";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { nextTokenTask, textWindows } from "../../train/task";
import { train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig, type TrainHook } from "../../train/trainer";
import type { Arm } from "./arms";
import { namedHooks, type StepParams, type TrainedRunResult } from "./task";

export interface TextDataConfig {
  dataset: "text";
  /** Corpora of the stream (lib/data/text.ts; default all four). */
  corpora: TextCorpus[];
  /** Tokens per training window (the model's context). */
  seqLen: number;
  /** Training tokens used: the first N of the train split's stream (0 = all). */
  trainTokens: number;
  /** Test-split windows scored for the final held-out bpb (0 = all). */
  testLimit: number;
}

export const TEXT_DATA_DEFAULTS: Omit<TextDataConfig, "dataset" | "seqLen"> = { corpora: [...TEXT_CORPORA], trainTokens: 0, testLimit: 0 };

/** Everything that determines an LM run's result, every default written out: the cache key and the saved config. */
export interface LmResolvedRun {
  task: "lm-text";
  arm: string;
  data: TextDataConfig;
  model: LlamaConfig;
  /** The norm options in effect (biases off, as the model builds them), defaults filled. */
  normResolved: NormOptions;
  train: TrainConfig;
  /** Named measuring hooks ("name:{params}", registerLmHook); absent when none, so runs without hooks keep their cache key. */
  hooks?: string[];
}

/** The shared part of an LM run's config at one scale, before an arm and a seed are applied. */
export interface LmRunBase {
  task: "lm-text";
  model: Partial<LlamaConfig>;
  train: Partial<TrainConfig>;
  data: Partial<Omit<TextDataConfig, "dataset">> & { seqLen: number };
  /** Named hooks (stepRef) that observe training; part of the resolved config. */
  hooks?: string[];
}

const LM_HOOKS = new Map<string, (r: LmResolvedRun, params?: StepParams) => TrainHook>();
/** Make a training hook available to LM runs by name (the experiments that need one register it when loaded, as registerHook for ViT runs). */
export function registerLmHook(name: string, make: (r: LmResolvedRun, params?: StepParams) => TrainHook): void {
  LM_HOOKS.set(name, make);
}

export interface LmRunResult extends TrainedRunResult {
  /** Final scores on the test split's first `testLimit` windows (loss in nats/token). */
  test?: { loss: number; acc: number; bpb: number };
  /** Context-free baselines of the scored validation and test tokens (classification compares with the unigram rate). */
  baselines: { val: TextBaselines; test: TextBaselines };
  /** DyT alpha per layer at the end of training (DyT models only). */
  finalAlpha?: Record<string, number>;
  params: number;
}

export function isLmBase(b: object): b is LmRunBase {
  return (b as Partial<LmRunBase>).task === "lm-text";
}

export function resolveLmRun(base: LmRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<LlamaConfig>; train?: Partial<TrainConfig> } = {}): LmResolvedRun {
  if (a.placement && a.placement !== "pre") throw new Error(`arm "${a.id}": the language model is pre-norm only (LLaMA); placement "${a.placement}" applies to the ViT`);
  const data: TextDataConfig = { dataset: "text", ...TEXT_DATA_DEFAULTS, ...base.data };
  const dim = overrides.model?.dim ?? base.model.dim ?? LLAMA_DEFAULTS.dim;
  const alpha0 = a.lm?.alpha0 === "paper" ? paperLlamaAlpha0(dim) : (a.lm?.alpha0 ?? {});
  // The arm's alpha0 would silently win over the same slots set in the model config.
  const clash = Object.keys(alpha0).filter((k) => (base.model as Record<string, unknown>)[k] !== undefined || (overrides.model as Record<string, unknown> | undefined)?.[k] !== undefined);
  if (clash.length) throw new Error(`arm "${a.id}" sets the DyT alpha0 of every slot; drop model.${clash.join(", model.")} from the base and overrides, or derive an arm with lm.alpha0 (deriveArm)`);
  const model = resolveLlamaConfig({
    maxSeqLen: data.seqLen,
    ...base.model,
    ...overrides.model,
    norm: a.norm,
    normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions },
    ...(a.method ? { method: a.method } : {}),
    ...alpha0,
    ...(a.lm?.embedScale !== undefined ? { embedScale: a.lm.embedScale } : {}),
    ...(a.lm?.matmul ? { matmul: a.lm.matmul } : {}),
    seed,
  });
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const r: LmResolvedRun = { task: "lm-text", arm: a.id, data, model, normResolved: resolveNormOptions(model.norm, { bias: false, ...model.normOptions }), train: trainCfg };
  if (base.hooks?.length) r.hooks = [...base.hooks];
  return r;
}

let splitCache: { key: string; train: TextDataset; val: TextDataset; test: TextDataset } | undefined;
/** The text splits of a data config, kept in memory across the runs of one process. */
export function textSplits(d: Pick<TextDataConfig, "corpora" | "trainTokens">): { train: TextDataset; val: TextDataset; test: TextDataset } {
  const key = JSON.stringify([d.corpora, d.trainTokens]);
  if (splitCache?.key !== key) {
    const corpora = d.corpora;
    splitCache = {
      key,
      train: loadText({ corpora, split: "train", ...(d.trainTokens > 0 ? { maxBytes: d.trainTokens } : {}) }),
      val: loadText({ corpora, split: "val" }),
      test: loadText({ corpora, split: "test" }),
    };
  }
  return splitCache;
}

/** Training windows of an LM base (its "examples": budgets in epochs are over these). */
export function lmTrainWindows(base: LmRunBase): number {
  const data = { ...TEXT_DATA_DEFAULTS, ...base.data };
  return textWindows(textSplits(data).train, data.seqLen);
}

/** The tokens the evaluation scores: the first `limit` windows of a split (0 = all), as a stream. */
function scoredTokens(ds: TextDataset, seqLen: number, limit: number): TextDataset {
  const total = textWindows(ds, seqLen);
  const n = limit > 0 ? Math.min(limit, total) : total;
  return { ...ds, tokens: ds.tokens.subarray(0, n * seqLen + 1) };
}

/** "LLaMA-style LM width 64, depth 2, 4 heads, context 128 bytes; 0.1 epoch of the text train split (2.0 M tokens, 500 steps, batch 32)". */
export function describeLmBase(base: LmRunBase, steps: number): string {
  const m = { ...LLAMA_DEFAULTS, ...base.model };
  const batch = base.train.batchSize ?? TRAIN_DEFAULTS.batchSize;
  const tokens = steps * batch * base.data.seqLen;
  const windows = lmTrainWindows(base);
  const initStd = base.model.initStd ?? widthMatchedInitStd(m.dim);
  return `LLaMA-style LM width ${m.dim}, depth ${m.depth}, ${m.heads} heads, context ${base.data.seqLen} bytes; ${(tokens / 1e6).toFixed(2)} M training tokens (${((steps * batch) / windows).toFixed(3)} epoch of ${(windows * base.data.seqLen / 1e6).toFixed(1)} M; ${steps} steps, batch ${batch}); init std ${initStd.toPrecision(3)}${base.model.initStd === undefined ? " (the paper's 7B init, 0.02 at width 4096, at the same fan-in gain)" : ""}; AdamW, 5 % warmup + cosine`;
}

/** Train one LM on the text train split; validation bpb during training, test bpb at the end. */
export async function runLmTask(r: LmResolvedRun, runDir: string | undefined, label: string): Promise<LmRunResult> {
  const named = namedHooks(LM_HOOKS, r.hooks ?? [], r, label, "LM hook");
  const d = textSplits(r.data);
  const T = r.data.seqLen;
  const model = new Llama(r.model);
  try {
    const res = await train(model, nextTokenTask(d.train, d.val, { seqLen: T }), r.train, { runDir, hooks: [alphaTraceHook(), ...named], label });
    const ev = res.status === "completed" ? nextTokenTask(d.train, d.test, { seqLen: T }).evaluate(model, r.data.testLimit, r.train.evalBatchSize) : undefined;
    return {
      ...trainedFields(res, model),
      ...(ev ? { test: { loss: ev.loss, acc: ev.acc, bpb: ev.bpb! } } : {}),
      baselines: { val: textBaselines(d.train, scoredTokens(d.val, T, r.train.evalLimit)), test: textBaselines(d.train, scoredTokens(d.test, T, r.data.testLimit)) },
    };
  } finally {
    model.dispose();
  }
}
