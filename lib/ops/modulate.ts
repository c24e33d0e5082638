import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";

/**
 * adaLN's per-sample modulation (DiT): x [B, T, D] with [B, D] coefficients
 * broadcast over the T tokens. Written as tfjs ops, each direction is 3-8
 * kernels with broadcasts and token reductions; a DiT step had ~130 of them.
 * On the native engine each direction is one addon kernel
 * (native/dyt_native.cc modulate), with the same float32 formulas and the
 * token sums accumulated in double in order, as the cpu backend's Sum does.
 */

function check(what: string, x: tf.Tensor, coefs: Record<string, tf.Tensor>, full?: [string, tf.Tensor]): void {
  if (x.rank !== 3) throw new Error(`${what}: x must be [B, T, D], got [${x.shape}]`);
  const [B, , D] = x.shape;
  for (const [name, c] of Object.entries(coefs))
    if (c.rank !== 2 || c.shape[0] !== B || c.shape[1] !== D)
      throw new Error(`${what}: ${name} must be [B, D] = [${B}, ${D}] for x [${x.shape}] (one coefficient per sample and channel), got [${c.shape}]`);
  if (full && !tf.util.arraysEqual(full[1].shape, x.shape)) throw new Error(`${what}: ${full[0]} must have x's shape [${x.shape}], got [${full[1].shape}]`);
}

const nativeModulate = withCustomGrad(([x, shift, scale], save) => {
  save([x!, scale!]);
  return {
    value: tf.engine().runKernel(FUSED_KERNELS.modulateFwd, { x: x!, scale: scale!, shift: shift! }) as tf.Tensor,
    gradFunc: (dy, [sx, ss]) => {
      const [dx, dscale, dshift] = tf.engine().runKernel(FUSED_KERNELS.modulateBwd, { dy, x: sx!, scale: ss! }) as tf.Tensor[];
      return [dx!, dshift!, dscale!];
    },
  };
});

/** x * (1 + scale) + shift, with [B, D] shift and scale broadcast over x's tokens (x [B, T, D]). */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  check("modulate", x, { shift, scale });
  if (x.size > 0 && fusedKernelsUsable(x, shift, scale)) return nativeModulate(x, shift, scale);
  return tf.add(tf.mul(x, tf.add(tf.expandDims(scale, 1), 1)), tf.expandDims(shift, 1));
}

const nativeGatedAdd = withCustomGrad(([x, gate, u], save) => {
  save([gate!, u!]);
  return {
    value: tf.engine().runKernel(FUSED_KERNELS.gatedAddFwd, { x: x!, gate: gate!, u: u! }) as tf.Tensor,
    gradFunc: (dy, [sg, su]) => {
      const [du, dgate] = tf.engine().runKernel(FUSED_KERNELS.gatedAddBwd, { dy, gate: sg!, u: su! }) as tf.Tensor[];
      return [dy.clone(), dgate!, du!];
    },
  };
});

/** x + gate * u (a gated residual), with the [B, D] gate broadcast over the tokens of x and u ([B, T, D]). */
export function gatedAdd(x: tf.Tensor, gate: tf.Tensor, u: tf.Tensor): tf.Tensor {
  check("gatedAdd", x, { gate }, ["u", u]);
  if (x.size > 0 && fusedKernelsUsable(x, gate, u)) return nativeGatedAdd(x, gate, u);
  return tf.add(x, tf.mul(tf.expandDims(gate, 1), u));
}
