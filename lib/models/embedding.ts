import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "../ops/grad";

/**
 * Embedding lookup table[ids] -> [N, d] for ids int32 [N]. Forward is a
 * gather; the gradient is written out as oneHot(ids)^T @ dy, one matmul,
 * because tfjs's own gather gradient needs UnsortedSegmentSum, which the wasm
 * backend lacks. (The transpose is explicit: the fast matmul path.)
 * The one-hot is built int32 and cast: tfjs-backend-wasm 4.22's OneHot
 * ignores dtype "float32" and writes the int32 bit pattern of 1 (1.4e-45 as
 * a float), which made this gradient ~0 on the wasm and native engines (the
 * cpu engine is correct), so embedding tables never trained there.
 * On the native engine the gradient is the addon's scatter-add of dy's rows
 * (no [N, V] one-hot, cast and transpose: ~15 ms of an LM step).
 */
export function embedLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  if (table.rank !== 2) throw new Error(`embedLookup: table must be [vocab, dim], got [${table.shape.join(",")}]`);
  if (ids.rank !== 1 || ids.dtype !== "int32") throw new Error(`embedLookup: ids must be int32 [N], got ${ids.dtype} [${ids.shape.join(",")}]`);
  const V = table.shape[0]!;
  const f = withCustomGrad(([t], save) => {
    save([ids]);
    return {
      value: tf.gather(t!, ids),
      gradFunc: (dy, [sids]) => [
        fusedKernelsUsable(dy) && dy.rank === 2
          ? (tf.engine().runKernel(FUSED_KERNELS.scatterAddRows, { x: dy, indices: sids! }, { rows: V }) as tf.Tensor)
          : tf.tidy(() => tf.matMul(tf.transpose(tf.cast(tf.oneHot(sids!, V), "float32")), dy)),
      ],
    };
  });
  return f(table);
}
