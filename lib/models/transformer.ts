import * as tf from "@tensorflow/tfjs";
import { gelu } from "../ops/activations";
import { bmm, linear } from "../ops/matmul";
import { ParamStore } from "../ops/param";
import { makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";

/** Where the norms sit in a residual block (baselines.md section 1). */
export const PLACEMENTS = ["pre", "post", "res-post"] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface BlockConfig {
  dim: number;
  heads: number;
  mlpRatio: number;
  norm: NormKind;
  normOptions?: NormOptions;
  placement?: Placement;
  /** Std of the truncated-normal weight init (timm: 0.02). */
  initStd?: number;
}

/** Called with every norm's input and output during a forward pass (see lib/hooks). */
export type NormObserver = (name: string, input: tf.Tensor, output: tf.Tensor) => void;

export interface ForwardOptions {
  onNorm?: NormObserver;
}

export function applyNorm(n: Norm, x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
  const y = n.apply(x);
  opts?.onNorm?.(n.name, x, y);
  return y;
}

interface LinearW {
  w: tf.Variable;
  b: tf.Variable;
}
function makeLinear(s: ParamStore, name: string, inDim: number, outDim: number, std: number): LinearW {
  const l = s.scope(name);
  return { w: l.truncNormal("w", [inDim, outDim], std, true), b: l.constant("b", [outDim], 0, false) };
}

/**
 * One transformer block: multi-head self-attention and a GELU MLP, each a
 * residual branch, norms placed per `placement`:
 *   pre:      h = x + A(N1 x);      y = h + F(N2 h)
 *   post:     h = N1(x + A x);      y = N2(h + F h)
 *   res-post: h = x + N1(A x);      y = h + N2(F h)
 * q/k/v are split with 4-D transposes and keys are transposed explicitly so
 * every product runs on the engines' fast (non-transposed) matmul path.
 */
export class TransformerBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  private readonly qkv: LinearW;
  private readonly proj: LinearW;
  private readonly fc1: LinearW;
  private readonly fc2: LinearW;
  readonly placement: Placement;
  constructor(
    store: ParamStore,
    readonly cfg: BlockConfig,
  ) {
    const std = cfg.initStd ?? 0.02;
    const hidden = Math.round(cfg.dim * cfg.mlpRatio);
    this.placement = cfg.placement ?? "pre";
    // res-post-norm starts with gain 0 so the block is the identity at init (Swin-V2).
    const nopts: NormOptions = this.placement === "res-post" ? { gain0: 0, ...cfg.normOptions } : { ...cfg.normOptions };
    this.n1 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm1");
    this.qkv = makeLinear(store, "attn.qkv", cfg.dim, 3 * cfg.dim, std);
    this.proj = makeLinear(store, "attn.proj", cfg.dim, cfg.dim, std);
    this.n2 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm2");
    this.fc1 = makeLinear(store, "mlp.fc1", cfg.dim, hidden, std);
    this.fc2 = makeLinear(store, "mlp.fc2", hidden, cfg.dim, std);
  }

  attention(x: tf.Tensor): tf.Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.cfg.heads;
    const dh = D / H;
    const qkv = linear(x, this.qkv.w, this.qkv.b).reshape([B, T, 3, H, dh]);
    // [3, B, H, T, dh]
    const parts = tf.transpose(qkv, [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(parts, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const kT = tf.transpose(k, [0, 1, 3, 2]);
    const scores = tf.mul(bmm(q, kT), 1 / Math.sqrt(dh));
    const attn = tf.softmax(scores, -1);
    const out = tf.transpose(bmm(attn, v), [0, 2, 1, 3]).reshape([B, T, D]);
    return linear(out, this.proj.w, this.proj.b);
  }

  mlp(x: tf.Tensor): tf.Tensor {
    return linear(gelu(linear(x, this.fc1.w, this.fc1.b)), this.fc2.w, this.fc2.b);
  }

  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const N = (n: Norm, t: tf.Tensor) => applyNorm(n, t, opts);
    switch (this.placement) {
      case "pre": {
        const h = tf.add(x, this.attention(N(this.n1, x)));
        return tf.add(h, this.mlp(N(this.n2, h)));
      }
      case "post": {
        const h = N(this.n1, tf.add(x, this.attention(x)));
        return N(this.n2, tf.add(h, this.mlp(h)));
      }
      case "res-post": {
        const h = tf.add(x, N(this.n1, this.attention(x)));
        return tf.add(h, N(this.n2, this.mlp(h)));
      }
    }
  }
}
