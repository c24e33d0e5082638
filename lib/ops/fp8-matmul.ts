import * as tf from "@tensorflow/tfjs";
import { AMAX_FLOOR, FP8_FORMATS, type Fp8Format } from "../analysis/quant";
import { withCustomGrad } from "./grad";
import { linear, swapLast } from "./matmul";

/**
 * FP8 training, emulated: the formats of a Linear's three matmuls. The
 * forward product x·W takes both operands in `forward` (E4M3: more mantissa),
 * the two backward products take the incoming gradient in `backward` (E5M2:
 * more range), as in NVIDIA Transformer Engine's HYBRID recipe. Every operand
 * is scaled per tensor by its own current amax (s = amax / MAX) before
 * rounding; Transformer Engine's default scales by a history of past amaxes
 * (delayed scaling), which this emulation does not model.
 */
export interface Fp8MatmulSpec {
  forward: Fp8Format;
  backward: Fp8Format;
}

/** The recipe the LM experiments train with: E4M3 forward, E5M2 backward, per-tensor scaling. */
export const FP8_HYBRID: Readonly<Fp8MatmulSpec> = { forward: "e4m3fn", backward: "e5m2" };

/**
 * Per-tensor scaled FP8 fake quantisation, x_hat = fp8(x / s) * s with
 * s = max(amax, 1e-12) / MAX, saturating, round-half-to-even: the values of
 * analysis/quant.ts fakeQuantFp8 (a test compares them element for element),
 * computed in one pass over the data in JS. fakeQuantFp8 is ~15 tensor ops
 * with three gathers; with it an FP8 training step took 8.5x an fp32 step
 * (width 64, measured in one process), so FP8 training at the LM's budget
 * was out of reach. Not differentiable: fp8Matmul defines the gradient.
 */
export function fakeQuantFp8Fast(x: tf.Tensor, format: Fp8Format): tf.Tensor {
  const { mantissaBits, emin, max } = FP8_FORMATS[format];
  const src = x.dataSync() as Float32Array;
  let amax = 0;
  for (let i = 0; i < src.length; i++) {
    const a = Math.abs(src[i]!);
    if (a > amax) amax = a; // NaN never wins a comparison; it stays NaN below
  }
  const s = Math.fround(Math.fround(Math.max(amax, AMAX_FLOOR)) / max);
  const out = new Float32Array(src.length);
  roundScaled(src, out, s, mantissaBits, emin, max);
  return tf.tensor(out, x.shape, "float32");
}

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** out[i] = fp8(src[i] / s) * s, every product and quotient rounded to float32 as tf computes them. */
function roundScaled(src: Float32Array, out: Float32Array, s: number, M: number, emin: number, max: number): void {
  const normalMin = Math.pow(2, emin);
  const quantum = Math.pow(2, emin - M); // the subnormal step
  const shift = 23 - M;
  const low = (1 << shift) - 1;
  const half = low >> 1;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const v = Math.fround(src[i]! / s);
    if (v !== v) {
      out[i] = NaN;
      continue;
    }
    let a = v < 0 ? -v : v;
    if (a > max) a = max;
    let r: number;
    if (a < normalMin) {
      // Subnormal: a multiple of the quantum, ties to even.
      const t = a / quantum;
      let k = Math.floor(t);
      const f = t - k;
      if (f > 0.5 || (f === 0.5 && (k & 1) === 1)) k += 1;
      r = k * quantum;
    } else {
      // Normal: keep M mantissa bits of the float32, ties to even (a carry moves into the exponent, as it should).
      scratchF[0] = a;
      const b = scratchU[0]!;
      scratchU[0] = (b + half + ((b >>> shift) & 1)) & ~low;
      r = scratchF[0]!;
    }
    out[i] = (v < 0 ? -r : r) * s;
  }
}

const cache = new Map<string, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor>();

/**
 * x [N, in] @ w [in, out] with FP8 operands: forward q_f(x) @ q_f(w); backward
 * dx = q_b(dy) @ q_f(w)^T and dw = q_f(x)^T @ q_b(dy). The rounding itself is
 * passed straight through (its derivative is taken as the identity), which is
 * what FP8 training does: only the matmul operands are low precision, the
 * gradients reach the fp32 master weights.
 */
export function fp8Matmul(x: tf.Tensor, w: tf.Tensor, spec: Fp8MatmulSpec = FP8_HYBRID): tf.Tensor {
  if (x.rank !== 2 || w.rank !== 2) throw new Error(`fp8Matmul: expected x [N, in] and w [in, out], got ranks ${x.rank} and ${w.rank}`);
  const key = `${spec.forward}/${spec.backward}`;
  let f = cache.get(key);
  if (!f) {
    const g = withCustomGrad(([a, b], save) => {
      const qa = fakeQuantFp8Fast(a!, spec.forward);
      const qb = fakeQuantFp8Fast(b!, spec.forward);
      save([qa, qb]);
      return {
        value: tf.matMul(qa, qb),
        gradFunc: (dy, [sa, sb]) => {
          const qdy = fakeQuantFp8Fast(dy, spec.backward);
          return [tf.matMul(qdy, swapLast(sb!)), tf.matMul(swapLast(sa!), qdy)];
        },
      };
    });
    f = (a, b) => g(a, b);
    cache.set(key, f);
  }
  return f(x, w);
}

/** x[..., in] @ w[in, out] (+ bias) as ops/matmul.ts linear, its matmul through fp8Matmul; the bias add stays fp32 (it is not a matmul). */
export function fp8Linear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | undefined, spec: Fp8MatmulSpec = FP8_HYBRID): tf.Tensor {
  return linear(x, w, bias, (a, b) => fp8Matmul(a, b, spec));
}
