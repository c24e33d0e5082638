/**
 * The invariance properties of LayerNorm, RMSNorm and DyT, measured
 * numerically (baselines.md "Invariances", after Ba et al. 2016, Table 1).
 * A norm layer f follows a linear layer x = h W + b, h ~ N(0,1)^[rows, Cin];
 * each transformation T changes W, b or h, and we report
 * rel = ||f(T x) - f(x)|| / ||f(x)||.
 *
 * Theory: LN is invariant to rescaling W and b together, to re-centering W
 * (adding one vector to every output unit's weights) and to rescaling one
 * example (no bias); not to rescaling one unit's weights or re-centering the
 * data. RMSNorm keeps the scale invariances and loses the re-centering one.
 * DyT has none; it only reparameterises: DyT_a(c x) = DyT_(c a)(x).
 */
import * as tf from "@tensorflow/tfjs";
import { makeNorm } from "../../norms/factory";
import type { NormKind } from "../../norms/types";
import { Rng } from "../../util/rng";

export const INVARIANCE_NORMS = ["layernorm", "rmsnorm", "dyt"] as const;
export type InvarianceNorm = (typeof INVARIANCE_NORMS)[number];

export const TRANSFORMS = ["weight-rescale", "weight-recenter", "example-rescale", "unit-rescale", "data-recenter", "dyt-reparam"] as const;
export type Transform = (typeof TRANSFORMS)[number];

export const TRANSFORM_LABEL: Record<Transform, string> = {
  "weight-rescale": "rescale the preceding linear: W→cW, b→cb (c=10)",
  "weight-recenter": "re-center the weights: W→W + γ·1ᵀ (every unit gets the same γ)",
  "example-rescale": "rescale each example: h_t→c_t·h_t, no bias (c_t∈[0.5,5])",
  "unit-rescale": "rescale one unit's weights: W[:,0]→10·W[:,0] (control)",
  "data-recenter": "re-center the data: x→x + v, one v for all examples (control)",
  "dyt-reparam": "DyT_α(c·x) vs DyT_(cα)(x), c=10 (reparameterisation)",
};

/** Theory (Ba et al. 2016 Table 1; baselines.md): which (norm, transform) pairs leave the output unchanged. */
export const EXPECTED_INVARIANT: Record<InvarianceNorm, Record<Transform, boolean>> = {
  layernorm: { "weight-rescale": true, "weight-recenter": true, "example-rescale": true, "unit-rescale": false, "data-recenter": false, "dyt-reparam": false },
  rmsnorm: { "weight-rescale": true, "weight-recenter": false, "example-rescale": true, "unit-rescale": false, "data-recenter": false, "dyt-reparam": false },
  dyt: { "weight-rescale": false, "weight-recenter": false, "example-rescale": false, "unit-rescale": false, "data-recenter": false, "dyt-reparam": true },
};

/** rel below this = invariant; above CHANGED_REL = changed (baselines.md: 1e-5 and 1e-2). In between: inconclusive. */
export const INVARIANT_REL = 1e-5;
export const CHANGED_REL = 1e-2;

export interface InvarianceRow {
  transform: Transform;
  norm: InvarianceNorm;
  rel: number;
  expectedInvariant: boolean;
  /** rel < INVARIANT_REL when invariance is expected, rel > CHANGED_REL when it is not. */
  pass: boolean;
}

export interface InvarianceOptions {
  rows?: number;
  inDim?: number;
  dim?: number;
  seed?: number;
  /** Scale c of the weight rescale and of the DyT reparameterisation. */
  c?: number;
  alpha0?: number;
  eps?: number;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

/**
 * Every (transform, norm) pair's rel, for the transforms that apply to it
 * (dyt-reparam only to DyT). Norms have gamma = 1, beta = 0 (the affine does
 * not change any invariance). LN/RMS eps is 1e-6, tiny against the input
 * variance (>= 0.25 here), so an invariant pair's rel is float32 rounding.
 */
export function invarianceTable(opts: InvarianceOptions = {}): InvarianceRow[] {
  const rows = opts.rows ?? 64;
  const inDim = opts.inDim ?? 64;
  const C = opts.dim ?? 64;
  const c = opts.c ?? 10;
  const alpha0 = opts.alpha0 ?? 0.5;
  const eps = opts.eps ?? 1e-6;
  const rng = new Rng(opts.seed ?? 0);
  const normal = (n: number, std = 1) => Float32Array.from({ length: n }, () => rng.normal() * std);
  // W ~ N(0, 1/inDim) so x = h W + b has unit-scale entries, as in baselines.md's x ~ N(0,1).
  const h = normal(rows * inDim);
  const W = normal(inDim * C, 1 / Math.sqrt(inDim));
  const b = normal(C, 0.5);
  const gammaRe = normal(inDim, 1 / Math.sqrt(inDim));
  const v = normal(C);
  const ct = Float32Array.from({ length: rows }, () => 0.5 + 4.5 * rng.next());

  const out: InvarianceRow[] = [];
  tf.tidy(() => {
    const hT = tf.tensor2d(h, [rows, inDim]);
    const WT = tf.tensor2d(W, [inDim, C]);
    const bT = tf.tensor1d(b);
    const lin = (hh: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => (bb ? tf.add(tf.matMul(hh as tf.Tensor2D, ww as tf.Tensor2D), bb) : tf.matMul(hh as tf.Tensor2D, ww as tf.Tensor2D));
    const x = lin(hT, WT, bT);
    const x0 = lin(hT, WT); // no bias: for the per-example rescale
    const transformed: Record<Exclude<Transform, "dyt-reparam">, { base: tf.Tensor; moved: tf.Tensor }> = {
      "weight-rescale": { base: x, moved: lin(hT, tf.mul(WT, c), tf.mul(bT, c)) },
      // W + gamma 1^T: x[t, j] gains h_t . gamma for every unit j (the same shift across a token's channels).
      "weight-recenter": { base: x, moved: lin(hT, tf.add(WT, tf.tensor2d(gammaRe, [inDim, 1])), bT) },
      "example-rescale": { base: x0, moved: lin(tf.mul(hT, tf.tensor2d(ct, [rows, 1])), WT) },
      "unit-rescale": { base: x, moved: lin(hT, tf.mul(WT, tf.tensor1d(Float32Array.from({ length: C }, (_, j) => (j === 0 ? 10 : 1)))), bT) },
      "data-recenter": { base: x, moved: tf.add(x, tf.tensor1d(v)) },
    };
    for (const norm of INVARIANCE_NORMS) {
      const f = makeNorm(norm as NormKind, C, { alpha0, eps });
      for (const [t, { base, moved }] of Object.entries(transformed) as [Exclude<Transform, "dyt-reparam">, { base: tf.Tensor; moved: tf.Tensor }][]) {
        const rel = relDiff(f.apply(moved).dataSync() as Float32Array, f.apply(base).dataSync() as Float32Array);
        out.push(row(t, norm, rel));
      }
      if (norm === "dyt") {
        const g = makeNorm("dyt", C, { alpha0: c * alpha0 });
        const rel = relDiff(f.apply(tf.mul(x, c)).dataSync() as Float32Array, g.apply(x).dataSync() as Float32Array);
        out.push(row("dyt-reparam", norm, rel));
        for (const p of g.params) p.variable.dispose();
      }
      for (const p of f.params) p.variable.dispose();
    }
  });
  return out;
}

function row(transform: Transform, norm: InvarianceNorm, rel: number): InvarianceRow {
  const expectedInvariant = EXPECTED_INVARIANT[norm][transform];
  return { transform, norm, rel, expectedInvariant, pass: expectedInvariant ? rel < INVARIANT_REL : rel > CHANGED_REL };
}
