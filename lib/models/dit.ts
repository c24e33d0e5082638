import * as tf from "@tensorflow/tfjs";
import type { ParamStore } from "../ops/param";
import { makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Linear } from "./linear";
import { TransformerBlock, applyNorm, type ForwardOptions } from "./transformer";

export interface DiTBlockConfig {
  dim: number;
  heads: number;
  mlpRatio: number;
  /** LayerNorm (no affine, eps 1e-6, as DiT) or DyT (then tanh(alpha x): no gamma / beta either). */
  norm: NormKind;
  normOptions?: NormOptions;
  /**
   * adaLN-Zero: the modulation Linear starts at zero, so every gate is 0 and
   * the block is the identity at init (DiT's choice). The paper's DyT arm
   * drops it (Xavier init like DiT's other Linears); a reviewer asked for
   * both arms with DyT. Default true.
   */
  adaLNZero?: boolean;
  /** Std of the truncated-normal init of attention / MLP weights (0.02). */
  initStd?: number;
}

/** x * (1 + scale) + shift, with [B, D] modulation broadcast over tokens. */
function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, tf.add(tf.expandDims(scale, 1), 1)), tf.expandDims(shift, 1));
}

/**
 * A DiT block (Peebles & Xie 2023) with adaLN modulation:
 *   (s1, a1, g1, s2, a2, g2) = Linear(SiLU(c))            c: conditioning [B, D]
 *   h = x + g1 * Attn(N1(x) * (1 + a1) + s1)
 *   y = h + g2 * MLP(N2(h) * (1 + a2) + s2)
 * N1 / N2 come from the one factory without gain or bias (DiT's LayerNorms
 * have no affine; the modulation plays that role). Attention and MLP are the
 * lab's TransformerBlock's, built with identity norm slots.
 */
export class DiTBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly core: TransformerBlock;
  readonly adaLN: Linear;
  constructor(
    store: ParamStore,
    readonly cfg: DiTBlockConfig,
  ) {
    const nopts: NormOptions = { gain: false, bias: false, ...cfg.normOptions };
    this.n1 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm1");
    this.n2 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm2");
    this.core = new TransformerBlock(store, { dim: cfg.dim, heads: cfg.heads, mlpRatio: cfg.mlpRatio, norm: "identity", initStd: cfg.initStd ?? 0.02 });
    this.adaLN = new Linear(store, "adaLN_modulation", cfg.dim, 6 * cfg.dim, cfg.adaLNZero === false ? { kind: "xavier" } : { kind: "zeros" });
  }

  /** x: tokens [B, T, D]; c: conditioning [B, D]. */
  forward(x: tf.Tensor, c: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const D = this.cfg.dim;
    if (c.rank !== 2 || c.shape[1] !== D || c.shape[0] !== x.shape[0])
      throw new Error(`DiTBlock.forward: conditioning must be [B=${x.shape[0]}, ${D}], got [${c.shape.join(",")}]`);
    const [s1, a1, g1, s2, a2, g2] = tf.split(this.adaLN.apply(tf.mul(c, tf.sigmoid(c)), opts), 6, 1) as tf.Tensor[];
    const h = tf.add(x, tf.mul(tf.expandDims(g1!, 1), this.core.attention(modulate(applyNorm(this.n1, x, opts), s1!, a1!), opts)));
    return tf.add(h, tf.mul(tf.expandDims(g2!, 1), this.core.mlp(modulate(applyNorm(this.n2, h, opts), s2!, a2!), opts)));
  }

  norms(): Norm[] {
    return [this.n1, this.n2];
  }
}
