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
export function rotateBySplit(x: tf.Tensor, c: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], -1);
  });
}

/**
 * The same rotation as rotateBySplit, bit for bit, without split and concat:
 * x * [c, c] + (x P) * [-s, s], where P swaps the two halves of the last
 * axis. x P is a matmul by a 0/1 permutation matrix, so each output is one
 * input exactly (adding products with 0 changes nothing), and the products
 * and sums are the ones rotateBySplit computes. Split and concat on the
 * [B, H, T, dh/2] halves took ~1/5 of the kernel time of a width-64 LM step
 * on the native engine (the LM bench's profile); one small matmul and two
 * elementwise products cost far less.
 */
function rotate(x: tf.Tensor, c2: tf.Tensor, s2: tf.Tensor, swap: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dh = x.shape[x.rank - 1]!;
    const xp = tf.matMul(x.reshape([-1, dh]), swap).reshape(x.shape);
    return tf.add(tf.mul(x, c2), tf.mul(xp, s2));
  });
}

/** The dh x dh matrix that swaps the two halves of a vector (x P = [x2, x1]). */
function halfSwap(dh: number): tf.Tensor2D {
  const half = dh / 2;
  const m = new Float32Array(dh * dh);
  for (let i = 0; i < half; i++) {
    m[(i + half) * dh + i] = 1; // output i reads input i + half
    m[i * dh + i + half] = 1; // output i + half reads input i
  }
  return tf.tensor2d(m, [dh, dh]);
}

/**
 * ropeTables widened to [T, dh] for rotate: c2 = [c, c]; forward s2 = [-s, s],
 * backward (minus the angle) [s, -s]. Memoised like ropeTables: every forward
 * of every block asks for the same ones.
 */
function rotationTables(T: number, dh: number, theta: number): { c2: Float32Array; fwd: Float32Array; bwd: Float32Array } {
  const key = `${T}:${dh}:${theta}`;
  const hit = rotationCache.get(key);
  if (hit) return hit;
  const { cos, sin } = ropeTables(T, dh, theta);
  const half = dh / 2;
  const c2 = new Float32Array(T * dh);
  const fwd = new Float32Array(T * dh);
  const bwd = new Float32Array(T * dh);
  for (let p = 0; p < T; p++)
    for (let i = 0; i < half; i++) {
      const c = cos[p * half + i]!;
      const sn = sin[p * half + i]!;
      c2[p * dh + i] = c;
      c2[p * dh + i + half] = c;
      fwd[p * dh + i] = -sn;
      fwd[p * dh + i + half] = sn;
      bwd[p * dh + i] = sn;
      bwd[p * dh + i + half] = -sn;
    }
  const t = { c2, fwd, bwd };
  if (rotationCache.size > 64) rotationCache.clear();
  rotationCache.set(key, t);
  return t;
}
const rotationCache = new Map<string, { c2: Float32Array; fwd: Float32Array; bwd: Float32Array }>();

/**
 * Apply RoPE to x [..., T, dh] (positions 0..T-1 on the second-to-last axis).
 * Hand-written gradient: a rotation's adjoint is the rotation by minus the
 * angle, so dx = rotate(dy, cos, -sin) (no autodiff chain through the rotation).
 */
export function rope(x: tf.Tensor, theta = ROPE_THETA): tf.Tensor {
  if (x.rank < 2) throw new Error(`rope: expected [..., T, dh], got shape [${x.shape.join(",")}]`);
  const T = x.shape[x.rank - 2]!;
  const dh = x.shape[x.rank - 1]!;
  const tables = rotationTables(T, dh, theta);
  const f = withCustomGrad(([xin], save) => {
    const swap = halfSwap(dh);
    const c2 = tf.tensor2d(tables.c2, [T, dh]);
    const s2 = tf.tensor2d(tables.fwd, [T, dh]);
    const sb = tf.tensor2d(tables.bwd, [T, dh]);
    const value = rotate(xin!, c2, s2, swap);
    save([c2, sb, swap]); // save keeps its own copies
    tf.dispose([c2, s2, sb, swap]);
    return {
      value,
      gradFunc: (dy, [sc, ss, sw]) => [rotate(dy, sc!, ss!, sw!)],
    };
  });
  return f(x);
}
