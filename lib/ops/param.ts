import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng";

/**
 * A trainable tensor with the facts the optimizer needs: a stable name (for
 * checkpoints and hooks) and whether weight decay applies (AdamW groups:
 * no decay on norm parameters, alpha, biases, position embeddings).
 */
export interface Param {
  name: string;
  variable: tf.Variable;
  decay: boolean;
}

/** Collects parameters under a dotted prefix while a model is built. */
export class ParamStore {
  readonly params: Param[] = [];
  constructor(
    readonly rng: Rng,
    readonly prefix = "",
  ) {}

  scope(name: string): ParamStore {
    const child = new ParamStore(this.rng, this.prefix ? `${this.prefix}.${name}` : name);
    (child as { params: Param[] }).params = this.params; // shared list
    return child;
  }

  add(name: string, values: Float32Array, shape: number[], decay: boolean): tf.Variable {
    const full = this.prefix ? `${this.prefix}.${name}` : name;
    if (this.params.some((p) => p.name === full)) throw new Error(`duplicate parameter name ${full}`);
    const variable = newVariable(tf.tensor(values, shape, "float32"), true, `${full}_${uid++}`);
    this.params.push({ name: full, variable, decay });
    return variable;
  }

  /** Truncated normal N(0, std^2) cut at the absolute values +-2 (timm), drawn from the seeded Rng so every engine starts identical. */
  truncNormal(name: string, shape: number[], std: number, decay = true): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = this.rng.truncNormal(std);
    return this.add(name, v, shape, decay);
  }

  /** Uniform in [-bound, bound): PyTorch's default Conv/Linear init uses bound = 1/sqrt(fan_in). */
  uniform(name: string, shape: number[], bound: number, decay = true): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (2 * this.rng.next() - 1) * bound;
    return this.add(name, v, shape, decay);
  }

  constant(name: string, shape: number[], value: number, decay = false): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, new Float32Array(n).fill(value), shape, decay);
  }
}
let uid = 0;

/**
 * tf.variable(init) shares init's data but leaves `init` registered as a live
 * tensor; disposing it here keeps the tensor count exact (the leak test
 * counts every tensor).
 */
export function newVariable(init: tf.Tensor, trainable = true, name?: string): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

export function disposeParams(params: Param[]): void {
  for (const p of params) p.variable.dispose();
}

export function countParams(params: Param[]): number {
  return params.reduce((a, p) => a + p.variable.size, 0);
}
