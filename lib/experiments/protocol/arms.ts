/**
 * The one arm registry: every compared model variant (what fills the norm
 * slots, the residual method, placement, the training settings it brings),
 * with its label and the paper's number where there is one. Experiments name
 * arms by id; derived arms (a squasher, a frozen alpha, another placement)
 * are built with `deriveArm`, so labels are defined here and nowhere else.
 */
import type { LlamaAlpha0 } from "../../models/llama";
import type { ResidualMethod } from "../../models/residual";
import type { Placement } from "../../models/transformer";
import type { NormKind, NormOptions } from "../../norms/types";
import type { TrainConfig } from "../../train/trainer";

export interface Arm {
  /** File-safe id, e.g. "dyt", "dyt-post", "tanh-frozen". */
  id: string;
  label: string;
  norm: NormKind;
  normOptions?: NormOptions;
  method?: ResidualMethod;
  placement?: Placement;
  /** Training settings the method brings with it (e.g. NF's adaptive gradient clipping). */
  train?: Partial<TrainConfig>;
  /** The paper's ViT-B ImageNet top-1 for this arm (Tables 1 and 9), when it reports one. */
  paperViTB?: number;
  /** What the arm brings to a language model (lib/models/llama.ts); language-model runs only. */
  lm?: LmArmSettings;
  /** What the arm brings to a DiT (lib/models/dit.ts); DiT runs only (default: adaLN-Zero on, DiT's own). */
  dit?: { adaLNZero: boolean };
}

/** An arm's language-model recipe. */
export interface LmArmSettings {
  /**
   * DyT alpha0 per slot (attention / FFN / final): "paper" = the paper's values
   * for the model's width (paperLlamaAlpha0), or the three values themselves
   * (an alpha0 grid derives one arm per cell).
   */
  alpha0?: "paper" | LlamaAlpha0;
  /** The learnable scalar (init sqrt(d)) after the embedding. */
  embedScale?: boolean;
  /** "fp8": the block Linears train and evaluate in emulated FP8 (LlamaConfig.matmul). */
  matmul?: "fp8";
}

const BASE: Arm[] = [
  { id: "layernorm", label: "LayerNorm", norm: "layernorm", paperViTB: 82.3 },
  { id: "rmsnorm", label: "RMSNorm", norm: "rmsnorm" },
  { id: "dyt", label: "DyT", norm: "dyt", paperViTB: 82.5 },
  { id: "rezero", label: "ReZero", norm: "identity", method: "rezero" },
  { id: "skipinit", label: "SkipInit", norm: "identity", method: "skipinit", paperViTB: 74.1 },
  { id: "fixup", label: "Fixup", norm: "identity", method: "fixup", paperViTB: 77.2 },
  { id: "tfixup", label: "T-Fixup", norm: "identity", method: "tfixup" },
  { id: "sigma-reparam", label: "σ-Reparam", norm: "identity", method: "sigma-reparam", paperViTB: 82.5 },
  { id: "nf", label: "NF-style", norm: "identity", method: "nf" },
  // NF-nets pair scaled weight standardisation with adaptive gradient clipping (lambda 0.01, head skipped: baselines.md).
  { id: "nf-agc", label: "NF-style + AGC", norm: "identity", method: "nf", train: { agc: 0.01 } },
  // The paper's DyT-LLaMA: gamma and no beta (the LM's norms have no biases), alpha0 per slot by width, a scalar after the embedding.
  { id: "dyt-lm", label: "DyT (LLaMA recipe)", norm: "dyt", lm: { alpha0: "paper", embedScale: true } },
  // The ResNet's own norm (image-classify task); the paper replaces it with DyT in ResNet-50 (76.2 -> 68.9 top-1), its failure case.
  { id: "batchnorm", label: "BatchNorm", norm: "batchnorm" },
  // The DiT (image-diffusion task): the paper's DyT arm drops adaLN-Zero's zero init; a reviewer asked for DyT with it too.
  { id: "dyt-dit", label: "DyT (no adaLN-Zero)", norm: "dyt", dit: { adaLNZero: false } },
  { id: "dyt-dit-zero", label: "DyT + adaLN-Zero", norm: "dyt", dit: { adaLNZero: true } },
  // wav2vec-ln-dyt's second DyT arm (amendment 3): alpha0 2 in every transformer norm slot, where alpha0 0.5 never left chance.
  { id: "dyt-a2", label: "DyT (α₀ 2)", norm: "dyt", normOptions: { alpha0: 2 } },
];

export const ARMS: ReadonlyMap<string, Arm> = new Map(BASE.map((a) => [a.id, a]));
export const ARM_IDS: readonly string[] = BASE.map((a) => a.id);

export function arm(id: string): Arm {
  const a = ARMS.get(id);
  if (!a) throw new Error(`unknown arm "${id}"; valid: ${ARM_IDS.join(", ")} (derive others with deriveArm)`);
  return a;
}

const PLACEMENT_LABEL: Record<Placement, string> = { pre: "pre", post: "post", "res-post": "res-post" };

/**
 * An arm derived from a registered one: `patch` overrides its fields, and
 * normOptions/train are merged. Placement-derived arms get the standard
 * "<id>-<placement>" id and "<label> <placement>" label when none is given.
 */
export function deriveArm(baseId: string, patch: Partial<Arm> & { id?: string; label?: string }): Arm {
  const b = arm(baseId);
  const placement = patch.placement;
  const id = patch.id ?? (placement ? `${b.id}-${placement}` : undefined);
  const label = patch.label ?? (placement ? `${b.label} ${PLACEMENT_LABEL[placement]}` : undefined);
  if (!id || !label) throw new Error(`deriveArm("${baseId}"): give an id and a label for the derived arm`);
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`arm id "${id}" must be file-safe (letters, digits, . _ -)`);
  const out: Arm = { ...b, ...patch, id, label };
  if (b.normOptions || patch.normOptions) out.normOptions = { ...b.normOptions, ...patch.normOptions };
  if (b.train || patch.train) out.train = { ...b.train, ...patch.train };
  if (b.lm || patch.lm) out.lm = { ...b.lm, ...patch.lm };
  if (b.dit || patch.dit) out.dit = { ...b.dit!, ...patch.dit };
  delete out.paperViTB;
  return out;
}

/** DyT's LM recipe with one α₀ in all three slots (attention, FFN, final): the α₀ candidates of lm-to-failure and lm-lr-stability. */
export function dytAlpha0Arm(dyt: Arm, alpha0: number): Arm {
  return deriveArm(dyt.id, { id: `${dyt.id}-a${alpha0}`, label: `${dyt.label}, α₀ ${alpha0}`, lm: { alpha0: { alpha0Attn: alpha0, alpha0Ffn: alpha0, alpha0Final: alpha0 } } });
}

/** An arm by id, or a derived arm given inline. */
export type ArmRef = string | Arm;
export function resolveArm(ref: ArmRef): Arm {
  return typeof ref === "string" ? arm(ref) : ref;
}
