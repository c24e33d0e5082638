/**
 * The Fréchet distance between two Gaussians fitted to feature sets (the
 * statistic behind FID, Heusel et al. 2017):
 *   FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2).
 * The matrix square roots come from symmetric eigendecompositions (mathjs's
 * eigs, Jacobi): S_a^1/2 S_b S_a^1/2 is symmetric positive semi-definite, so
 * the trace of its root is the sum of the roots of its eigenvalues, with
 * round-off negatives clamped to 0. With the lab's classifiers' features in
 * place of Inception's it is a proxy for FID, not FID.
 */
/// <reference path="../types/mathjs.d.ts" />
import { eigs } from "mathjs";

export interface GaussianStats {
  /** Feature dimension. */
  d: number;
  /** Samples the statistics came from. */
  n: number;
  mean: Float64Array;
  /** Covariance (n - 1 denominator), row-major d x d. */
  cov: Float64Array;
}

/** Mean and covariance of n feature vectors of dimension d (row-major [n, d]). */
export function gaussianStats(features: ArrayLike<number>, n: number, d: number): GaussianStats {
  if (!(Number.isInteger(n) && n >= 2 && Number.isInteger(d) && d >= 1)) throw new Error(`gaussianStats: need n >= 2 samples of dimension d >= 1, got n=${n}, d=${d}`);
  if (features.length !== n * d) throw new Error(`gaussianStats: ${features.length} values are not n x d = ${n} x ${d}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += features[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = features[i * d + j]! - mean[j]!;
    for (let j = 0; j < d; j++) {
      const cj = c[j]!;
      if (cj === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k]! += cj * c[k]!;
    }
  }
  for (let j = 0; j < d; j++)
    for (let k = j; k < d; k++) {
      const v = cov[j * d + k]! / (n - 1);
      if (!Number.isFinite(v)) throw new Error(`gaussianStats: non-finite covariance at (${j}, ${k}); the features hold NaN or Infinity`);
      cov[j * d + k] = v;
      cov[k * d + j] = v;
    }
  return { d, n, mean, cov };
}

function toRows(m: Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from(m.subarray(i * d, (i + 1) * d)));
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric d x d matrix. */
function symEig(m: Float64Array, d: number): { values: number[]; vectors: Float64Array } {
  const r = eigs(toRows(m, d));
  return { values: r.values, vectors: Float64Array.from(r.vectors.flat()) };
}

/** The PSD square root V diag(sqrt(max(l, 0))) V^T of a symmetric matrix. */
export function sqrtPsd(m: Float64Array, d: number): Float64Array {
  const { values, vectors } = symEig(m, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(values[k]!, 0));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vi = vectors[i * d + k]! * s;
      if (vi === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j]! += vi * vectors[j * d + k]!;
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j]! += aik * b[k * d + j]!;
    }
  return out;
}

/** The Fréchet distance between the Gaussians of two feature sets of the same dimension. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.d !== b.d) throw new Error(`frechetDistance: feature dimensions differ (${a.d} vs ${b.d}); use one feature extractor`);
  const d = a.d;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j]! - b.mean[j]!) ** 2;
  let trA = 0;
  let trB = 0;
  for (let j = 0; j < d; j++) {
    trA += a.cov[j * d + j]!;
    trB += b.cov[j * d + j]!;
  }
  const ra = sqrtPsd(a.cov, d);
  const m = matmul(matmul(ra, b.cov, d), ra, d);
  // Symmetrise away round-off before the symmetric eigensolver.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const v = (m[i * d + j]! + m[j * d + i]!) / 2;
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  const trCross = symEig(m, d).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  // Round-off can push identical distributions a hair below 0.
  return Math.max(0, meanTerm + trA + trB - 2 * trCross);
}
