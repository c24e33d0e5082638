/**
 * adaLN's modulation ops (lib/ops/modulate.ts): the native engine's fused
 * kernels against the tfjs ops on the cpu backend (values and gradients, a
 * size on the threaded path), finite differences for the native backward, no
 * leaks, shape errors, and a whole DiT's loss and gradients on both engines.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError, nativeStats } from "../lib/engine/native";
import { gatedAdd, modulate } from "../lib/ops/modulate";
import { DiT } from "../lib/models";
import { assertClose, gradCheck, lcgValues } from "./helpers";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;
const rand = lcgValues;

/** Both ops on [B, T, D] inputs from fixed seeds: outputs and the gradients of sum(out * w) wrt every input. */
function evalOps(B: number, T: number, D: number): { y: number[][]; grads: number[][] } {
  return tf.tidy(() => {
    const x = tf.tensor3d(rand(B * T * D, 1, 2), [B, T, D]);
    const u = tf.tensor3d(rand(B * T * D, 2, 2), [B, T, D]);
    const shift = tf.tensor2d(rand(B * D, 3), [B, D]);
    const scale = tf.tensor2d(rand(B * D, 4), [B, D]);
    const gate = tf.tensor2d(rand(B * D, 5), [B, D]);
    const w = tf.tensor3d(rand(B * T * D, 6), [B, T, D]);
    const loss = (f: () => tf.Tensor) => tf.sum(tf.mul(f(), w)) as tf.Scalar;
    const gm = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(() => modulate(a, b, c)))([x, shift, scale]);
    const gg = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(() => gatedAdd(a, b, c)))([x, gate, u]);
    return {
      y: [modulate(x, shift, scale), gatedAdd(x, gate, u)].map((t) => Array.from(t.dataSync())),
      grads: [...gm, ...gg].map((g) => Array.from(g.dataSync())),
    };
  });
}

test("modulate and gatedAdd: native values and gradients match the cpu backend's tfjs ops", { skip }, async () => {
  // Odd sizes (vector tails), and 16 x 49 x 64 (the DiT bench's tokens and width, on the threaded path).
  for (const [B, T, D] of [[3, 5, 7], [16, 49, 64]] as const) {
    await initEngine({ engine: "cpu", quiet: true });
    const ref = evalOps(B, T, D);
    await initEngine({ engine: "native", quiet: true });
    const before = nativeStats.modulate;
    const got = evalOps(B, T, D);
    assert.equal(nativeStats.modulate - before, 6, "each op's forward twice and backward once ran in the addon");
    got.y.forEach((y, i) => assertClose(y, ref.y[i]!, 1e-6, 1e-6, `[${B},${T},${D}] ${["modulate", "gatedAdd"][i]}`));
    const names = ["modulate dx", "modulate dshift", "modulate dscale", "gatedAdd dx", "gatedAdd dgate", "gatedAdd du"];
    got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-5, 1e-5, `[${B},${T},${D}] ${names[i]}`));
  }
});

test("modulate and gatedAdd: native backward matches finite differences", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const [B, T, D] = [2, 3, 4];
  const w = tf.tensor3d(rand(B * T * D, 9), [B, T, D]);
  const before = nativeStats.modulate;
  const full = (s: number) => ({ data: rand(B * T * D, s, 1.5), shape: [B, T, D] });
  const coef = (s: number) => ({ data: rand(B * D, s), shape: [B, D] });
  gradCheck(([x, h, s]) => tf.sum(tf.mul(modulate(x!, h!, s!), w)) as tf.Scalar, [full(1), coef(2), coef(3)]);
  gradCheck(([x, g, u]) => tf.sum(tf.mul(gatedAdd(x!, g!, u!), w)) as tf.Scalar, [full(4), coef(5), full(6)]);
  assert.ok(nativeStats.modulate > before, "the fused kernels ran");
  w.dispose();
});

test("modulate and gatedAdd: no tensor leak across repeated forward + backward on native", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const x = tf.variable(tf.tensor3d(rand(2 * 5 * 4, 1), [2, 5, 4]));
  const c = tf.variable(tf.tensor2d(rand(8, 2), [2, 4]));
  const step = () =>
    tf.tidy(() => Object.keys(tf.variableGrads(() => tf.sum(tf.square(gatedAdd(x, c, modulate(x, c, c)))) as tf.Scalar, [x, c]).grads).length);
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n0);
  tf.dispose([x, c]);
});

test("modulate and gatedAdd: shape errors name the operand and the shape wanted", async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const x = tf.zeros([2, 3, 4]);
  assert.throws(() => modulate(tf.zeros([6, 4]), tf.zeros([2, 4]), tf.zeros([2, 4])), /modulate: x must be \[B, T, D\], got \[6,4\]/);
  assert.throws(() => modulate(x, tf.zeros([2, 4]), tf.zeros([3, 4])), /modulate: scale must be \[B, D\] = \[2, 4\] for x \[2,3,4\].*got \[3,4\]/);
  assert.throws(() => modulate(x, tf.zeros([2, 5]), tf.zeros([2, 4])), /modulate: shift must be \[B, D\]/);
  assert.throws(() => gatedAdd(x, tf.zeros([2, 3, 4]), x), /gatedAdd: gate must be \[B, D\]/);
  assert.throws(() => gatedAdd(x, tf.zeros([2, 4]), tf.zeros([2, 3, 5])), /gatedAdd: u must have x's shape \[2,3,4\], got \[2,3,5\]/);
  x.dispose();
});

test("DiT: loss and parameter gradients on native (fused modulation) match the cpu backend", { skip }, async () => {
  const run = async (engine: "cpu" | "native") => {
    await initEngine({ engine, quiet: true });
    const m = new DiT({ imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 16, depth: 2, heads: 2, mlpRatio: 2, freqDim: 8, adaLNZero: false, seed: 7 });
    const vars = m.params.map((p) => p.variable);
    const out = tf.tidy(() => {
      const xt = tf.tensor4d(rand(3 * 64, 11), [3, 8, 8, 1]);
      const t = tf.tensor1d([5, 400, 999], "int32");
      const y = tf.tensor1d([0, 3, 1], "int32");
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(m.predict(xt, t, y))) as tf.Scalar, vars);
      return { loss: value.dataSync()[0]!, grads: vars.map((v) => Array.from(grads[v.name]!.dataSync())) };
    });
    m.dispose();
    return out;
  };
  const ref = await run("cpu");
  const before = nativeStats.modulate;
  const got = await run("native");
  assert.ok(nativeStats.modulate - before >= 2 * 2 * 2, "every block's two modulations and two gated adds ran fused");
  assertClose([got.loss], [ref.loss], 1e-5, 1e-6, "loss");
  got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-3, 1e-5, `gradient ${i}`));
});
