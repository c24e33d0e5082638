/**
 * Pure math behind the norm-free baselines (baselines.md section 1):
 * sigma-Reparam's power iteration, NF-style Scaled Weight Standardization and
 * Adaptive Gradient Clipping, and the Fixup / T-Fixup / NF init factors.
 * Plain-array versions (math layout, W[out][in]) are the tested reference;
 * the tensor versions take tfjs kernel layout ([in, out], or [..., in, out]
 * for convs: the output unit is the LAST axis).
 */
import * as tf from "@tensorflow/tfjs";
import { erf } from "./special";
import { Rng } from "../util/rng";

/** Row-major matrix in math layout: W[i] is output unit i's weight vector (length fan_in). */
export type Matrix = number[][];

function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function normalize(v: number[]): number[] {
  const n = norm2(v);
  return n === 0 ? v.map(() => 0) : v.map((x) => x / n);
}

function matVec(W: Matrix, u: ArrayLike<number>): number[] {
  return W.map((row) => row.reduce((s, w, j) => s + w * u[j]!, 0));
}

function matTVec(W: Matrix, v: ArrayLike<number>): number[] {
  const cols = W[0]?.length ?? 0;
  const out = new Array<number>(cols).fill(0);
  W.forEach((row, i) => row.forEach((w, j) => (out[j] += w * v[i]!)));
  return out;
}

// ---------------------------------------------------------------- sigma-Reparam

export interface PowerStep {
  /** Updated right vector (input dim). */
  u: number[];
  /** Left vector (output dim). */
  v: number[];
  /** v^T W u with the UPDATED u (as apple/ml-sigma-reparam). */
  sigma: number;
}

/** One power-iteration step: v = normalize(W u); u = normalize(W^T v); sigma = v^T W u. */
export function powerIterationStep(W: Matrix, u: ArrayLike<number>): PowerStep {
  const v = normalize(matVec(W, u));
  const u1 = normalize(matTVec(W, v));
  const Wu = matVec(W, u1);
  const sigma = v.reduce((s, vi, i) => s + vi * Wu[i]!, 0);
  return { u: u1, v, sigma };
}

export interface TopSingularOptions {
  /** Iterations (default 100, the sigma-Reparam u init). */
  iters?: number;
  /** Start vector; default a seeded random one (a fixed all-ones start can be orthogonal to the top vector). */
  u0?: ArrayLike<number>;
  seed?: number;
}

/** Top singular value (and vectors) by repeated power iteration. */
export function topSingularValue(W: Matrix, opts: TopSingularOptions = {}): PowerStep {
  const cols = W[0]?.length ?? 0;
  let u: number[];
  if (opts.u0) u = Array.from(opts.u0);
  else {
    const rng = new Rng(opts.seed ?? 0);
    u = Array.from({ length: cols }, () => rng.normal());
  }
  let step: PowerStep = { u: normalize(u), v: [], sigma: NaN };
  for (let i = 0; i < (opts.iters ?? 100); i++) step = powerIterationStep(W, step.u);
  return step;
}

/**
 * Tensor power-iteration step for a tfjs kernel K [in, out] (W = K^T):
 * v = normalize(u K) [out], u' = normalize(K v) [in], sigma = u'^T K v.
 * Run it outside the gradient tape (u, v are constants in sigma-Reparam),
 * then use sigmaOf(kernel, u, v) inside so the gradient flows through sigma.
 */
export function powerIterationStepTensor(kernel: tf.Tensor2D, u: tf.Tensor1D): { u: tf.Tensor1D; v: tf.Tensor1D; sigma: tf.Scalar } {
  return tf.tidy(() => {
    const unit = (t: tf.Tensor1D): tf.Tensor1D => tf.div(t, tf.maximum(tf.norm(t), 1e-12));
    const v = unit(tf.squeeze(tf.matMul(tf.reshape(u, [1, -1]), kernel), [0]) as tf.Tensor1D);
    const u1 = unit(tf.squeeze(tf.matMul(kernel, tf.reshape(v, [-1, 1])), [1]) as tf.Tensor1D);
    return { u: u1, v, sigma: sigmaOf(kernel, u1, v) };
  });
}

/** sigma = u^T K v for a kernel [in, out] (= v^T W u); differentiable in K. */
export function sigmaOf(kernel: tf.Tensor2D, u: tf.Tensor1D, v: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(tf.mul(tf.reshape(u, [-1, 1]), kernel), tf.reshape(v, [1, -1]))) as tf.Scalar);
}

// ---------------------------------------------------------------- NF: SWS and AGC

/**
 * Scaled Weight Standardization (timm std_conv.py), per output unit i:
 * W_hat_i = gain_i (W_i - mean(W_i)) / sqrt((var(W_i) + eps) * fan_in),
 * biased var. Each row of the result has unit L2 norm (gain 1, eps -> 0),
 * which is what keeps activations unit-variance without a norm layer.
 */
export function scaledWeightStandardization(W: Matrix, gain?: ArrayLike<number>, eps = 1e-6): Matrix {
  return W.map((row, i) => {
    const n = row.length;
    const m = row.reduce((s, w) => s + w, 0) / n;
    const v = row.reduce((s, w) => s + (w - m) * (w - m), 0) / n;
    const k = (gain ? gain[i]! : 1) / Math.sqrt((v + eps) * n);
    return row.map((w) => (w - m) * k);
  });
}

/** SWS on a tfjs kernel (output unit = last axis; fan_in = product of the other axes). Differentiable. */
export function scaledWeightStandardizationKernel(kernel: tf.Tensor, gain?: tf.Tensor, eps = 1e-6): tf.Tensor {
  return tf.tidy(() => {
    const axes = kernel.shape.slice(0, -1).map((_, i) => i);
    const fanIn = kernel.size / kernel.shape[kernel.shape.length - 1]!;
    const { mean, variance } = tf.moments(kernel, axes, true);
    let w = tf.div(tf.sub(kernel, mean), tf.sqrt(tf.mul(tf.add(variance, eps), fanIn)));
    if (gain) w = tf.mul(w, gain);
    return w;
  });
}

export interface AgcOptions {
  /** Clip factor lambda (default 0.01). */
  lam?: number;
  /** Floor on the weight norm (default 1e-3): zero-init weights may still move. */
  eps?: number;
}

/** AGC (timm agc.py): per unit, if ||G_i|| > lam*max(||W_i||, eps) then G_i *= lam*max(||W_i||, eps)/||G_i||. */
export function agcClip(W: Matrix, G: Matrix, opts: AgcOptions = {}): Matrix {
  const lam = opts.lam ?? 0.01;
  const eps = opts.eps ?? 1e-3;
  return G.map((g, i) => {
    const maxNorm = lam * Math.max(norm2(W[i]!), eps);
    const gn = norm2(g);
    return gn > maxNorm ? g.map((x) => (x * maxNorm) / Math.max(gn, 1e-6)) : g.slice();
  });
}

/**
 * AGC on tensors: unit = last axis for rank >= 2 (tfjs kernels), whole tensor
 * for rank <= 1 (biases, as timm's unitwise_norm). Skip the head (caller's job).
 */
export function agcClipTensor(param: tf.Tensor, grad: tf.Tensor, opts: AgcOptions = {}): tf.Tensor {
  const lam = opts.lam ?? 0.01;
  const eps = opts.eps ?? 1e-3;
  return tf.tidy(() => {
    const unitNorm = (t: tf.Tensor): tf.Tensor =>
      t.rank <= 1 ? tf.norm(t) : tf.sqrt(tf.sum(tf.square(t), t.shape.slice(0, -1).map((_, i) => i), true));
    const maxNorm = tf.mul(tf.maximum(unitNorm(param), eps), lam);
    const gn = unitNorm(grad);
    const clipped = tf.mul(grad, tf.div(maxNorm, tf.maximum(gn, 1e-6)));
    return tf.where(tf.broadcastTo(tf.greater(gn, maxNorm), grad.shape), clipped, grad);
  });
}

// ---------------------------------------------------------------- init factors

/** Fixup general rule: branch layers scaled by L^(-1/(2m-2)) for m layers per branch (L residual branches). */
export function fixupScale(L: number, m: number): number {
  if (m < 2) throw new Error("fixupScale: m must be >= 2");
  return Math.pow(L, -1 / (2 * m - 2));
}

/** Fixup transformer form (transformer_zero.py): q/k/v x L^-1/6, fc1 x L^-1/2; Wo and fc2 start at 0. */
export function fixupTransformerScales(L: number): { qkv: number; fc1: number } {
  return { qkv: Math.pow(L, -1 / 6), fc1: Math.pow(L, -1 / 2) };
}

/**
 * T-Fixup factor for N layers: encoder blocks (and encoder-only/decoder-only
 * models, project convention) 0.67 N^-1/4; encoder-decoder decoder blocks and
 * the embeddings (9N)^-1/4.
 */
export function tfixupScale(N: number, part: "encoder" | "decoder" | "embedding" = "encoder"): number {
  return part === "encoder" ? 0.67 * Math.pow(N, -1 / 4) : Math.pow(9 * N, -1 / 4);
}

/** NF branch input divisor beta_k = sqrt(1 + k alpha^2): the expected residual std before branch k. */
export function nfBeta(k: number, alpha = 0.2): number {
  return Math.sqrt(1 + k * alpha * alpha);
}

export function nfBetas(branches: number, alpha = 0.2): number[] {
  return Array.from({ length: branches }, (_, k) => nfBeta(k, alpha));
}

/**
 * gamma_act = 1/std(act(z)), z ~ N(0,1), by Simpson quadrature on [-12, 12]
 * (ReLU 1.71286, exact-erf GELU 1.70093). Keeps NF branches unit-variance.
 */
export function nfActivationGamma(act: "relu" | "gelu" | "gelu-tanh" | ((z: number) => number)): number {
  const f =
    typeof act === "function"
      ? act
      : act === "relu"
        ? (z: number) => Math.max(z, 0)
        : act === "gelu"
          ? (z: number) => 0.5 * z * (1 + erf(z / Math.SQRT2))
          : (z: number) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
  const n = 24000; // even; step 1e-3
  const lo = -12;
  const h = 24 / n;
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i <= n; i++) {
    const z = lo + i * h;
    const w = (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * (h / 3) * (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI));
    const y = f(z);
    m1 += w * y;
    m2 += w * y * y;
  }
  return 1 / Math.sqrt(m2 - m1 * m1);
}
