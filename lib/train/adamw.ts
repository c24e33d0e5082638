import * as tf from "@tensorflow/tfjs";
import { newVariable, type Param } from "../ops/param";
import { nativeAdamW, type AdamWSlot } from "../engine/native";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

/**
 * AdamW (decoupled weight decay, PyTorch semantics) with two parameter
 * groups: decay applies only to params with `decay: true` (weight matrices);
 * norm parameters, DyT's alpha, biases, position embeddings and the class
 * token get none, as in the official DyT recipe. tfjs has no AdamW, and its
 * Adam has neither groups nor checkpointable state, hence this one.
 *
 * On the native engine the whole update is one addon call over every
 * parameter (lib/engine/native.ts nativeAdamW: ~7 tfjs kernels per parameter
 * otherwise, ~400 per ViT step), computing the same float32 operations in the
 * same order, so the numbers are identical; elsewhere the tfjs ops below run.
 * State (m, v, step) is the same either way, so checkpoints do not change.
 */
export class AdamW {
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  step = 0;
  constructor(
    readonly params: Param[],
    readonly cfg: AdamWConfig = ADAMW_DEFAULTS,
  ) {
    this.m = params.map((p) => newVariable(tf.zerosLike(p.variable), false));
    this.v = params.map((p) => newVariable(tf.zerosLike(p.variable), false));
  }

  /** One update with learning rate `lr`; grads[i] belongs to params[i] (undefined = no gradient). */
  apply(grads: (tf.Tensor | undefined)[], lr: number): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    const slots: AdamWSlot[] = [];
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (g && p.variable.trainable) slots.push({ w: p.variable, g, m: this.m[i]!, v: this.v[i]!, decay: p.decay && weightDecay > 0 });
    });
    // DYT_FUSED_ADAMW=0 (or DYT_FUSED=0) keeps the tfjs ops: the unfused reference on the same engine.
    if (process.env.DYT_FUSED_ADAMW !== "0" && nativeAdamW(slots, { beta1, beta2, eps, lr, weightDecay, bc1, bc2 })) return;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i];
        if (!g || !p.variable.trainable) return;
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        let w: tf.Tensor = p.variable;
        if (p.decay && weightDecay > 0) w = tf.mul(w, 1 - lr * weightDecay);
        const upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        p.variable.assign(tf.sub(w, tf.mul(upd, lr)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
