/**
 * Residual-stream methods: how a transformer block keeps its signal
 * trainable. "norm" is the normalised block (LN / RMSNorm / DyT in the norm
 * slots, any placement); every other method is one of the norm-free
 * baselines the DyT paper and its reviewers compare against (baselines.md
 * section 1). All of them run on the same TransformerBlock / ViT, selected by
 * config, so a study flips a string, never copies a model.
 */
export const RESIDUAL_METHODS = ["norm", "rezero", "skipinit", "fixup", "tfixup", "sigma-reparam", "nf"] as const;
export type ResidualMethod = (typeof RESIDUAL_METHODS)[number];

/** One line per method, for tables and error messages. */
export const RESIDUAL_METHOD_INFO: Record<ResidualMethod, string> = {
  norm: "normalised block: the norm kind fills the norm slots at the chosen placement",
  rezero: "ReZero: no norms; h = x + r*A(x), y = h + r*F(h), one scalar r per block, init 0",
  skipinit: "SkipInit: no norms; a separate scalar at the end of each branch, init 0",
  fixup: "Fixup (transformer form): no norms; scalar biases, multipliers init 1, q/k/v Xavier x L^-1/6, Wo = 0, fc1 Xavier x L^-1/2, fc2 = 0",
  tfixup: "T-Fixup (encoder rule): no norms; Xavier weights, Wv/Wo/fc1/fc2 x 0.67 N^-1/4, patch embedding x (9N)^-1/4",
  "sigma-reparam": "sigma-Reparam: no norms; every Linear W_hat = (gamma / sigma(W)) W, gamma init sigma(W0)",
  nf: "NF-style: no norms; x + alpha*f_k(x/beta_k), Scaled Weight Standardization linears, gamma_act for GELU",
};

export function assertResidualMethod(m: string): asserts m is ResidualMethod {
  if (!(RESIDUAL_METHODS as readonly string[]).includes(m))
    throw new Error(`unknown residual method "${m}"; valid methods: ${RESIDUAL_METHODS.join(", ")}`);
}

/** Every method except "norm" removes all norm layers (including the final one). */
export function isNormFree(m: ResidualMethod): boolean {
  return m !== "norm";
}

/** Knobs of the norm-free methods; defaults from baselines.md. */
export interface MethodOptions {
  /** ReZero / SkipInit: initial value of the residual gates (default 0; SkipInit allows a small value <= 1/sqrt(L)). */
  gate0?: number;
  /** NF: branch scale alpha (default 0.2). */
  nfAlpha?: number;
}

export const METHOD_DEFAULTS = { gate0: 0, nfAlpha: 0.2 } as const;
