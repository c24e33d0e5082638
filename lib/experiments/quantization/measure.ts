/**
 * What the quantization experiment measures on a trained model: the inputs
 * of every block's q/k/v (= norm1 output in pre-norm), Wo and fc1 on a fixed
 * test batch (LLM.int8() protocol: fc2's input and the attention internals
 * are skipped), and the test accuracy under post-training fake quantisation of
 * every block Linear (weights and inputs; norms, softmax, residuals, embedding
 * and head stay fp32).
 */
import type * as tf from "@tensorflow/tfjs";
import type { FeatureMatrix } from "../../analysis/outliers";
import { fakeQuantFp8, fakeQuantInt8 } from "../../analysis/quant";
import type { ViT } from "../../models/vit";
import type { ForwardOptions } from "../../models/transformer";

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

/** The tracked Linears of a block (LLM.int8 protocol: skip fc2's input and the attention internals). */
export const TRACKED = ["attn.qkv", "attn.proj", "mlp.fc1"] as const;

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

/** Inputs of the tracked Linears on one batch, grouped per block: layers[l] = [qkv, proj, fc1]. */
export function captureLinearInputs(model: ViT, images: tf.Tensor): FeatureMatrix[][] {
  const layers: FeatureMatrix[][] = model.blocks.map(() => []);
  const y = model.forward(images, {
    linearInput(name, x) {
      const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
      if (!m || !(TRACKED as readonly string[]).includes(m[2]!)) return;
      const C = x.shape[x.rank - 1]!;
      layers[Number(m[1])]!.push({ data: x.dataSync().slice(), positions: x.size / C, features: C });
    },
  });
  y.dispose();
  return layers;
}
