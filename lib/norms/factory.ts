import * as tf from "@tensorflow/tfjs";
import { ParamStore } from "../ops/param";
import { Rng } from "../util/rng";
import { batchNorm } from "./batchnorm";
import { dyt } from "./dyt";
import { layerNorm } from "./layernorm";
import { rmsNorm } from "./rmsnorm";
import { NORM_KINDS, SQUASHERS, type Layout, type Norm, type NormCallOptions, type NormKind, type NormOptions, type Squasher } from "./types";

/** Defaults of every norm option; `resolveNormOptions` writes them out so results record them. */
export const NORM_DEFAULTS: { alpha0: number; learnAlpha: boolean; squash: Squasher; layernormEps: number; rmsnormEps: number; batchnormEps: number; batchnormMomentum: number; layout: Layout } = {
  alpha0: 0.5,
  learnAlpha: true,
  squash: "tanh",
  layernormEps: 1e-6,
  rmsnormEps: 1e-6,
  batchnormEps: 1e-5,
  batchnormMomentum: 0.1,
  layout: "channels-last",
};

/**
 * Every option a norm of `kind` uses, with the defaults filled in (options a
 * kind does not use are dropped). Results are cached on this, so a changed
 * default can never be mistaken for the configuration a saved run used.
 */
export function resolveNormOptions(kind: NormKind | string, options: NormOptions = {}): NormOptions {
  assertNormKind(kind);
  const layout = options.layout ?? NORM_DEFAULTS.layout;
  if (kind === "identity") return { layout };
  const out: NormOptions = {
    layout,
    gain: options.gain ?? true,
    bias: options.bias ?? (kind === "layernorm" || kind === "dyt" || kind === "batchnorm"),
  };
  // gain0's default depends on the slot (res-post blocks start at 0), so only an explicit one is recorded.
  if (options.gain0 !== undefined) out.gain0 = options.gain0;
  if (kind === "layernorm") out.eps = options.eps ?? NORM_DEFAULTS.layernormEps;
  if (kind === "rmsnorm") out.eps = options.eps ?? NORM_DEFAULTS.rmsnormEps;
  if (kind === "batchnorm") {
    out.eps = options.eps ?? NORM_DEFAULTS.batchnormEps;
    out.momentum = options.momentum ?? NORM_DEFAULTS.batchnormMomentum;
  }
  if (kind === "dyt") {
    out.alpha0 = options.alpha0 ?? NORM_DEFAULTS.alpha0;
    out.learnAlpha = options.learnAlpha ?? NORM_DEFAULTS.learnAlpha;
    out.squash = options.squash ?? NORM_DEFAULTS.squash;
  }
  return out;
}

export function assertNormKind(kind: string): asserts kind is NormKind {
  if (!(NORM_KINDS as readonly string[]).includes(kind))
    throw new Error(`unknown norm kind "${kind}"; valid kinds: ${NORM_KINDS.join(", ")}`);
}

/**
 * The one norm factory: every model gets its norm layers here, so a study
 * changes a string, never a model. Parameters are created in `store` under
 * `name` (no weight decay on any of them).
 */
export function makeNorm(kind: NormKind | string, dim: number, options: NormOptions = {}, store?: ParamStore, name = "norm"): Norm {
  assertNormKind(kind);
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`makeNorm: dim must be a positive integer, got ${dim}`);
  const layout = options.layout ?? NORM_DEFAULTS.layout;
  if (layout !== "channels-last" && layout !== "channels-first")
    throw new Error(`makeNorm: unknown layout "${layout}"; use channels-last or channels-first`);
  const s = (store ?? new ParamStore(new Rng(0))).scope(name);
  const before = s.params.length;
  const gain = options.gain ?? kind !== "identity";
  const bias = options.bias ?? (kind === "layernorm" || kind === "dyt" || kind === "batchnorm");
  const gamma = gain && kind !== "identity" ? s.constant("gamma", [dim], options.gain0 ?? 1) : undefined;
  const beta = bias && kind !== "identity" ? s.constant("beta", [dim], 0) : undefined;

  let apply: (x: tf.Tensor, opts?: NormCallOptions) => tf.Tensor;
  // For per-position kinds: the computation at a given layout (applyChannelsLast in types.ts).
  let at: ((x: tf.Tensor, l: Layout) => tf.Tensor) | undefined;
  let alpha: tf.Variable | undefined;
  let running: { runningMean: tf.Variable; runningVar: tf.Variable } | undefined;
  switch (kind) {
    case "layernorm": {
      const eps = options.eps ?? NORM_DEFAULTS.layernormEps;
      at = (x, l) => layerNorm(x, gamma, beta, eps, l);
      break;
    }
    case "rmsnorm": {
      const eps = options.eps ?? NORM_DEFAULTS.rmsnormEps;
      at = (x, l) => rmsNorm(x, gamma, beta, eps, l);
      break;
    }
    case "dyt": {
      const phi = options.squash ?? NORM_DEFAULTS.squash;
      if (!(SQUASHERS as readonly string[]).includes(phi))
        throw new Error(`unknown squash function "${phi}"; valid: ${SQUASHERS.join(", ")}`);
      const alpha0 = options.alpha0 ?? NORM_DEFAULTS.alpha0;
      if (!Number.isFinite(alpha0)) throw new Error(`makeNorm: alpha0 must be a finite number, got ${alpha0}`);
      alpha = s.constant("alpha", [1], alpha0);
      if (options.learnAlpha === false) alpha.trainable = false;
      const a = alpha;
      at = (x, l) => dyt(x, a, gamma, beta, phi, l);
      break;
    }
    case "batchnorm": {
      const eps = options.eps ?? NORM_DEFAULTS.batchnormEps;
      const momentum = options.momentum ?? NORM_DEFAULTS.batchnormMomentum;
      if (!(momentum >= 0 && momentum <= 1)) throw new Error(`makeNorm: batchnorm momentum must lie in [0, 1], got ${momentum}`);
      // Buffers, not weights: non-trainable params, so checkpoints (and exact resume) carry them.
      const runningMean = s.constant("running_mean", [dim], 0);
      const runningVar = s.constant("running_var", [dim], 1);
      runningMean.trainable = false;
      runningVar.trainable = false;
      const state = { runningMean, runningVar, momentum };
      running = { runningMean, runningVar };
      apply = (x, o) => batchNorm(x, gamma, beta, state, eps, o?.training === true, layout);
      break;
    }
    case "identity":
      at = (x) => x;
      break;
  }
  const perPosition = at;
  if (perPosition) apply = (x) => perPosition(x, layout);
  const channelsLast = perPosition && layout === "channels-first" ? { applyChannelsLast: (x: tf.Tensor) => perPosition(x, "channels-last") } : {};
  const params = s.params.slice(before);
  return { kind, name: s.prefix, dim, params, alpha, layout, ...running, apply: apply!, ...channelsLast };
}
