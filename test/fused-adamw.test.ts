/**
 * The one-call native AdamW (lib/train/adamw.ts -> nativeAdamW) against the
 * tfjs-op AdamW: bit-identical updates on the same engine, 5 ViT training
 * steps with the same losses as the unfused path and as the cpu backend,
 * shared buffers left untouched, no tensor leak. DYT_FUSED=0 switches the
 * fused kernels off at run time (the unfused reference on the same engine).
 * Native-only tests skip when the addon is not built.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError, nativeStats } from "../lib/engine/native";
import { AdamW } from "../lib/train/adamw";
import { ViT } from "../lib/models/vit";
import { ResNet } from "../lib/models/resnet";
import type { Param } from "../lib/ops/param";
import { TOY_VIT } from "./fixtures";
import { assertClose, lcgValues } from "./helpers";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;

const rand = (n: number, seed: number, scale = 1) => Float32Array.from(lcgValues(n, seed, scale));

function withUnfused<T>(unfused: boolean, f: () => T): T {
  const prev = process.env.DYT_FUSED;
  if (unfused) process.env.DYT_FUSED = "0";
  try {
    return f();
  } finally {
    if (prev === undefined) delete process.env.DYT_FUSED;
    else process.env.DYT_FUSED = prev;
  }
}

/** Params of mixed shapes (one above the 16K-float chunk, a frozen one, one without gradient), 4 AdamW steps. */
function runOptimizer(unfused: boolean): { values: Float32Array[]; m: Float32Array[]; v: Float32Array[]; step: number } {
  return withUnfused(unfused, () => {
    const shapes = [[70, 300], [64], [1], [5, 7], [3]];
    const params: Param[] = shapes.map((s, i) => ({ name: `p${i}`, variable: tf.variable(tf.tensor(rand(s.reduce((a, b) => a * b, 1), 10 + i, 0.5), s)), decay: i % 2 === 0 }));
    params[3]!.variable.trainable = false;
    const opt = new AdamW(params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    for (let k = 0; k < 4; k++) {
      const grads = params.map((p, i) => (i === 4 ? undefined : tf.tensor(rand(p.variable.size, 100 * k + i, 0.1 * (k + 1)), p.variable.shape)));
      opt.apply(grads, 1e-2 / (k + 1));
      tf.dispose(grads.filter((g): g is tf.Tensor => !!g));
    }
    const out = {
      values: params.map((p) => p.variable.dataSync() as Float32Array),
      m: opt.m.map((t) => t.dataSync() as Float32Array),
      v: opt.v.map((t) => t.dataSync() as Float32Array),
      step: opt.step,
    };
    opt.dispose();
    tf.dispose(params.map((p) => p.variable));
    return out;
  });
}

test("fused AdamW: one native call, bit-identical to the tfjs-op AdamW on the same engine", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const calls = nativeStats.adamw;
  const fused = runOptimizer(false);
  assert.equal(nativeStats.adamw - calls, 4, "one native call per step");
  const plain = runOptimizer(true);
  assert.equal(nativeStats.adamw - calls, 4, "DYT_FUSED=0 runs the tfjs ops");
  assert.equal(fused.step, plain.step);
  for (const key of ["values", "m", "v"] as const)
    fused[key].forEach((a, i) => assert.deepEqual(Array.from(a), Array.from(plain[key][i]!), `${key} of param ${i}`));
  // The frozen param and the one without gradient did not move.
  assert.ok(fused.m[3]!.every((x) => x === 0) && fused.m[4]!.every((x) => x === 0));
});

test("fused AdamW: the same numbers as the cpu backend's AdamW", { skip }, async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const ref = runOptimizer(false);
  await initEngine({ engine: "native", quiet: true });
  const got = runOptimizer(false);
  got.values.forEach((a, i) => assertClose(a, ref.values[i]!, 1e-5, 1e-7, `param ${i}`));
});

test("fused AdamW: a parameter sharing its buffer (reshape, clone) gets a fresh one; the aliases keep the old values", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const variable = tf.variable(tf.tensor([1, 2, 3, 4], [2, 2]));
  const alias = variable.reshape([4]); // the wasm Reshape shares the buffer
  const copy = tf.clone(variable); // so does the native engine's Identity
  const opt = new AdamW([{ name: "w", variable, decay: true }]);
  const n0 = tf.memory().numTensors;
  const g = tf.tensor([0.1, -0.2, 0.3, -0.4], [2, 2]);
  opt.apply([g], 0.1);
  assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3, 4]);
  const w = Array.from(variable.dataSync());
  assert.ok(w[0]! < 1 && w[1]! > 2, `moved against the gradient: ${w}`);
  assert.equal(tf.memory().numTensors, n0 + 1, "only the gradient tensor was added");
  tf.dispose([g, alias, copy, variable]);
  opt.dispose();
});

/** Losses of 5 AdamW steps of the toy ViT (forward + backward + update), and the tensor count after each step. */
function vitLosses(norm: "layernorm" | "dyt", unfused: boolean): { losses: number[]; tensors: number[] } {
  return withUnfused(unfused, () => {
    const m = new ViT({ ...TOY_VIT, norm, seed: 3 });
    const opt = new AdamW(m.params);
    const x = tf.tensor(rand(8 * 8 * 8, 5), [8, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], "int32"), 4);
    const losses: number[] = [];
    const tensors: number[] = [];
    for (let s = 0; s < 5; s++) {
      tf.tidy(() => {
        const vars = m.params.map((p) => p.variable);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.forward(x)) as tf.Scalar, vars);
        opt.apply(
          vars.map((v) => grads[v.name]),
          3e-3,
        );
        losses.push(value.dataSync()[0]!);
      });
      tensors.push(tf.memory().numTensors);
    }
    tf.dispose([x, y]);
    opt.dispose();
    m.dispose();
    return { losses, tensors };
  });
}

test("fused AdamW + fused norms: 5 ViT steps give the unfused path's and the cpu backend's losses, no leak", { skip }, async () => {
  for (const norm of ["layernorm", "dyt"] as const) {
    await initEngine({ engine: "cpu", quiet: true });
    const ref = vitLosses(norm, false);
    await initEngine({ engine: "native", quiet: true });
    const unfused = vitLosses(norm, true);
    const calls = nativeStats.adamw;
    const fused = vitLosses(norm, false);
    assert.equal(nativeStats.adamw - calls, 5, `${norm}: fused AdamW ran each step`);
    assertClose(fused.losses, unfused.losses, 1e-5, 1e-6, `${norm}: fused vs unfused losses on native`);
    assertClose(fused.losses, ref.losses, 1e-4, 1e-5, `${norm}: fused native vs cpu losses`);
    assert.ok(fused.losses[4]! < fused.losses[0]!, `${norm}: the loss went down`);
    assert.ok(fused.tensors.slice(1).every((n) => n === fused.tensors[1]), `${norm}: tensor count flat: ${fused.tensors}`);
  }
});

test("fused AdamW on a conv net: 2 ResNet steps give the unfused path's weights and outputs (no stale packed filters)", { skip }, async () => {
  // Regression: writing a conv weight in place under the same data id left the
  // wasm backend's XNNPACK convolution with its cached (old) packed filter.
  await initEngine({ engine: "native", quiet: true });
  const x = tf.tensor(rand(16 * 8 * 8, 7), [16, 8, 8, 1]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], "int32"), 4);
  const run = (unfused: boolean) =>
    withUnfused(unfused, () => {
      const m = new ResNet({ imageSize: 8, channels: 1, numClasses: 4, widths: [4, 8], blocksPerStage: [1, 1], seed: 4 });
      const tr = m.params.filter((p) => p.variable.trainable);
      const opt = new AdamW(tr);
      for (let s = 0; s < 2; s++)
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.forward(x, { training: true })) as tf.Scalar, tr.map((p) => p.variable));
          opt.apply(
            tr.map((p) => grads[p.variable.name]),
            1e-2,
          );
        });
      const out = { params: m.params.map((p) => Array.from(p.variable.dataSync())), logits: tf.tidy(() => Array.from(m.forward(x).dataSync())) };
      opt.dispose();
      m.dispose();
      return out;
    });
  const calls = nativeStats.adamw;
  const fused = run(false);
  assert.equal(nativeStats.adamw - calls, 2, "the fused AdamW ran");
  const plain = run(true);
  fused.params.forEach((p, i) => assert.deepEqual(p, plain.params[i], `param ${i}`));
  assert.deepEqual(fused.logits, plain.logits);
  tf.dispose([x, y]);
});

test("AdamW without the addon: the tfjs ops run (cpu engine), state as before", async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const calls = nativeStats.adamw;
  const r = runOptimizer(false);
  assert.equal(nativeStats.adamw, calls);
  assert.equal(r.step, 4);
  assert.ok(r.m[0]!.some((x) => x !== 0));
});
