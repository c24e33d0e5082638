import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";

/**
 * Fused channels-last LayerNorm, RMSNorm and DyT (tanh) for the native engine:
 * one addon kernel for the forward and one for the backward of each layer
 * (native/dyt_native.cc normFwd/normBwd/dytFwd/dytBwd), instead of the ~10-20
 * small tfjs kernels of the unfused versions in lib/norms. Registered as custom
 * ops with custom gradients (tf.customGrad), so autodiff sees one node.
 *
 * The backward recomputes xhat (or tanh(alpha x)) from x and the per-row
 * statistics instead of saving a full-size tensor: customGrad's save() copies
 * every saved tensor, and one row pass is cheaper than that copy.
 *
 * Callers check fusedNormUsable() first; lib/norms routes here and keeps its
 * own implementation for every other engine, channels-first and non-float32.
 */
export function fusedNormUsable(x: tf.Tensor, ...params: (tf.Tensor | undefined)[]): boolean {
  return x.rank >= 1 && x.size > 0 && fusedKernelsUsable(x, ...params);
}

const run = (name: string, inputs: Record<string, tf.Tensor | undefined>, attrs: Record<string, number | boolean> = {}) => {
  const ins: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) if (v) ins[k] = v;
  return tf.engine().runKernel(name, ins, attrs) as tf.Tensor | tf.Tensor[];
};

/** Checks a [C] parameter against x's last dim (the callers reshape params to [C] already). */
function checkParam(x: tf.Tensor, p: tf.Tensor | undefined, what: string): void {
  const C = x.shape[x.rank - 1];
  if (p && (p.rank !== 1 || p.shape[0] !== C)) throw new Error(`fused ${what}: parameter shape [${p.shape}] does not match the channel dim ${C} of x [${x.shape}]`);
}

/** kind 0 LayerNorm (y = (x - mu) rstd g + b), 1 RMSNorm (y = x rstd g + b). */
function fusedStatNorm(kind: 0 | 1, x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  const what = kind === 0 ? "layernorm" : "rmsnorm";
  checkParam(x, gamma, what);
  checkParam(x, beta, what);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const f = withCustomGrad((ins, save) => {
    const g = gamma ? ins[1] : undefined;
    const b = beta ? ins[gamma ? 2 : 1] : undefined;
    const outs = run(FUSED_KERNELS.normFwd, { x: ins[0], gamma: g, beta: b }, { kind, eps }) as tf.Tensor[];
    const y = outs[0]!;
    const stats = outs.slice(1); // [mean, rstd] (LN) or [rstd]
    save([ins[0]!, ...stats, ...(g ? [g] : [])]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const sx = saved[0]!;
        const mean = kind === 0 ? saved[1] : undefined;
        const rstd = saved[kind === 0 ? 2 : 1]!;
        const sg = g ? saved[kind === 0 ? 3 : 2] : undefined;
        const r = run(FUSED_KERNELS.normBwd, { dy, x: sx, mean, rstd, gamma: sg }, { kind, hasBeta: !!b }) as tf.Tensor[];
        return r;
      },
    };
  });
  return f(...inputs);
}

/** LayerNorm over the last axis, biased variance; gamma/beta of shape [C] or absent. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  return fusedStatNorm(0, x, gamma, beta, eps);
}

/** RMSNorm over the last axis; gamma/beta of shape [C] or absent. */
export function fusedRmsNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  return fusedStatNorm(1, x, gamma, beta, eps);
}

/** DyT y = gamma * tanh(alpha x) + beta, alpha of shape [1], gamma/beta [C] or absent. */
export function fusedDyt(x: tf.Tensor, alpha: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined): tf.Tensor {
  if (alpha.size !== 1) throw new Error(`fused dyt: alpha must have one element, got shape [${alpha.shape}]`);
  checkParam(x, gamma, "dyt");
  checkParam(x, beta, "dyt");
  const inputs = [x, alpha, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const f = withCustomGrad((ins, save) => {
    const g = gamma ? ins[2] : undefined;
    const b = beta ? ins[gamma ? 3 : 2] : undefined;
    const y = run(FUSED_KERNELS.dytFwd, { x: ins[0], alpha: ins[1], gamma: g, beta: b }) as tf.Tensor;
    save([ins[0]!, ins[1]!, ...(g ? [g] : [])]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const r = run(FUSED_KERNELS.dytBwd, { dy, x: saved[0], alpha: saved[1], gamma: saved[2] }, { hasBeta: !!b }) as tf.Tensor[];
        // dalpha comes back as [1]; alpha may be [1] or a scalar-like shape.
        r[1] = r[1]!.reshape(alpha.shape);
        return r;
      },
    };
  });
  return f(...inputs);
}
