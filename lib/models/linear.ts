import * as tf from "@tensorflow/tfjs";
import { scaledWeightStandardizationKernel, sigmaOf } from "../analysis/reparam";
import { linear } from "../ops/matmul";
import { fp8Linear, type Fp8MatmulSpec } from "../ops/fp8-matmul";
import type { ParamStore } from "../ops/param";
import { Rng } from "../util/rng";

/**
 * How a Linear turns its stored kernel into the weight it multiplies by:
 *   plain: W as stored.
 *   sigma: sigma-Reparam, W_hat = (gamma / sigma(W)) W with sigma from one
 *          power-iteration step per forward (apple/ml-sigma-reparam).
 *   sws:   Scaled Weight Standardization, per output unit (NF nets).
 */
export type WeightKind = "plain" | "sigma" | "sws";

/** Initial kernel values. Shapes are tfjs kernel layout [in, out]. */
export type LinearInit =
  | { kind: "truncNormal"; std: number }
  /** U(+-bound) for the kernel; bias U(+-biasBound) when given, else zeros (PyTorch default Linear/Conv). */
  | { kind: "uniform"; bound: number; biasBound?: number }
  /**
   * Xavier-uniform, bound sqrt(6 / (fanIn + fanOut)) x scale. `groups` splits
   * the output columns into equal blocks (a fused q|k|v kernel): each block
   * uses its own fan-out and may carry its own extra scale.
   */
  | { kind: "xavier"; scale?: number; groups?: number; groupScales?: number[] }
  | { kind: "zeros" };

/** Forward-time hooks on every Linear (lib/hooks, quantization studies). */
export interface LinearHooks {
  /** Sees (and may replace, e.g. fake-quantise) the Linear's input. Return nothing to keep it. */
  linearInput?: (name: string, x: tf.Tensor) => tf.Tensor | void;
  /** Sees (and may replace) the effective weight [in, out] (after sigma-Reparam / SWS). */
  linearWeight?: (name: string, w: tf.Tensor) => tf.Tensor | void;
  /** Training-mode forward: sigma-Reparam writes its power-iteration vector back only then. */
  training?: boolean;
  /** Run the matmul in emulated FP8 (lib/ops/fp8-matmul.ts), forward and backward; unset = fp32. */
  fp8?: Fp8MatmulSpec;
}

/** Power-iteration iterations used to initialise u (no SVD in tfjs). */
const SIGMA_INIT_ITERS = 100;

/**
 * One power-iteration step on a row-major kernel K [in, out] (W = K^T):
 * v = normalize(u K), u' = normalize(K v). Plain JS: the vectors are
 * constants of the forward pass (sigma-Reparam lets gradients flow through
 * sigma only), so computing them off the autodiff tape is what the method asks.
 */
export function powerStepKernel(K: ArrayLike<number>, inDim: number, outDim: number, u: ArrayLike<number>): { u: Float32Array; v: Float32Array } {
  const v = new Float64Array(outDim);
  for (let i = 0; i < inDim; i++) {
    const ui = u[i]!;
    if (ui === 0) continue;
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) v[j] += ui * K[row + j]!;
  }
  const vn = Math.max(Math.hypot(...v), 1e-12);
  const u1 = new Float64Array(inDim);
  for (let i = 0; i < inDim; i++) {
    let s = 0;
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) s += K[row + j]! * v[j]!;
    u1[i] = s / vn;
  }
  const un = Math.max(Math.hypot(...u1), 1e-12);
  return { u: Float32Array.from(u1, (x) => x / un), v: Float32Array.from(v, (x) => x / vn) };
}

/** sigma = u^T K v in double precision (for initialisation and tests). */
export function sigmaKernel(K: ArrayLike<number>, inDim: number, outDim: number, u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) s += u[i]! * K[i * outDim + j]! * v[j]!;
  return s;
}

/**
 * A Linear layer x[..., in] @ W[in, out] + b with a selectable weight
 * parameterisation. Parameters live in `store` under its scope: w, b, and
 * for sigma: gamma (trained scalar) and u (non-trained buffer, checkpointed
 * with the model so a resumed run continues the same power iteration); for
 * sws: gain (per output unit, init 1).
 */
export class Linear {
  readonly w: tf.Variable;
  /** Undefined when built with bias false (LLaMA has no biases). */
  readonly b: tf.Variable | undefined;
  readonly gamma?: tf.Variable;
  readonly u?: tf.Variable;
  readonly gain?: tf.Variable;
  readonly name: string;
  constructor(
    store: ParamStore,
    name: string,
    readonly inDim: number,
    readonly outDim: number,
    init: LinearInit,
    readonly kind: WeightKind = "plain",
    bias = true,
  ) {
    const s = store.scope(name);
    this.name = s.prefix;
    this.w = makeKernel(s, inDim, outDim, init);
    // A zero bias draws no random numbers, so bias=false leaves every other weight unchanged.
    this.b = !bias
      ? undefined
      : init.kind === "uniform" && init.biasBound !== undefined
        ? s.uniform("b", [outDim], init.biasBound, false)
        : s.constant("b", [outDim], 0, false);
    if (kind === "sigma") {
      // u starts at the top right-singular vector (100 power iterations from a
      // start seeded by the layer's name, so the main Rng stream -- and with it
      // every weight -- stays identical to the plain model of the same seed).
      const K = this.w.dataSync();
      const rng = new Rng(hashName(this.name));
      let u: Float32Array = Float32Array.from({ length: inDim }, () => rng.normal());
      let v: Float32Array = new Float32Array(outDim);
      for (let it = 0; it < SIGMA_INIT_ITERS; it++) ({ u, v } = powerStepKernel(K, inDim, outDim, u));
      const sigma0 = sigmaKernel(K, inDim, outDim, u, v);
      // gamma = sigma(W0) makes W_hat = W0 at init (vision code); a zero kernel has no direction: gamma 1.
      this.gamma = s.constant("gamma", [1], sigma0 > 0 ? sigma0 : 1);
      this.u = s.add("u", u, [inDim], false);
      this.u.trainable = false;
    } else if (kind === "sws") {
      this.gain = s.constant("gain", [outDim], 1);
    }
  }

  /** The weight actually multiplied by, [in, out] (differentiable in the parameters). */
  effectiveWeight(hooks?: LinearHooks): tf.Tensor {
    let w: tf.Tensor = this.w;
    if (this.kind === "sigma") {
      const { u, v } = powerStepKernel(this.w.dataSync(), this.inDim, this.outDim, this.u!.dataSync());
      const ut = tf.tensor1d(u);
      const vt = tf.tensor1d(v);
      if (hooks?.training) this.u!.assign(ut);
      const sigma = sigmaOf(this.w as unknown as tf.Tensor2D, ut, vt);
      w = tf.mul(this.w, tf.div(this.gamma!, sigma));
    } else if (this.kind === "sws") {
      w = scaledWeightStandardizationKernel(this.w, this.gain);
    }
    return hooks?.linearWeight?.(this.name, w) ?? w;
  }

  apply(x: tf.Tensor, hooks?: LinearHooks): tf.Tensor {
    const xin = hooks?.linearInput?.(this.name, x) ?? x;
    const w = this.effectiveWeight(hooks);
    return hooks?.fp8 ? fp8Linear(xin, w, this.b, hooks.fp8) : linear(xin, w, this.b);
  }
}

function makeKernel(s: ParamStore, inDim: number, outDim: number, init: LinearInit): tf.Variable {
  switch (init.kind) {
    case "truncNormal":
      return s.truncNormal("w", [inDim, outDim], init.std, true);
    case "uniform":
      return s.uniform("w", [inDim, outDim], init.bound, true);
    case "zeros":
      return s.constant("w", [inDim, outDim], 0, true);
    case "xavier": {
      const groups = init.groups ?? 1;
      if (outDim % groups !== 0) throw new Error(`xavier init: ${outDim} output columns do not split into ${groups} groups`);
      const per = outDim / groups;
      const bound = Math.sqrt(6 / (inDim + per)) * (init.scale ?? 1);
      const vals = new Float32Array(inDim * outDim);
      for (let i = 0; i < vals.length; i++) {
        const g = Math.floor((i % outDim) / per);
        vals[i] = (2 * s.rng.next() - 1) * bound * (init.groupScales?.[g] ?? 1);
      }
      return s.add("w", vals, [inDim, outDim], true);
    }
  }
}

/** FNV-1a of a parameter name: a stable per-layer seed. */
function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
