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

/**
 * Multi-head attention on a packed q/k/v projection: qkv [B, T, 3 D] (its
 * column blocks q, k, v, each [B, T, H, dh] with D = H dh, as one Linear to
 * 3 D gives them) to the heads' outputs merged back, [B, T, D]. The same math
 * as splitting qkv, moving heads forward, attentionCore and merging back.
 *
 * On the native engine the attention kernels read each head of q, k, v and
 * write each head of the output (and of the qkv gradient) in place through
 * row strides, so the split, the four head transposes and the gradient's
 * concat disappear (~5 % of a ViT step's kernel time). Elsewhere, and on
 * native for any dtype the kernels do not cover: the split / transpose path.
 */
export function attentionPacked(qkv: tf.Tensor, heads: number, opts: AttentionOptions = {}): tf.Tensor {
  if (qkv.rank !== 3) throw new Error(`attentionPacked: qkv must be [B, T, 3 D], got [${qkv.shape}]`);
  const [B, T, D3] = qkv.shape as [number, number, number];
  if (!Number.isInteger(heads) || heads < 1 || D3 % (3 * heads) !== 0)
    throw new Error(`attentionPacked: qkv's last dim ${D3} must be 3 x heads x head dim; ${heads} heads do not divide it (pick heads dividing ${D3 / 3})`);
  const D = D3 / 3;
  const dh = D / heads;
  const scale = opts.scale ?? 1 / Math.sqrt(dh);
  const causal = !!opts.causal;
  if (qkv.size > 0 && fusedKernelsUsable(qkv)) {
    const f = withCustomGrad(([x], save) => {
      const [o, p] = tf.engine().runKernel(FUSED_KERNELS.attnPackedFwd, { qkv: x! }, { heads, scale, causal }) as tf.Tensor[];
      save([x!, p!]);
      return {
        value: o!,
        gradFunc: (dy, [sx, sp]) => [tf.engine().runKernel(FUSED_KERNELS.attnPackedBwd, { dy, qkv: sx!, p: sp! }, { heads, scale }) as tf.Tensor],
      };
    });
    return f(qkv);
  }
  return tf.tidy(() => {
    const [q, k, v] = (tf.split(qkv, 3, -1) as tf.Tensor[]).map((t) => tf.transpose(t.reshape([B, T, heads, dh]), [0, 2, 1, 3]));
    return tf.transpose(attentionCore(q!, k!, v!, { scale, causal }), [0, 2, 1, 3]).reshape([B, T, D]);
  });
}
