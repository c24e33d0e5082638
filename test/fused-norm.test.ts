/**
 * Fused native LayerNorm / RMSNorm / DyT (lib/ops/fused-norm.ts, routed to by
 * lib/norms on the native engine) against the cpu backend running the unfused
 * lib/norms code: values and gradients (x and every parameter), shapes that
 * cross the kernels' 64-row blocks and their threading threshold, with and
 * without gamma/beta; finite differences for the new backward code; no leaks.
 * Native-only tests skip when the addon is not built.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError, nativeStats } from "../lib/engine/native";
import { layerNorm, rmsNorm, dyt } from "../lib/norms";
import { fusedNormUsable } from "../lib/ops/fused-norm";
import { assertClose, gradCheck, lcgValues } from "./helpers";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;

const rand = lcgValues;

type Kind = "layernorm" | "rmsnorm" | "dyt";
interface Case {
  kind: Kind;
  shape: number[];
  gamma: boolean;
  beta: boolean;
}

/** y = norm(x) and the gradients of sum(y * w) wrt x, gamma, beta (and alpha for DyT), as plain arrays. */
function evalCase(c: Case): { y: number[]; grads: number[][] } {
  const C = c.shape[c.shape.length - 1]!;
  const n = c.shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    // An offset and spread per row so LN's centring and RMS's scale matter.
    const x = tf.tensor(rand(n, 1, 2, 0.3), c.shape);
    const w = tf.tensor(rand(n, 2), c.shape);
    const gamma = c.gamma ? tf.tensor(rand(C, 3, 0.5, 1), [C]) : undefined;
    const beta = c.beta ? tf.tensor(rand(C, 4, 0.5), [C]) : undefined;
    const alpha = tf.tensor([0.7], [1]);
    const ins = [x, ...(c.kind === "dyt" ? [alpha] : []), ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
    const f = (...xs: tf.Tensor[]) => {
      let i = 1;
      const a = c.kind === "dyt" ? xs[i++]! : undefined;
      const g = gamma ? xs[i++] : undefined;
      const b = beta ? xs[i++] : undefined;
      const y = c.kind === "layernorm" ? layerNorm(xs[0]!, g, b, 1e-6) : c.kind === "rmsnorm" ? rmsNorm(xs[0]!, g, b, 1e-6) : dyt(xs[0]!, a!, g, b);
      return y;
    };
    const y = Array.from(f(...ins).dataSync());
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)) as tf.Scalar)(ins).map((g) => Array.from(g.dataSync()));
    return { y, grads };
  });
}

const CASES: Case[] = [];
for (const kind of ["layernorm", "rmsnorm", "dyt"] as Kind[]) {
  CASES.push({ kind, shape: [2, 3, 8], gamma: true, beta: kind !== "rmsnorm" });
  CASES.push({ kind, shape: [7, 5], gamma: false, beta: false });
  CASES.push({ kind, shape: [5, 9], gamma: false, beta: true });
  // 130 rows: three 64-row blocks; 600 x 64 = 38400 elements: the threaded path.
  CASES.push({ kind, shape: [130, 16], gamma: true, beta: true });
  CASES.push({ kind, shape: [600, 64], gamma: true, beta: kind !== "rmsnorm" });
}

test("fused norms: values and gradients match the cpu backend (unfused lib/norms)", { skip }, async () => {
  for (const c of CASES) {
    await initEngine({ engine: "cpu", quiet: true });
    const ref = evalCase(c);
    await initEngine({ engine: "native", quiet: true });
    const before = nativeStats.norm;
    const got = evalCase(c);
    const what = `${c.kind} [${c.shape}] gamma=${c.gamma} beta=${c.beta}`;
    // 3 fused kernels: the value's forward, the grads' forward and backward.
    assert.equal(nativeStats.norm - before, 3, `${what}: fused kernels used`);
    assertClose(got.y, ref.y, 1e-5, 1e-5, `${what}: y`);
    assert.equal(got.grads.length, ref.grads.length);
    // Parameter gradients sum over all rows: scale the tolerance with the row count.
    const rows = c.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-4, i === 0 ? 1e-5 : 1e-6 * rows, `${what}: grad of input ${i}`));
  }
});

test("fused norms: backward matches finite differences on native", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const x = { data: rand(12, 5, 1.5, 0.2), shape: [3, 4] };
  const g = { data: rand(4, 6, 0.5, 1), shape: [4] };
  const b = { data: rand(4, 7, 0.5), shape: [4] };
  const w = tf.tensor(rand(12, 8), [3, 4]);
  const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, w)) as tf.Scalar;
  assert.ok(fusedNormUsable(w), "fused path active on native");
  const before = nativeStats.norm;
  gradCheck(([xx, gg, bb]) => loss(layerNorm(xx!, gg, bb, 1e-5)), [x, g, b]);
  gradCheck(([xx, gg, bb]) => loss(rmsNorm(xx!, gg, bb, 1e-5)), [x, g, b]);
  gradCheck(([xx, aa, gg, bb]) => loss(dyt(xx!, aa!, gg, bb)), [x, { data: [0.8], shape: [1] }, g, b]);
  assert.ok(nativeStats.norm > before, "the fused kernels ran");
  w.dispose();
});

test("fused norms: no tensor leak across repeated forward + backward", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const x = tf.tensor(rand(256, 9), [4, 8, 8]);
  const g = tf.variable(tf.ones([8]));
  const b = tf.variable(tf.zeros([8]));
  const a = tf.variable(tf.tensor([0.5], [1]));
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(tf.add(layerNorm(x, g, b, 1e-6), rmsNorm(x, g, undefined, 1e-6)), dyt(x, a, g, b))) as tf.Scalar, [g, b, a]);
      return [value.dataSync()[0]!, Object.keys(grads).length];
    });
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n0);
  tf.dispose([x, g, b, a]);
});

test("fused norms: not used on the cpu engine or for channels-first input", async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const x = tf.ones([2, 4]);
  assert.equal(fusedNormUsable(x), false);
  x.dispose();
  if (skip) return;
  await initEngine({ engine: "native", quiet: true });
  const before = nativeStats.norm;
  tf.tidy(() => layerNorm(tf.ones([2, 3, 4, 4]), tf.ones([3]), tf.zeros([3]), 1e-6, "channels-first").dataSync());
  assert.equal(nativeStats.norm, before, "channels-first stays on the unfused path");
});
