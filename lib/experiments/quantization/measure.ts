/**
 * What the quantization experiments measure on a trained model: the inputs
 * of every block's q/k/v (= norm1 output in pre-norm), Wo and fc1 on a fixed
 * test batch (LLM.int8() protocol: fc2's input and the attention internals
 * are skipped), and the held-out score under post-training fake quantisation
 * of every block Linear (weights and inputs; norms, softmax, residuals,
 * embedding and head stay fp32). Any model whose blocks are the shared
 * TransformerBlock (ViT, LLaMA) and whose forward takes ForwardOptions works
 * (BlockModel): the ViT study (quantization) and the LM study (lm-quant).
 */
import type * as tf from "@tensorflow/tfjs";
import { outlierFeatures, type FeatureMatrix } from "../../analysis/outliers";
import { fakeQuantFp8, fakeQuantInt8 } from "../../analysis/quant";
import type { ForwardOptions } from "../../models/transformer";

/** What the measurement needs of a model: its blocks (named "blocks.<i>.*" in the hooks) and a forward pass that takes the Linear hooks. */
export interface BlockModel {
  readonly blocks: readonly unknown[];
  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor;
}

/** Post-training fake-quantisation schemes for the block Linears (baselines.md, fake quantisation). */
export const QUANT_SCHEMES = ["w8a8-tensor", "w8a8-channel", "w8a8-token", "fp8-e4m3", "fp8-e5m2"] as const;
export type QuantScheme = (typeof QUANT_SCHEMES)[number];
export const QUANT_SCHEME_INFO: Record<QuantScheme, string> = {
  "w8a8-tensor": "int8 weights per tensor, int8 inputs per tensor (dynamic)",
  "w8a8-channel": "int8 weights per output channel, int8 inputs per tensor (dynamic)",
  "w8a8-token": "int8 weights per output channel, int8 inputs per token (dynamic)",
  "fp8-e4m3": "FP8 E4M3FN weights and inputs, per-tensor scale amax/448",
  "fp8-e5m2": "FP8 E5M2 weights and inputs, per-tensor scale amax/57344",
};

/**
 * The tracked Linears of a block (LLM.int8 protocol: skip fc2's input and the
 * attention internals). The names hold for the ViT's GELU MLP and for the
 * LLaMA's SwiGLU, whose mlp.fc1 is the fused gate + up projection (one input)
 * and mlp.fc2 the down projection (not tracked).
 */
export const TRACKED = ["attn.qkv", "attn.proj", "mlp.fc1"] as const;
export type TrackedLinear = (typeof TRACKED)[number];

/** Forward hooks that fake-quantise every block Linear's weight and input under `scheme`. */
export function quantHooks(scheme: QuantScheme): ForwardOptions {
  const inBlock = (name: string) => name.startsWith("blocks.");
  const q = (kind: "weight" | "input") => (name: string, t: tf.Tensor): tf.Tensor | void => {
    if (!inBlock(name)) return;
    switch (scheme) {
      case "w8a8-tensor":
        return fakeQuantInt8(t);
      case "w8a8-channel":
        // Kernel [in, out]: one scale per output channel = amax over axis 0.
        return kind === "weight" ? fakeQuantInt8(t, { amaxAxis: 0 }) : fakeQuantInt8(t);
      case "w8a8-token":
        return kind === "weight" ? fakeQuantInt8(t, { amaxAxis: 0 }) : fakeQuantInt8(t, { amaxAxis: -1 });
      case "fp8-e4m3":
        return fakeQuantFp8(t, "e4m3fn");
      case "fp8-e5m2":
        return fakeQuantFp8(t, "e5m2");
    }
  };
  return { linearWeight: q("weight"), linearInput: q("input") };
}

/** Inputs of the tracked Linears on one batch (images, or token ids), grouped per block: layers[l] = [qkv, proj, fc1] in forward order. */
export function captureLinearInputs(model: BlockModel, input: tf.Tensor, tracked: readonly string[] = TRACKED): FeatureMatrix[][] {
  const layers: FeatureMatrix[][] = model.blocks.map(() => []);
  const y = model.forward(input, {
    linearInput(name, x) {
      const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
      if (!m || !tracked.includes(m[2]!)) return;
      const C = x.shape[x.rank - 1]!;
      layers[Number(m[1])]!.push({ data: x.dataSync().slice(), positions: x.size / C, features: C });
    },
  });
  y.dispose();
  return layers;
}

/** Magnitude statistics of one tracked tensor. */
export interface TensorStats {
  layer: number;
  tensor: string;
  maxAbs: number;
  rms: number;
  maxOverRms: number;
  kurtosis: number;
}

export interface OutlierSummary {
  count: number;
  features: number[];
}

/** LLM.int8() outlier features (|x| >= 6, and >= 6 RMS) and per-tensor statistics of the tracked inputs on one batch. */
export interface OutlierMeasures {
  outliersAbs: OutlierSummary;
  outliersRel: OutlierSummary;
  tensors: TensorStats[];
}

/** Capture the tracked inputs on `input` and apply the outlier rules (lib/analysis/outliers.ts). */
export function measureOutliers(model: BlockModel, input: tf.Tensor, tracked: readonly string[] = TRACKED): OutlierMeasures {
  const layers = captureLinearInputs(model, input, tracked);
  const abs = outlierFeatures(layers);
  const rel = outlierFeatures(layers, { relative: true });
  return {
    outliersAbs: { count: abs.count, features: abs.outliers },
    outliersRel: { count: rel.count, features: rel.outliers },
    tensors: abs.tensors.map((t) => ({ layer: t.layer, tensor: tracked[t.index] ?? String(t.index), maxAbs: t.maxAbs, rms: t.rms, maxOverRms: t.maxOverRms, kurtosis: t.kurtosis })),
  };
}

/** Mean over tracked tensors of kurtosis, and max over them of max|X|/RMS (NaN without tensors). */
export function tensorAggregates(tensors: readonly TensorStats[]): { kurtosis: number; maxOverRms: number } {
  return {
    kurtosis: tensors.length ? tensors.reduce((x, t) => x + t.kurtosis, 0) / tensors.length : NaN,
    maxOverRms: tensors.length ? Math.max(...tensors.map((t) => t.maxOverRms)) : NaN,
  };
}
