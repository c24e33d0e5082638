import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";
import { bmm, swapLast } from "./matmul";

export interface AttentionOptions {
  /** Multiplies the scores q k^T; default 1 / sqrt(dh). */
  scale?: number;
  /** Query i sees keys j <= i + (Tk - Tq) only (aligned at the end; Tq = Tk: the usual lower triangle). */
  causal?: boolean;
}

/**
 * The attention core, softmax(scale * q k^T [+ causal mask]) v, for
 * q [..., Tq, dh], k [..., Tk, dh], v [..., Tk, dv] with equal leading dims
 * (e.g. [B, heads, T, dh]). Returns [..., Tq, dv].
 *
 * On the native engine: one forward kernel and one backward kernel
 * (native/dyt_native.cc attnFwd/attnBwd: per batch*head slice, sgemm for the
 * two products, the softmax in between, its gradient in the backward), a
 * custom op with a custom gradient; the probabilities are kept for the
 * backward (as autodiff of the unfused ops keeps them). Elsewhere: the same
 * math with the lab's fast-path bmm, tf.softmax and autodiff.
 *
 * A model calls it in place of scores / softmax / attn @ v, e.g. in
 * TransformerBlock.attention: `const out = attentionCore(q, k, v, { scale: 1 / Math.sqrt(dh) })`
 * (then the same transpose + reshape back to [B, T, D]). It does not return
 * the probabilities: a model with an attention hook keeps its unfused path.
 */
export function attentionCore(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions = {}): tf.Tensor {
  const r = q.rank;
  if (r < 2 || k.rank !== r || v.rank !== r)
    throw new Error(`attentionCore: q, k, v must have the same rank >= 2, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  const lead = q.shape.slice(0, -2);
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(lead, k.shape.slice(0, -2)) || !same(lead, v.shape.slice(0, -2)))
    throw new Error(`attentionCore: leading dims differ: q [${q.shape}], k [${k.shape}], v [${v.shape}] (no broadcasting)`);
  const dh = q.shape[r - 1]!;
  const Tq = q.shape[r - 2]!;
  const Tk = k.shape[r - 2]!;
  if (k.shape[r - 1] !== dh) throw new Error(`attentionCore: q's last dim ${dh} != k's ${k.shape[r - 1]}`);
  if (v.shape[r - 2] !== Tk) throw new Error(`attentionCore: k has ${Tk} keys, v has ${v.shape[r - 2]} values`);
  if (opts.causal && Tq > Tk) throw new Error(`attentionCore: causal needs Tq <= Tk, got Tq ${Tq}, Tk ${Tk}`);
  const scale = opts.scale ?? 1 / Math.sqrt(dh);
  const causal = !!opts.causal;
  if (q.size > 0 && k.size > 0 && v.size > 0 && fusedKernelsUsable(q, k, v)) return fusedAttention(q, k, v, scale, causal);
  return tf.tidy(() => {
    let s = tf.mul(bmm(q, swapLast(k)), scale);
    if (causal) s = tf.add(s, causalMask(Tq, Tk));
    return bmm(tf.softmax(s, -1), v);
  });
}

/** Additive [Tq, Tk] mask: 0 where query i may see key j (j <= i + Tk - Tq), -1e30 elsewhere (finite: no inf - inf). */
function causalMask(Tq: number, Tk: number): tf.Tensor {
  const m = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) for (let j = i + Tk - Tq + 1; j < Tk; j++) m[i * Tk + j] = -1e30;
  return tf.tensor(m, [Tq, Tk]);
}

function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number, causal: boolean): tf.Tensor {
  const f = withCustomGrad(([qq, kk, vv], save) => {
    const [o, p] = tf.engine().runKernel(FUSED_KERNELS.attnFwd, { q: qq!, k: kk!, v: vv! }, { scale, causal }) as tf.Tensor[];
    save([qq!, kk!, vv!, p!]);
    return {
      value: o!,
      gradFunc: (dy, [sq, sk, sv, sp]) => tf.engine().runKernel(FUSED_KERNELS.attnBwd, { dy, q: sq!, k: sk!, v: sv!, p: sp! }, { scale }) as tf.Tensor[],
    };
  });
  return f(q, k, v);
}
