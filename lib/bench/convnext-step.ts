/**
 * The ConvNeXt training step of `npm run bench -- --model convnext`
 * (scripts/bench.ts): the lab's ConvNeXt (lib/models/convnext.ts) at the size
 * vision-families trains at full scale on Fashion-MNIST, resolved through the
 * experiment's own resolver (resolveImageRun, so each norm gets its arm's
 * options), softmax cross-entropy from the image-classify task's loss, the
 * lab's AdamW with the experiment's weight decay. The same model in PyTorch
 * is bench/torch_bench.py --model convnext; both sides print their parameter
 * count and the bench refuses to compare when they differ.
 */
import * as tf from "@tensorflow/tfjs";
import { ConvNeXt, type ConvNeXtConfig } from "../models/convnext";
import { arm } from "../experiments/protocol/arms";
import { IMAGE_DATASETS, resolveImageRun, type ImageDatasetName, type ImageRunBase } from "../experiments/protocol/image-task";
import { resolveNormOptions } from "../norms/factory";
import type { NormKind } from "../norms/types";
import { AdamW, ADAMW_DEFAULTS } from "../train/adamw";
import { classificationTask } from "../train/task";
import { assertBenchNorm, benchImageSet, checkLabParams, labBenchStep, type BenchStep, type BenchStepModel } from "./step-model";

export interface ConvNeXtBenchConfig {
  /** The data set fixes image size, channels and classes (as in the experiment). */
  dataset: ImageDatasetName;
  batch: number;
  stemPatch: number;
  dims: number[];
  depths: number[];
  kernelSize: number;
  mlpRatio: number;
  layerScaleInit: number;
  /** AdamW decay on the weight matrices and convolution kernels, as vision-families trains. */
  weightDecay: number;
}

/** vision-families' full-scale ConvNeXt on Fashion-MNIST (test/vision-bench.test.ts keeps the two in step). */
export const CONVNEXT_BENCH_CONFIG: ConvNeXtBenchConfig = {
  dataset: "fashion-mnist",
  batch: 64,
  stemPatch: 2,
  dims: [24, 48, 96],
  depths: [1, 1, 1],
  kernelSize: 7,
  mlpRatio: 4,
  layerScaleInit: 1e-6,
  weightDecay: 0.05,
};

/** The bench's norms and the vision-families arm that gives each its options. */
export const CONVNEXT_BENCH_ARMS: Partial<Record<NormKind, string>> = { layernorm: "layernorm", dyt: "dyt" };

/** The image-classify base of the bench's config (the shape vision-families' familyBase gives). */
export function convnextBenchBase(c: ConvNeXtBenchConfig = CONVNEXT_BENCH_CONFIG): ImageRunBase {
  return {
    task: "image-classify",
    family: "convnext",
    model: { stemPatch: c.stemPatch, dims: [...c.dims], depths: [...c.depths], kernelSize: c.kernelSize, mlpRatio: c.mlpRatio, layerScaleInit: c.layerScaleInit },
    train: { batchSize: c.batch, weightDecay: c.weightDecay },
    data: { dataset: c.dataset, trainLimit: 0, testLimit: 0 },
  };
}

/** The ConvNeXt config the experiment trains for this norm (its arm, seed 0), through resolveImageRun. */
export function convnextBenchModelConfig(norm: NormKind, c: ConvNeXtBenchConfig = CONVNEXT_BENCH_CONFIG): ConvNeXtConfig {
  const armId = CONVNEXT_BENCH_ARMS[norm];
  if (!armId) throw new Error(`--model convnext: no arm for norm "${norm}"`);
  const r = resolveImageRun(convnextBenchBase(c), arm(armId), 0);
  if (r.family !== "convnext") throw new Error("convnext bench: resolved a non-ConvNeXt run");
  return r.model;
}

/**
 * Parameters of the model both sides build, counted from its parts (what
 * bench/torch_bench.py's ConvNeXt holds): the stem, a p x p stride-p
 * convolution (p^2 C x d0 + bias) and its norm; per later stage a
 * downsampling norm (on the previous width) and a 2x2 stride-2 convolution
 * (4 d_prev x d + bias); per block a depthwise k x k convolution (k^2 d +
 * bias), a norm, the inverted bottleneck d -> 4d -> d (with biases) and the
 * layer scale [d]; after pooling a norm and the head d_last x classes + bias.
 * A norm is gamma and beta [d] (DyT adds alpha [1]).
 */
export function convnextBenchParamCount(norm: NormKind, c: ConvNeXtBenchConfig = CONVNEXT_BENCH_CONFIG): number {
  const ds = IMAGE_DATASETS[c.dataset];
  const n = (d: number) => 2 * d + (norm === "dyt" ? 1 : 0);
  const p = c.stemPatch;
  let total = p * p * ds.channels * c.dims[0]! + c.dims[0]! + n(c.dims[0]!);
  c.dims.forEach((d, i) => {
    if (i > 0) total += n(c.dims[i - 1]!) + 4 * c.dims[i - 1]! * d + d;
    const h = Math.round(c.mlpRatio * d);
    const block = c.kernelSize * c.kernelSize * d + d + n(d) + d * h + h + h * d + d + (c.layerScaleInit > 0 ? d : 0);
    total += c.depths[i]! * block;
  });
  const last = c.dims.at(-1)!;
  return total + n(last) + last * ds.numClasses + ds.numClasses;
}

/**
 * Convolution and matmul FLOPs of one forward pass (2 per multiply-add; a
 * training step counts 3x: the backward computes the input's and the
 * weights' gradients, each as much work again): the stem on (H/p)^2 pixels,
 * per block the depthwise k x k convolution (k^2 d per pixel) and the two
 * pointwise linears (d x 4d each), the downsampling convolutions, the head.
 * Spatial sizes floor at each stride, as the model does (28 -> 14 -> 7 -> 3).
 */
export function convnextForwardFlops(c: ConvNeXtBenchConfig = CONVNEXT_BENCH_CONFIG): number {
  const ds = IMAGE_DATASETS[c.dataset];
  const B = c.batch;
  let s = Math.floor(ds.imageSize / c.stemPatch);
  let f = 2 * B * s * s * c.stemPatch * c.stemPatch * ds.channels * c.dims[0]!;
  c.dims.forEach((d, i) => {
    if (i > 0) {
      s = Math.floor(s / 2);
      f += 2 * B * s * s * 4 * c.dims[i - 1]! * d;
    }
    const h = Math.round(c.mlpRatio * d);
    f += c.depths[i]! * 2 * B * s * s * (c.kernelSize * c.kernelSize * d + 2 * d * h);
  });
  return f + 2 * B * c.dims.at(-1)! * ds.numClasses;
}

/** The ConvNeXt step: model, fixed batch, the task's cross-entropy, AdamW (decay on weights only, as in training). */
export function convnextBenchStep(norm: NormKind, c: ConvNeXtBenchConfig = CONVNEXT_BENCH_CONFIG): BenchStep & { model: ConvNeXt } {
  assertBenchNorm(CONVNEXT_STEP_MODEL, norm);
  const model = new ConvNeXt(convnextBenchModelConfig(norm, c));
  checkLabParams(CONVNEXT_STEP_MODEL, norm, model.parameterCount(), convnextBenchParamCount(norm, c), () => model.dispose());
  const ds = IMAGE_DATASETS[c.dataset];
  const data = benchImageSet(c.batch, ds.imageSize, ds.channels, ds.numClasses);
  const task = classificationTask(data, data);
  task.prepare(Int32Array.from({ length: c.batch }, (_, i) => i), c.batch);
  const { x, y } = tf.tidy(() => task.batch());
  const optimizer = new AdamW(model.params, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
  return labBenchStep(model, () => task.loss(y, model.forward(x, { training: true })), optimizer, [x, y]);
}

export const CONVNEXT_STEP_MODEL: BenchStepModel = {
  name: "convnext",
  label: "ConvNeXt",
  norms: ["layernorm", "dyt"],
  saveName: "convnext-step.json",
  sources: { lab: "lib/models/convnext.ts", torch: "ConvNeXt in bench/torch_bench.py", count: "convnextBenchParamCount in lib/bench/convnext-step.ts" },
  paramCount: (norm) => convnextBenchParamCount(norm),
  step: (norm) => convnextBenchStep(norm),
  torchArgs(norm) {
    const c = CONVNEXT_BENCH_CONFIG;
    const m = convnextBenchModelConfig(norm, c);
    const o = resolveNormOptions(m.norm, m.normOptions);
    const args = ["--model", "convnext", "--batch", String(c.batch), "--image", String(m.imageSize), "--channels", String(m.channels), "--classes", String(m.numClasses)];
    args.push("--stem-patch", String(m.stemPatch), "--dims", m.dims.join(","), "--depths", m.depths.join(","), "--kernel", String(m.kernelSize), "--mlp-ratio", String(m.mlpRatio));
    args.push("--layer-scale-init", String(m.layerScaleInit), "--init-std", String(m.initStd), "--weight-decay", String(c.weightDecay));
    // The norm as the lab resolved it: LayerNorm's eps, DyT's alpha0.
    if (o.eps !== undefined) args.push("--eps", String(o.eps));
    if (o.alpha0 !== undefined) args.push("--alpha0", String(o.alpha0));
    return args;
  },
  facts() {
    const c = CONVNEXT_BENCH_CONFIG;
    const ds = IMAGE_DATASETS[c.dataset];
    return {
      line: `ConvNeXt, batch ${c.batch} x ${ds.imageSize}x${ds.imageSize}x${ds.channels} (${ds.label}), stem ${c.stemPatch}x${c.stemPatch}, dims ${c.dims.join("/")}, depths ${c.depths.join("/")}, ${c.kernelSize}x${c.kernelSize} depthwise, MLP x${c.mlpRatio}, ${ds.numClasses} classes`,
      flopsPerStep: 3 * convnextForwardFlops(c),
      work: "conv + matmul",
      config: c,
    };
  },
};
