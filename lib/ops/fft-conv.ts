import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";

/**
 * Causal long convolution by FFT (Hyena's fftconv), per channel:
 *   y[b, t, c] = sum_{s=0}^{t} h[s, c] x[b, t - s, c]      (t < L)
 * x [B, L, C] (channels last, as the models hold activations), h [Lh, C],
 * Lh <= L. Both are zero-padded to n = the power of two >= L + Lh - 1 (2L
 * for Lh = L), so the circular convolution of the FFT equals the linear one
 * on the first L outputs: causal, with no wrap-around.
 *
 * Gradients are convolutions of the same kind, computed with the same FFTs:
 *   dx[b, u, c] = sum_t dy[b, t, c] h[t - u, c]  = rev(conv(rev(dy), h))
 *   dh[s, c]    = sum_b sum_t dy[b, t, c] x[b, t - s, c] = rev(sum_b conv(rev(dy), x))
 * (rev = time reversal of the length-L row). The batch sum of dh is taken in
 * the frequency domain, so it costs one inverse FFT per channel.
 *
 * Why our own FFT, not tf.spectral.rfft/irfft: measured with tfjs 4.22, the
 * wasm backend (and so the native engine) has no FFT kernels at all ("Kernel
 * 'Complex' not registered for backend 'wasm'"), and the cpu backend's rfft
 * took 2.1 s for a [8, 256] batch (its FFT is a recursive composition of
 * tensor ops). Here: an iterative radix-2 complex FFT in Float64 over plain
 * arrays, two real rows packed into one complex transform (real + i imag,
 * separated by Hermitian symmetry), on the cpu and wasm engines (the
 * tensors' data is read with dataSync; the op runs in JS on the host,
 * single-threaded). On the native engine the same algorithm runs in the
 * addon (native/dyt_native.cc fftConvFwd / fftConvBwd: in place on the wasm
 * heap, channels split over the thread pool, two batch rows per complex
 * transform since the filter is real); measured on a [16, 256, 64] batch
 * (the dna-hyena bench step's), forward + backward took ~43 ms here in JS.
 */

interface Plan {
  n: number;
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}
const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (p) return p;
  if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  const cos = new Float64Array(n >> 1);
  const sin = new Float64Array(n >> 1);
  for (let k = 0; k < n >> 1; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const bits = Math.round(Math.log2(n));
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { n, cos, sin, rev };
  plans.set(n, p);
  return p;
}

/** In-place complex FFT of (re, im), length a power of two; `inverse` uses conjugate twiddles and does not scale. */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  const { cos, sin, rev } = planFor(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  const sgn = inverse ? -1 : 1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, tw = 0; k < half; k++, tw += step) {
        const wr = cos[tw]!;
        const wi = sgn * sin[tw]!;
        const a = start + k;
        const b = a + half;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/** Spectra [rows, n] of real rows, `fill(r, buf)` writing row r (zero-padded) into buf; two rows per complex FFT. */
function spectra(rows: number, n: number, fill: (r: number, buf: Float64Array) => void): { re: Float64Array; im: Float64Array } {
  const RE = new Float64Array(rows * n);
  const IM = new Float64Array(rows * n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let r = 0; r < rows; r += 2) {
    re.fill(0);
    im.fill(0);
    fill(r, re);
    const pair = r + 1 < rows;
    if (pair) fill(r + 1, im);
    fftInPlace(re, im);
    const o1 = r * n;
    const o2 = (r + 1) * n;
    for (let k = 0; k < n; k++) {
      const nk = (n - k) & (n - 1);
      // Z = X1 + i X2 with X1, X2 Hermitian: X1 = (Z + conj Z[-k]) / 2, X2 = (Z - conj Z[-k]) / 2i.
      RE[o1 + k] = (re[k]! + re[nk]!) / 2;
      IM[o1 + k] = (im[k]! - im[nk]!) / 2;
      if (pair) {
        RE[o2 + k] = (im[k]! + im[nk]!) / 2;
        IM[o2 + k] = (re[nk]! - re[k]!) / 2;
      }
    }
  }
  return { re: RE, im: IM };
}

/**
 * Real rows from spectra: `spec(r, re, im)` writes row r's (Hermitian)
 * spectrum; `emit(r, y)` receives its inverse transform (scaled by 1/n).
 */
function inverseRows(rows: number, n: number, spec: (r: number, re: Float64Array, im: Float64Array) => void, emit: (r: number, y: Float64Array) => void): void {
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const r2 = new Float64Array(n);
  const i2 = new Float64Array(n);
  for (let r = 0; r < rows; r += 2) {
    spec(r, re, im);
    const pair = r + 1 < rows;
    if (pair) {
      // W = Y1 + i Y2; its inverse is y1 + i y2 (both real).
      spec(r + 1, r2, i2);
      for (let k = 0; k < n; k++) {
        const a = re[k]! - i2[k]!;
        im[k] = im[k]! + r2[k]!;
        re[k] = a;
      }
    }
    fftInPlace(re, im, true);
    for (let k = 0; k < n; k++) {
      re[k] = re[k]! / n;
      im[k] = im[k]! / n;
    }
    emit(r, re);
    if (pair) emit(r + 1, im);
  }
}

function nextPow2(m: number): number {
  let n = 1;
  while (n < m) n <<= 1;
  return n;
}

/** Spectra of the filters h [Lh, C], one row per channel. */
function filterSpectra(h: ArrayLike<number>, Lh: number, C: number, n: number): { re: Float64Array; im: Float64Array } {
  return spectra(C, n, (c, buf) => {
    for (let s = 0; s < Lh; s++) buf[s] = h[s * C + c]!;
  });
}

/** Spectra of the rows (b, c) of a [B, L, C] array, row r = b * C + c, optionally time-reversed. */
function signalSpectra(x: ArrayLike<number>, B: number, L: number, C: number, n: number, reversed = false): { re: Float64Array; im: Float64Array } {
  return spectra(B * C, n, (r, buf) => {
    const b = Math.floor(r / C);
    const c = r % C;
    for (let t = 0; t < L; t++) buf[t] = x[(b * L + (reversed ? L - 1 - t : t)) * C + c]!;
  });
}

/** (re, im) (+)= A[oa..] * B[ob..] over n bins. */
function mulSpectra(A: { re: Float64Array; im: Float64Array }, oa: number, Bs: { re: Float64Array; im: Float64Array }, ob: number, n: number, re: Float64Array, im: Float64Array, accumulate = false): void {
  for (let k = 0; k < n; k++) {
    const ar = A.re[oa + k]!;
    const ai = A.im[oa + k]!;
    const br = Bs.re[ob + k]!;
    const bi = Bs.im[ob + k]!;
    const pr = ar * br - ai * bi;
    const pi = ar * bi + ai * br;
    re[k] = accumulate ? re[k]! + pr : pr;
    im[k] = accumulate ? im[k]! + pi : pi;
  }
}

/** Writes row r = b * C + c (its first L values, optionally time-reversed) into out [B, L, C]. */
function writeRow(out: Float32Array, L: number, C: number, reversed: boolean): (r: number, row: Float64Array) => void {
  return (r, row) => {
    const b = Math.floor(r / C);
    const c = r % C;
    for (let t = 0; t < L; t++) out[(b * L + t) * C + c] = row[reversed ? L - 1 - t : t]!;
  };
}

/** Forward on host arrays: x [B, L, C], h [Lh, C] -> y [B, L, C]. */
export function fftConvForward(x: ArrayLike<number>, h: ArrayLike<number>, B: number, L: number, C: number, Lh: number): Float32Array {
  const n = nextPow2(L + Lh - 1);
  const H = filterSpectra(h, Lh, C, n);
  const X = signalSpectra(x, B, L, C, n);
  const y = new Float32Array(B * L * C);
  inverseRows(
    B * C,
    n,
    (r, re, im) => mulSpectra(X, r * n, H, (r % C) * n, n, re, im),
    writeRow(y, L, C, false),
  );
  return y;
}

/** Backward on host arrays: dx [B, L, C] and dh [Lh, C] from dy [B, L, C]. */
export function fftConvBackward(x: ArrayLike<number>, h: ArrayLike<number>, dy: ArrayLike<number>, B: number, L: number, C: number, Lh: number): { dx: Float32Array; dh: Float32Array } {
  // dh needs conv(rev(dy), x) of two length-L rows: 2L - 1 bins at least.
  const N = nextPow2(2 * L - 1);
  const H = filterSpectra(h, Lh, C, N);
  const X = signalSpectra(x, B, L, C, N);
  const D = signalSpectra(dy, B, L, C, N, true);
  const dx = new Float32Array(B * L * C);
  inverseRows(
    B * C,
    N,
    (r, re, im) => mulSpectra(D, r * N, H, (r % C) * N, N, re, im),
    writeRow(dx, L, C, true),
  );
  const dh = new Float32Array(Lh * C);
  inverseRows(
    C,
    N,
    (c, re, im) => {
      re.fill(0);
      im.fill(0);
      for (let b = 0; b < B; b++) mulSpectra(D, (b * C + c) * N, X, (b * C + c) * N, N, re, im, true);
    },
    (c, row) => {
      for (let s = 0; s < Lh; s++) dh[s * C + c] = row[L - 1 - s]!;
    },
  );
  return { dx, dh };
}

/** The native engine's kernels: same math, no host round trip. */
const nativeFftConvOp = withCustomGrad(([x, h], save) => {
  save([x!, h!]);
  return {
    value: tf.engine().runKernel(FUSED_KERNELS.fftConvFwd, { x: x!, h: h! }) as tf.Tensor,
    gradFunc: (dy, [sx, sh]) => tf.engine().runKernel(FUSED_KERNELS.fftConvBwd, { dy, x: sx!, h: sh! }) as tf.Tensor[],
  };
});

const fftConvOp = withCustomGrad(([x, h], save) => {
  save([x!, h!]);
  const [B, L, C] = x!.shape as [number, number, number];
  const Lh = h!.shape[0]!;
  return {
    value: tf.tensor3d(fftConvForward(x!.dataSync(), h!.dataSync(), B, L, C, Lh), [B, L, C]),
    gradFunc: (dy, [sx, sh]) => {
      const { dx, dh } = fftConvBackward(sx!.dataSync(), sh!.dataSync(), dy.dataSync(), B, L, C, Lh);
      return [tf.tensor3d(dx, [B, L, C]), tf.tensor2d(dh, [Lh, C])];
    },
  };
});

/**
 * Causal convolution of x [B, L, C] with per-channel filters h [Lh, C]
 * (Lh <= L) by FFT, differentiable in both; see the file comment.
 */
export function fftConv(x: tf.Tensor, h: tf.Tensor): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`fftConv: x must be [B, L, C], got [${x.shape.join(",")}]`);
  if (h.rank !== 2) throw new Error(`fftConv: h must be [Lh, C], got [${h.shape.join(",")}]`);
  const [, L, C] = x.shape as [number, number, number];
  if (h.shape[1] !== C) throw new Error(`fftConv: h has ${h.shape[1]} channels, x has ${C}`);
  if (h.shape[0]! > L) throw new Error(`fftConv: filter length ${h.shape[0]} exceeds the sequence length ${L}; slice the filter to L`);
  const xf = x.dtype === "float32" ? x : tf.cast(x, "float32");
  if (x.size > 0 && fusedKernelsUsable(xf, h)) return nativeFftConvOp(xf, h) as tf.Tensor3D;
  return fftConvOp(xf, h) as tf.Tensor3D;
}

/** The O(L^2) direct causal convolution (reference for tests), same shapes as fftConvForward. */
export function directCausalConv(x: ArrayLike<number>, h: ArrayLike<number>, B: number, L: number, C: number, Lh: number): Float64Array {
  const y = new Float64Array(B * L * C);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < L; t++)
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k <= Math.min(t, Lh - 1); k++) s += h[k * C + c]! * x[(b * L + t - k) * C + c]!;
        y[(b * L + t) * C + c] = s;
      }
  return y;
}
