import * as tf from "@tensorflow/tfjs";
import { nfActivationGamma, nfBeta, fixupTransformerScales, tfixupScale } from "../analysis/reparam";
import { gelu } from "../ops/activations";
import { fusedKernelsUsable } from "../engine/native";
import { attentionCore, attentionPacked } from "../ops/fused-attention";
import { bmm } from "../ops/matmul";
import { ParamStore } from "../ops/param";
import { makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Linear, type LinearHooks, type LinearInit, type WeightKind } from "./linear";
import { METHOD_DEFAULTS, assertResidualMethod, isNormFree, type MethodOptions, type ResidualMethod } from "./residual";
import { rope } from "./rope";

/** Where the norms sit in a residual block (baselines.md section 1). */
export const PLACEMENTS = ["pre", "post", "res-post"] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** MLP kinds: "gelu" fc2(gelu(fc1 x)) (ViT); "swiglu" fc2(silu(x W_gate) * x W_up) (LLaMA). */
export const MLP_KINDS = ["gelu", "swiglu"] as const;
export type MlpKind = (typeof MLP_KINDS)[number];

export interface BlockConfig {
  dim: number;
  heads: number;
  mlpRatio: number;
  norm: NormKind;
  normOptions?: NormOptions;
  placement?: Placement;
  /** Std of the truncated-normal weight init (timm: 0.02). */
  initStd?: number;
  /**
   * Init of q|k|v, Wo, fc1, fc2 under method "norm": trunc-normal(initStd)
   * (timm's ViT; default) or Xavier-uniform with zero bias (DiT's
   * initialize_weights). The norm-free methods keep their own inits.
   */
  linearInit?: "truncNormal" | "xavier";
  /** Residual method (default "norm": the normalised block; the others remove every norm). */
  method?: ResidualMethod;
  methodOptions?: MethodOptions;
  /** Blocks in the whole model: Fixup / T-Fixup init factors depend on it. */
  depth?: number;
  /** This block's 0-based index: the NF branch divisors beta_k depend on it. */
  index?: number;
  /** Causal self-attention: position t sees positions <= t only (language models). Default false. */
  causal?: boolean;
  /** Rotary position embedding on q and k with this base (LLaMA: 10000); undefined = none. */
  ropeTheta?: number;
  /** Biases in every Linear of the block (default true; LLaMA has none). */
  bias?: boolean;
  /** MLP kind (default "gelu"). */
  mlp?: MlpKind;
  /** MLP hidden width; default round(dim * mlpRatio). */
  hidden?: number;
  /** Options of the norm before attention / before the MLP, over normOptions (LLaMA-DyT's separate alpha0). */
  normOptionsAttn?: NormOptions;
  normOptionsFfn?: NormOptions;
}

/** Called with every norm's input and output during a forward pass (see lib/hooks). */
export type NormObserver = (name: string, input: tf.Tensor, output: tf.Tensor) => void;

/**
 * Read-only observers of a forward pass (lib/hooks/activations.ts): they see
 * tensors the pass computes anyway and must not change them.
 * onAttention: each block's softmax probabilities [B, heads, T, T];
 * onBlock: the residual stream [B, T, C] after each block.
 */
export type BlockObserver = (block: number, t: tf.Tensor) => void;

export interface ForwardOptions extends LinearHooks {
  onNorm?: NormObserver;
  onAttention?: BlockObserver;
  onBlock?: BlockObserver;
}

export function applyNorm(n: Norm, x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
  // training reaches BatchNorm (train/eval mode); the other kinds ignore it.
  const y = n.apply(x, opts?.training ? { training: true } : undefined);
  opts?.onNorm?.(n.name, x, y);
  return y;
}

/** gamma_act for exact GELU (1.70093), computed once: NF branches stay unit-variance. */
let geluGamma: number | undefined;
function nfGeluGamma(): number {
  return (geluGamma ??= nfActivationGamma("gelu"));
}

/**
 * One transformer block: multi-head self-attention and a GELU MLP, each a
 * residual branch. With method "norm" the norms sit per `placement`:
 *   pre:      h = x + A(N1 x);      y = h + F(N2 h)
 *   post:     h = N1(x + A x);      y = N2(h + F h)
 *   res-post: h = x + N1(A x);      y = h + N2(F h)
 * The norm-free methods (lib/models/residual.ts) keep the pre-norm shape with
 * identity norm slots and change only gates, init and weight parameterisation:
 *   rezero:   h = x + r A(x);       y = h + r F(h)          (one r, init 0)
 *   skipinit: h = x + a1 A(x);      y = h + a2 F(h)         (init 0)
 *   fixup:    h = x + r1 A(x + c0); y = h + r2 fc2(c3 + act(c2 + fc1(h + c1)))
 *   tfixup, sigma-reparam: h = x + A(x); y = h + F(h)     (init / W_hat only)
 *   nf:       h = x + a A(x / b_2i); y = h + a F(h / b_2i+1), F's act x gamma_act
 * q/k/v are split with 4-D transposes and keys are transposed explicitly so
 * every product runs on the engines' fast (non-transposed) matmul path.
 * The LLaMA block (lib/models/llama.ts) is this block with options: causal
 * attention, RoPE on q and k, no biases, a SwiGLU MLP, per-slot norm options.
 * Their defaults leave the ViT's block, its parameters and numbers unchanged.
 */
export class TransformerBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly placement: Placement;
  readonly method: ResidualMethod;
  /** Scalar gates / biases of the norm-free methods, by role (e.g. rezero, attnGate, fixupBias0). */
  readonly gates: Record<string, tf.Variable> = {};
  private readonly nfAlpha: number;
  private readonly nfBetas: [number, number];
  constructor(
    store: ParamStore,
    readonly cfg: BlockConfig,
  ) {
    const std = cfg.initStd ?? 0.02;
    const hidden = cfg.hidden ?? Math.round(cfg.dim * cfg.mlpRatio);
    const mlp = cfg.mlp ?? "gelu";
    if (!(MLP_KINDS as readonly string[]).includes(mlp)) throw new Error(`TransformerBlock: unknown mlp "${mlp}"; valid: ${MLP_KINDS.join(", ")}`);
    if (!Number.isInteger(hidden) || hidden <= 0) throw new Error(`TransformerBlock: MLP hidden width must be a positive integer, got ${hidden}`);
    // SwiGLU fuses W_gate | W_up into fc1 (2 x hidden outputs).
    const fc1Out = mlp === "swiglu" ? 2 * hidden : hidden;
    this.method = cfg.method ?? "norm";
    assertResidualMethod(this.method);
    this.placement = cfg.placement ?? "pre";
    const normFree = isNormFree(this.method);
    if (this.method === "nf" && mlp !== "gelu")
      throw new Error(`method "nf" needs gamma_act of its activation, known here for GELU only; use mlp "gelu" or another method`);
    if (cfg.ropeTheta !== undefined && (cfg.dim / cfg.heads) % 2 !== 0)
      throw new Error(`RoPE needs an even head dim; dim ${cfg.dim} / heads ${cfg.heads} = ${cfg.dim / cfg.heads}`);
    if (normFree && this.placement !== "pre")
      throw new Error(`placement "${this.placement}" applies to method "norm" only; the norm-free method "${this.method}" has no norms to place (use placement "pre")`);
    const depth = cfg.depth ?? 1;
    const index = cfg.index ?? 0;
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`TransformerBlock: depth must be a positive integer, got ${depth}`);
    if (!Number.isInteger(index) || index < 0 || index >= depth) throw new Error(`TransformerBlock: index ${index} must lie in [0, depth=${depth})`);
    const opt = { ...METHOD_DEFAULTS, ...cfg.methodOptions };
    this.nfAlpha = opt.nfAlpha;
    this.nfBetas = [nfBeta(2 * index, opt.nfAlpha), nfBeta(2 * index + 1, opt.nfAlpha)];

    // res-post-norm starts with gain 0 so the block is the identity at init (Swin-V2).
    const nopts: NormOptions = this.placement === "res-post" ? { gain0: 0, ...cfg.normOptions } : { ...cfg.normOptions };
    const normKind: NormKind = normFree ? "identity" : cfg.norm;
    const tn: LinearInit = { kind: "truncNormal", std };
    // Per-method init of q|k|v, Wo, fc1, fc2 (baselines.md; L = 2 x depth residual branches).
    const base: LinearInit = cfg.linearInit === "xavier" ? { kind: "xavier" } : tn;
    let inits: [LinearInit, LinearInit, LinearInit, LinearInit] = [base, base, base, base];
    if (this.method === "fixup") {
      const f = fixupTransformerScales(2 * depth);
      inits = [{ kind: "xavier", scale: f.qkv, groups: 3 }, { kind: "zeros" }, { kind: "xavier", scale: f.fc1, groups: fc1Out / hidden }, { kind: "zeros" }];
    } else if (this.method === "tfixup") {
      const f = tfixupScale(depth, "encoder");
      inits = [{ kind: "xavier", groups: 3, groupScales: [1, 1, f] }, { kind: "xavier", scale: f }, { kind: "xavier", scale: f, groups: fc1Out / hidden }, { kind: "xavier", scale: f }];
    }
    const wk: WeightKind = this.method === "sigma-reparam" ? "sigma" : this.method === "nf" ? "sws" : "plain";
    const bias = cfg.bias ?? true;
    this.n1 = makeNorm(normKind, cfg.dim, normFree ? {} : { ...nopts, ...cfg.normOptionsAttn }, store, "norm1");
    this.qkv = new Linear(store, "attn.qkv", cfg.dim, 3 * cfg.dim, inits[0], wk, bias);
    this.proj = new Linear(store, "attn.proj", cfg.dim, cfg.dim, inits[1], wk, bias);
    this.n2 = makeNorm(normKind, cfg.dim, normFree ? {} : { ...nopts, ...cfg.normOptionsFfn }, store, "norm2");
    this.fc1 = new Linear(store, "mlp.fc1", cfg.dim, fc1Out, inits[2], wk, bias);
    this.fc2 = new Linear(store, "mlp.fc2", hidden, cfg.dim, inits[3], wk, bias);
    // Scalars (no weight decay). Created after the linears: constants draw no
    // random numbers, so the weights match the normalised model of the same seed.
    const scalar = (name: string, v: number) => store.constant(name, [1], v);
    switch (this.method) {
      case "rezero":
        this.gates.rezero = scalar("rezero_alpha", opt.gate0);
        break;
      case "skipinit":
        this.gates.attnGate = scalar("skipinit.attn", opt.gate0);
        this.gates.mlpGate = scalar("skipinit.mlp", opt.gate0);
        break;
      case "fixup":
        for (let i = 0; i < 4; i++) this.gates[`fixupBias${i}`] = scalar(`fixup.bias${i}`, 0);
        // Multipliers start at 1, not 0: with Wo = fc2 = 0 a zero gate would leave the branch dead forever.
        this.gates.attnScale = scalar("fixup.scale1", 1);
        this.gates.mlpScale = scalar("fixup.scale2", 1);
        break;
      default:
        break;
    }
  }

  attention(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.cfg.heads;
    const dh = D / H;
    const theta = this.cfg.ropeTheta;
    // Native engine, no RoPE (it rotates q and k after the split) and nobody
    // reading the probabilities: heads read in place from the packed q/k/v.
    if (theta === undefined && !opts?.onAttention && fusedKernelsUsable(x))
      return this.proj.apply(attentionPacked(this.qkv.apply(x, opts), H, { scale: 1 / Math.sqrt(dh), causal: !!this.cfg.causal }), opts);
    // Split q/k/v by slicing, then 4-D transposes: wasm's rank-5 transpose
    // (the obvious [B,T,3,H,dh] -> [3,B,H,T,dh]) took ~1/3 of a training step.
    const [q5, k5, v5] = tf.split(this.qkv.apply(x, opts), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const heads = (t: tf.Tensor, perm: number[]) => tf.transpose(t.reshape([B, T, H, dh]), perm);
    let q = heads(q5, [0, 2, 1, 3]);
    const v = heads(v5, [0, 2, 1, 3]);
    // RoPE acts on [.., T, dh] rows, so k is rotated before its explicit transpose.
    if (theta !== undefined) q = rope(q, theta);
    let ctx: tf.Tensor;
    if (!opts?.onAttention && fusedKernelsUsable(x)) {
      // Native engine, nobody reading the probabilities: scores, mask, softmax
      // and AV in one kernel each way (lib/ops/fused-attention.ts).
      const k = heads(k5, [0, 2, 1, 3]);
      ctx = attentionCore(q, theta === undefined ? k : rope(k, theta), v, { scale: 1 / Math.sqrt(dh), causal: !!this.cfg.causal });
    } else {
      const kT = theta === undefined ? heads(k5, [0, 2, 3, 1]) : tf.transpose(rope(heads(k5, [0, 2, 1, 3]), theta), [0, 1, 3, 2]);
      let scores = tf.mul(bmm(q, kT), 1 / Math.sqrt(dh));
      if (this.cfg.causal) scores = tf.add(scores, causalMask(T));
      const attn = tf.softmax(scores, -1);
      opts?.onAttention?.(this.cfg.index ?? 0, attn);
      ctx = bmm(attn, v);
    }
    const out = tf.transpose(ctx, [0, 2, 1, 3]).reshape([B, T, D]);
    return this.proj.apply(out, opts);
  }

  mlp(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    let a = this.fc1.apply(x, opts);
    if (this.method === "fixup") a = tf.add(a, this.gates.fixupBias2!);
    if (this.cfg.mlp === "swiglu") {
      const [gate, up] = tf.split(a, 2, -1) as [tf.Tensor, tf.Tensor];
      a = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up); // silu(gate) * up
    } else a = gelu(a);
    if (this.method === "fixup") a = tf.add(a, this.gates.fixupBias3!);
    if (this.method === "nf") a = tf.mul(a, nfGeluGamma());
    return this.fc2.apply(a, opts);
  }

  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const N = (n: Norm, t: tf.Tensor) => applyNorm(n, t, opts);
    const A = (t: tf.Tensor) => this.attention(t, opts);
    const F = (t: tf.Tensor) => this.mlp(t, opts);
    const g = this.gates;
    switch (this.method) {
      case "rezero": {
        const h = tf.add(x, tf.mul(g.rezero!, A(N(this.n1, x))));
        return tf.add(h, tf.mul(g.rezero!, F(N(this.n2, h))));
      }
      case "skipinit": {
        const h = tf.add(x, tf.mul(g.attnGate!, A(N(this.n1, x))));
        return tf.add(h, tf.mul(g.mlpGate!, F(N(this.n2, h))));
      }
      case "fixup": {
        const h = tf.add(x, tf.mul(g.attnScale!, A(tf.add(N(this.n1, x), g.fixupBias0!))));
        return tf.add(h, tf.mul(g.mlpScale!, F(tf.add(N(this.n2, h), g.fixupBias1!))));
      }
      case "nf": {
        const [b0, b1] = this.nfBetas;
        const h = tf.add(x, tf.mul(A(tf.div(N(this.n1, x), b0)), this.nfAlpha));
        return tf.add(h, tf.mul(F(tf.div(N(this.n2, h), b1)), this.nfAlpha));
      }
      case "tfixup":
      case "sigma-reparam":
      case "norm":
        break;
    }
    switch (this.placement) {
      case "pre": {
        const h = tf.add(x, A(N(this.n1, x)));
        return tf.add(h, F(N(this.n2, h)));
      }
      case "post": {
        const h = N(this.n1, tf.add(x, A(x)));
        return N(this.n2, tf.add(h, F(h)));
      }
      case "res-post": {
        const h = tf.add(x, N(this.n1, A(x)));
        return tf.add(h, N(this.n2, F(h)));
      }
    }
  }
}

/**
 * Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above it, so
 * softmax gives future keys weight exp(-1e9) = 0 exactly in float32 (every
 * row keeps its diagonal, so no row is all -1e9).
 */
export function causalMask(T: number): tf.Tensor2D {
  let m = maskCache.get(T);
  if (!m) {
    m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    maskCache.set(T, m);
  }
  return tf.tensor2d(m, [T, T]);
}
const maskCache = new Map<number, Float32Array>();
