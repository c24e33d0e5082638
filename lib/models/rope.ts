import * as tf from "@tensorflow/tfjs";
import { withCustomGrad } from "../ops/grad";

/** LLaMA's RoPE base. */
export const ROPE_THETA = 10000;

/**
 * Rotation angles of rotary position embedding (Su et al. 2021), half-split
 * layout (GPT-NeoX / Hugging Face LLaMA): dimension i of a head is paired with
 * i + dh/2, and the pair at position p turns by p * theta^(-2i/dh). (Meta's
 * LLaMA pairs neighbours 2i, 2i+1 instead: the same map up to a fixed
 * permutation of the head dimensions, which q and k share, so scores agree.)
 * Returns cos and sin as [T, dh/2] row-major; memoised per (T, dh, theta).
 */
export function ropeTables(T: number, dh: number, theta = ROPE_THETA): { cos: Float32Array; sin: Float32Array } {
  if (!Number.isInteger(dh) || dh <= 0 || dh % 2 !== 0) throw new Error(`rope: head dim must be a positive even integer, got ${dh} (pick dim / heads even)`);
  if (!(theta > 0)) throw new Error(`rope: theta must be > 0, got ${theta}`);
  const key = `${T}:${dh}:${theta}`;
  const hit = tableCache.get(key);
  if (hit) return hit;
  const half = dh / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let p = 0; p < T; p++)
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(theta, (-2 * i) / dh); // in double precision, then rounded once
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  const t = { cos, sin };
  if (tableCache.size > 64) tableCache.clear();
  tableCache.set(key, t);
  return t;
}
const tableCache = new Map<string, { cos: Float32Array; sin: Float32Array }>();

/** [x1, x2] -> [x1 c - x2 s, x2 c + x1 s] over the last axis (each pair turned by the angle of c, s). */
function rotate(x: tf.Tensor, c: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], -1);
  });
}

/**
 * Apply RoPE to x [..., T, dh] (positions 0..T-1 on the second-to-last axis).
 * Hand-written gradient: a rotation's adjoint is the rotation by minus the
 * angle, so dx = rotate(dy, cos, -sin) (no autodiff chain through split/concat).
 */
export function rope(x: tf.Tensor, theta = ROPE_THETA): tf.Tensor {
  if (x.rank < 2) throw new Error(`rope: expected [..., T, dh], got shape [${x.shape.join(",")}]`);
  const T = x.shape[x.rank - 2]!;
  const dh = x.shape[x.rank - 1]!;
  const { cos, sin } = ropeTables(T, dh, theta);
  const f = withCustomGrad(([xin], save) => {
    const c = tf.tensor2d(cos, [T, dh / 2]);
    const s = tf.tensor2d(sin, [T, dh / 2]);
    const value = rotate(xin!, c, s);
    save([c, s]);
    c.dispose();
    s.dispose();
    return {
      value,
      gradFunc: (dy, [sc, ss]) => [tf.tidy(() => rotate(dy, sc!, tf.neg(ss!)))],
    };
  });
  return f(x);
}
