import * as tf from "@tensorflow/tfjs";

export type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
export type SaveFunc = (tensors: tf.Tensor[]) => void;

/**
 * Typed wrapper over tf.customGrad: `f(inputs, save)` returns the value and a
 * gradient giving one tensor per input. tf.customGrad's own typings are not
 * exported under the tf namespace, hence this single cast.
 */
export function withCustomGrad(
  f: (inputs: tf.Tensor[], save: SaveFunc) => { value: tf.Tensor; gradFunc: GradFunc },
): (...inputs: tf.Tensor[]) => tf.Tensor {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g = tf.customGrad(((...args: any[]) => {
    const save = args.pop() as SaveFunc;
    return f(args as tf.Tensor[], save);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  }) as any) as (...inputs: tf.Tensor[]) => tf.Tensor;
  return (...inputs) => g(...inputs);
}
