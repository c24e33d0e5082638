/**
 * Fake quantisation (quantise then dequantise, all float32 tfjs ops) for the
 * int8 and FP8 robustness studies. Every function returns new tensors that the
 * caller owns; intermediates are freed with tf.tidy.
 *
 * Rounding is round-half-to-even everywhere (int8 and the FP8 mantissa), as
 * in PyTorch/numpy/ml_dtypes. tf.round is RNE on the cpu and wasm backends
 * (checked by test/analysis-quant.test.ts), but an engine could register a
 * different Round kernel, so roundHalfEven() probes the active backend once
 * and falls back to an explicit RNE built from floor.
 */
import * as tf from "@tensorflow/tfjs";

// ---------------------------------------------------------------- rounding

const PROBE_IN = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 4194304.5, 8388607.5, 3.5000002];
const PROBE_OUT = [0, 2, 2, 0, -2, -2, 0, 0, 4194304, 8388608, 4];
const roundIsRne = new Map<string, boolean>();

/** Does the active backend's tf.round round half to even? Probed once per backend name. */
export function tfRoundIsHalfEven(): boolean {
  const backend = tf.getBackend();
  let ok = roundIsRne.get(backend);
  if (ok === undefined) {
    const x = tf.tensor1d(PROBE_IN, "float32");
    const r = tf.round(x);
    try {
      const got = r.dataSync();
      ok = PROBE_OUT.every((v, i) => got[i] === v);
    } catch {
      ok = true; // a backend without sync reads: trust the documented RNE
    } finally {
      x.dispose();
      r.dispose();
    }
    roundIsRne.set(backend, ok);
  }
  return ok;
}

/**
 * RNE from floor: on |x| the fraction a - floor(a) is exact in float32, so
 * the tie test d == 0.5 is exact; the sign is put back afterwards.
 */
export function roundHalfEvenManual(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    const f = tf.floor(a);
    const d = tf.sub(a, f);
    const odd = tf.notEqual(tf.mod(f, 2), 0);
    const up = tf.logicalOr(tf.greater(d, 0.5), tf.logicalAnd(tf.equal(d, 0.5), odd));
    return tf.mul(tf.sign(x), tf.add(f, tf.cast(up, "float32")));
  });
}

/** Round half to even: tf.round where the backend does RNE (cpu, wasm), the explicit form otherwise. */
export function roundHalfEven(x: tf.Tensor): tf.Tensor {
  return tfRoundIsHalfEven() ? tf.round(x) : roundHalfEvenManual(x);
}

// ---------------------------------------------------------------- int8

export const INT8_QMAX = 127;
/** Floor on amax so an all-zero tensor gets a finite scale (baselines.md: s = max(amax, 1e-12)/127). */
export const AMAX_FLOOR = 1e-12;

export interface Int8Options {
  /**
   * Axis (or axes) amax is reduced over; omitted = per tensor. For a tfjs
   * Dense kernel [in, out], per output channel is amaxAxis 0; per row of a
   * matrix / per token of [B,T,C] activations is amaxAxis -1.
   */
  amaxAxis?: number | number[];
  /** Static quantisation: a fixed (calibrated) amax; s = max(amax, 1e-12)/127. */
  amax?: number | tf.Tensor;
  /** Static quantisation: a fixed scale s (takes precedence over amax). */
  scale?: number | tf.Tensor;
}

export interface Int8Quantized {
  /** Integer codes in [-127, 127], stored as float32. */
  q: tf.Tensor;
  /** Scale, broadcastable against x (keepDims shape for per-axis). */
  scale: tf.Tensor;
  /** q * scale. */
  xHat: tf.Tensor;
}

/** Absolute max over amaxAxis (keepDims, so it broadcasts back), or over everything. */
export function amaxOf(x: tf.Tensor, amaxAxis?: number | number[]): tf.Tensor {
  return tf.tidy(() => (amaxAxis === undefined ? tf.max(tf.abs(x)) : tf.max(tf.abs(x), amaxAxis, true)));
}

/** Symmetric int8 scale s = max(amax, 1e-12)/127. */
export function int8Scale(x: tf.Tensor, amaxAxis?: number | number[]): tf.Tensor {
  return tf.tidy(() => tf.div(tf.maximum(amaxOf(x, amaxAxis), AMAX_FLOOR), INT8_QMAX));
}

/** Symmetric int8: q = clip(rne(x/s), -127, 127), x_hat = q*s. Dynamic (scale from x) unless scale/amax is given. */
export function quantizeInt8(x: tf.Tensor, opts: Int8Options = {}): Int8Quantized {
  return tf.tidy(() => {
    let scale: tf.Tensor;
    if (opts.scale !== undefined) scale = tf.cast(typeof opts.scale === "number" ? tf.scalar(opts.scale) : opts.scale, "float32");
    else if (opts.amax !== undefined)
      scale = tf.div(tf.maximum(typeof opts.amax === "number" ? tf.scalar(opts.amax) : opts.amax, AMAX_FLOOR), INT8_QMAX);
    else scale = int8Scale(x, opts.amaxAxis);
    const q = tf.clipByValue(roundHalfEven(tf.div(x, scale)), -INT8_QMAX, INT8_QMAX);
    return { q, scale, xHat: tf.mul(q, scale) };
  });
}

/** x_hat only (the usual fake-quant call in a forward pass). */
export function fakeQuantInt8(x: tf.Tensor, opts: Int8Options = {}): tf.Tensor {
  return tf.tidy(() => quantizeInt8(x, opts).xHat);
}

/**
 * Static activation calibration: running max|x| over calibration batches
 * (baselines.md: max over 32 batches). Reads one number per batch.
 */
export class AmaxCalibrator {
  private value = 0;
  private batches = 0;
  observe(x: tf.Tensor): void {
    const m = tf.tidy(() => tf.max(tf.abs(x)));
    const v = m.dataSync()[0]!;
    m.dispose();
    if (!Number.isNaN(v)) this.value = Math.max(this.value, v);
    this.batches++;
  }
  get amax(): number {
    return this.value;
  }
  get count(): number {
    return this.batches;
  }
}

/**
 * SmoothQuant per-input-channel factors s_j = max|X_j|^alpha / max|W_j|^(1-alpha)
 * (alpha = 0.5 in baselines.md); apply X <- X/s, W[j,:] <- s_j W[j,:] for a
 * tfjs kernel [in, out]. Zero maxima are floored at 1e-5 to keep s finite.
 */
export function smoothQuantScales(xAmax: tf.Tensor, wAmax: tf.Tensor, alpha = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const xa = tf.pow(tf.maximum(xAmax, 1e-5), alpha);
    const wa = tf.pow(tf.maximum(wAmax, 1e-5), 1 - alpha);
    return tf.div(xa, wa);
  });
}

// ---------------------------------------------------------------- FP8

export type Fp8Format = "e4m3fn" | "e5m2" | "e4m3fnuz";

export interface Fp8Spec {
  /** Stored mantissa bits M. */
  mantissaBits: number;
  /** Smallest normal exponent. */
  emin: number;
  /** Largest finite value. */
  max: number;
  /** What a non-saturating overflow becomes: the format has no inf (NaN) or has one (inf). */
  overflow: "nan" | "inf";
}

/** baselines.md FP8 table (checked there against ml_dtypes 0.6.0). */
export const FP8_FORMATS: Readonly<Record<Fp8Format, Fp8Spec>> = {
  e4m3fn: { mantissaBits: 3, emin: -6, max: 448, overflow: "nan" },
  e5m2: { mantissaBits: 2, emin: -14, max: 57344, overflow: "inf" },
  e4m3fnuz: { mantissaBits: 3, emin: -7, max: 240, overflow: "nan" },
};

// Exact powers of two 2^k, k = POW2_KMIN..128, as float32 (2^128 = inf, which
// the "2^(e+1) <= ap" test needs when e = 127). A table lookup is exact where
// tf.pow (exp/log inside) is not guaranteed to be.
const POW2_KMIN = -32;
const POW2_KMAX = 128;
const POW2 = Float32Array.from({ length: POW2_KMAX - POW2_KMIN + 1 }, (_, i) => Math.pow(2, i + POW2_KMIN));

function pow2(table: tf.Tensor, e: tf.Tensor): tf.Tensor {
  return tf.gather(table, tf.cast(tf.sub(e, POW2_KMIN), "int32"));
}

export interface Fp8Options {
  /** Clamp |x| to MAX before rounding (default true). Non-saturating: overflow -> NaN (E4M3FN/FNUZ) or inf (E5M2). */
  saturate?: boolean;
}

/**
 * Round float32 values to the nearest FP8 value (RNE), returned as float32,
 * by the baselines.md algorithm:
 *   a = |x| (min(a, MAX) if saturating); ap = max(a, 2^emin);
 *   e = floor(log2 ap), corrected by one either way against exact 2^e;
 *   q = 2^(e-M); r = rne(a/q)*q; non-saturating overflow -> NaN/inf;
 *   result sign(x)*r, NaN stays NaN.
 * Subnormals come from the clamp ap >= 2^emin (the quantum stays 2^(emin-M)).
 * Saturating maps +-inf to +-MAX.
 */
export function fp8Round(x: tf.Tensor, format: Fp8Format, opts: Fp8Options = {}): tf.Tensor {
  const spec = FP8_FORMATS[format];
  const saturate = opts.saturate ?? true;
  return tf.tidy(() => {
    const table = tf.tensor1d(POW2, "float32");
    const xf = tf.cast(x, "float32");
    const a0 = tf.abs(xf);
    const a = saturate ? tf.minimum(a0, spec.max) : a0;
    const ap0 = tf.maximum(a, Math.pow(2, spec.emin));
    // NaN/inf would give an index outside the table; they are handled at the end.
    const ap = tf.where(tf.isFinite(ap0), ap0, tf.onesLike(ap0));
    let e = tf.clipByValue(tf.floor(tf.mul(tf.log(ap), 1 / Math.LN2)), spec.emin - 1, 127);
    e = tf.sub(e, tf.cast(tf.greater(pow2(table, e), ap), "float32"));
    e = tf.add(e, tf.cast(tf.lessEqual(pow2(table, tf.add(e, 1)), ap), "float32"));
    const q = pow2(table, tf.sub(e, spec.mantissaBits));
    let r = tf.mul(roundHalfEven(tf.div(a, q)), q); // exact: q is a power of two
    if (!saturate) {
      const over = tf.logicalOr(tf.greater(r, spec.max), tf.isInf(a));
      r = tf.where(over, tf.fill(r.shape, spec.overflow === "nan" ? NaN : Infinity), r);
    }
    r = tf.mul(tf.sign(xf), r);
    return tf.where(tf.isNaN(xf), tf.fill(r.shape, NaN), r);
  });
}

export interface Fp8ScaledOptions extends Fp8Options {
  /** amax reduction axis for the scale; omitted = per tensor (the baselines.md protocol). */
  amaxAxis?: number | number[];
  /** Fixed scale instead of amax/MAX. */
  scale?: number | tf.Tensor;
}

export interface Fp8Quantized {
  scale: tf.Tensor;
  xHat: tf.Tensor;
}

/** Scaled FP8: s = max(amax, 1e-12)/MAX, x_hat = fp8(x/s)*s. */
export function quantizeFp8Scaled(x: tf.Tensor, format: Fp8Format, opts: Fp8ScaledOptions = {}): Fp8Quantized {
  const spec = FP8_FORMATS[format];
  return tf.tidy(() => {
    const scale =
      opts.scale !== undefined
        ? tf.cast(typeof opts.scale === "number" ? tf.scalar(opts.scale) : opts.scale, "float32")
        : tf.div(tf.maximum(amaxOf(x, opts.amaxAxis), AMAX_FLOOR), spec.max);
    const xHat = tf.mul(fp8Round(tf.div(x, scale), format, opts), scale);
    return { scale, xHat };
  });
}

/** Fake FP8: scaled per tensor by default; `scaled: false` rounds x itself (the "unscaled" run). */
export function fakeQuantFp8(x: tf.Tensor, format: Fp8Format, opts: Fp8ScaledOptions & { scaled?: boolean } = {}): tf.Tensor {
  if (opts.scaled === false) return fp8Round(x, format, opts);
  return tf.tidy(() => quantizeFp8Scaled(x, format, opts).xHat);
}
