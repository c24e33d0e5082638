/**
 * Native depthwise convolution (lib/engine/native.ts: DepthwiseConv2dNative
 * and the two backprop kernels the wasm backend lacks) against the reference
 * cpu backend. Skips, never fails, when the addon is not built.
 *
 * Tolerance: the cpu backend sums in double, the native kernels in float32
 * (the filter gradient per output row, rows in double), so outputs differ by
 * rounding only: checked as |native - cpu| <= 1e-4 |cpu| + 1e-4 max|cpu|
 * (the second term for elements where terms cancel; a wrong index or padding
 * gives O(max) errors).
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError, nativeStats, OVERRIDDEN_KERNELS } from "../lib/engine/native";
import { ConvNeXt, type ConvNeXtConfig } from "../lib/models";
import { depthwiseConv2d } from "../lib/ops/conv";
import { gradCheck, lcgValues } from "./helpers";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;

const rand = (n: number, seed: number) => Float32Array.from(lcgValues(n, seed));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function assertNear(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, rel = 1e-4): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]!));
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i]! - ref[i]!);
    if (!(err <= rel * Math.abs(ref[i]!) + rel * max + 1e-30)) assert.fail(`${what}[${i}]: native ${got[i]}, cpu ${ref[i]} (max |cpu| ${max})`);
  }
}

type Pad = "same" | "valid" | tf.backend_util.ExplicitPadding;
// [B, H, W, C, k, stride, pad]
const cases: [number, number, number, number, number, number, Pad][] = [
  [2, 7, 9, 5, 3, 1, "same"],
  [1, 11, 8, 24, 7, 1, "same"],
  [3, 9, 9, 1, 3, 2, "valid"],
  [2, 13, 10, 5, 7, 2, "same"],
  [2, 6, 7, 24, 3, 2, "same"], // even size, stride 2: asymmetric 'same' padding
  [1, 10, 12, 5, 7, 1, "valid"],
  [2, 8, 9, 24, 7, 1, [[0, 0], [3, 3], [3, 3], [0, 0]]], // ConvNeXt's explicit padding
  [2, 9, 7, 5, 3, 2, [[0, 0], [4, 1], [0, 2], [0, 0]]], // padding wider than the kernel
  [1, 5, 6, 5, 3, 1, [[0, 0], [1, 5], [6, 0], [0, 0]]], // whole output rows / columns in the padding
];

/** Forward output and tf.grads w.r.t. x and filter of a projected depthwise conv, on the current engine. */
function runCase([B, H, W, C, k, s, pad]: (typeof cases)[number]) {
  return tf.tidy(() => {
    const x = tf.tensor(rand(B * H * W * C, 1 + H), [B, H, W, C]) as tf.Tensor4D;
    const w = tf.tensor(rand(k * k * C, 2 + k), [k, k, C, 1]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x, w, s, pad);
    const proj = tf.tensor(rand(size(y.shape), 3), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), proj)))([x, w]);
    return [y, dx!, dw!].map((t) => Array.from(t.dataSync()));
  });
}

test("native depthwise: forward and both gradients match cpu (odd sizes, same/valid/explicit padding, stride 1 and 2, 3x3 and 7x7, 1/5/24 channels)", { skip }, async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const ref = cases.map(runCase);
  await initEngine({ engine: "native", quiet: true });
  try {
    for (const k of ["DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter"]) {
      assert.ok(OVERRIDDEN_KERNELS.includes(k), `${k} overridden`);
      assert.ok(tf.getKernel(k, "wasm"), `${k} registered on wasm`);
    }
    cases.forEach((c, i) => {
      const before = nativeStats.depthwise;
      const got = runCase(c);
      // forward twice (value and inside tf.grads), then dx and dw.
      assert.equal(nativeStats.depthwise - before, 4, `case ${i}: every call ran natively`);
      ["y", "dx", "dw"].forEach((n, j) => assertNear(got[j]!, ref[i]![j]!, `case ${i} [${c.slice(0, 6).join(",")}] ${JSON.stringify(c[6])} ${n}`));
    });
  } finally {
    await initEngine({ engine: "cpu", quiet: true });
  }
  // The wasm backend is restored: no backprop kernels, the original forward.
  assert.equal(tf.getKernel("DepthwiseConv2dNativeBackpropFilter", "wasm"), undefined);
  assert.equal(tf.getKernel("DepthwiseConv2dNativeBackpropInput", "wasm"), undefined);
});

test("native depthwise: unsupported cases go to the wasm kernel (multiplier 2, dilation 2) and match cpu", { skip }, async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(rand(2 * 7 * 7 * 3, 5), [2, 7, 7, 3]) as tf.Tensor4D;
      const w2 = tf.tensor(rand(3 * 3 * 3 * 2, 6), [3, 3, 3, 2]) as tf.Tensor4D;
      const w1 = tf.tensor(rand(3 * 3 * 3, 7), [3, 3, 3, 1]) as tf.Tensor4D;
      return [tf.depthwiseConv2d(x, w2, 1, "same"), tf.depthwiseConv2d(x, w1, 1, "valid", "NHWC", 2)].map((t) => Array.from(t.dataSync()));
    });
  await initEngine({ engine: "cpu", quiet: true });
  const ref = run();
  await initEngine({ engine: "native", quiet: true });
  try {
    const d0 = nativeStats.delegated;
    const got = run();
    assert.ok(nativeStats.delegated - d0 >= 2, "both delegated");
    got.forEach((g, i) => assertNear(g, ref[i]!, `unsupported case ${i}`));
  } finally {
    await initEngine({ engine: "cpu", quiet: true });
  }
});

test("native depthwise: tf.grad agrees with finite differences (stride 2, 'same')", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  try {
    const x = { data: Array.from(rand(2 * 5 * 6 * 3, 11)), shape: [2, 5, 6, 3] };
    const w = { data: Array.from(rand(3 * 3 * 3, 12)), shape: [3, 3, 3, 1] };
    const proj = tf.tensor(rand(2 * 3 * 3 * 3, 13), [2, 3, 3, 3]);
    const before = nativeStats.depthwise;
    gradCheck(([a, b]) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same"), proj)), [x, w]);
    assert.ok(nativeStats.depthwise > before, "ran natively");
    proj.dispose();
  } finally {
    await initEngine({ engine: "cpu", quiet: true });
  }
});

const SMALL: Partial<ConvNeXtConfig> = { imageSize: 12, channels: 3, numClasses: 5, stemPatch: 2, dims: [8, 24], depths: [1, 2], kernelSize: 7, layerScaleInit: 0.5, seed: 5 };

/** ConvNeXt loss and every parameter gradient on the current engine (model built there from the same seed). */
function convnextGrads(): { loss: number; grads: Map<string, number[]> } {
  const m = new ConvNeXt({ ...SMALL, norm: "layernorm" });
  try {
    const [value, ...gs] = tf.tidy(() => {
      const images = tf.tensor(rand(3 * 12 * 12 * 3, 21), [3, 12, 12, 3]);
      const labels = tf.oneHot(tf.tensor1d([0, 3, 4], "int32"), 5);
      const vars = m.params.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, m.forward(images)) as tf.Scalar, vars);
      return [value, ...m.params.map((p) => grads[p.variable.name]!)];
    });
    const out = new Map<string, number[]>();
    m.params.forEach((p, i) => out.set(p.name, Array.from(gs[i]!.dataSync())));
    const loss = value!.dataSync()[0]!;
    tf.dispose([value!, ...gs]);
    return { loss, grads: out };
  } finally {
    m.dispose();
  }
}

test("ConvNeXt (small): loss and all parameter gradients equal on native and cpu; the native depthwise kernels run; no leaks over 2 steps", { skip }, async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const ref = convnextGrads();
  await initEngine({ engine: "native", quiet: true });
  try {
    const before = nativeStats.depthwise;
    const got = convnextGrads();
    // 3 blocks: forward, dx and dw each.
    assert.equal(nativeStats.depthwise - before, 9, "every depthwise call of the step ran natively");
    assert.ok(Math.abs(got.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss native ${got.loss} cpu ${ref.loss}`);
    assert.equal(got.grads.size, ref.grads.size);
    assert.ok([...ref.grads.keys()].some((n) => n.includes("dwconv.weight")));
    for (const [name, g] of ref.grads) assertNear(got.grads.get(name)!, g, `grad ${name}`, 1e-4);

    // Two SGD steps: the tensor count is the same after each.
    const m = new ConvNeXt({ ...SMALL, norm: "layernorm" });
    const images = tf.tensor(rand(3 * 12 * 12 * 3, 21), [3, 12, 12, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 3, 4], "int32"), 5);
    const counts: number[] = [];
    for (let step = 0; step < 3; step++) {
      tf.tidy(() => {
        const vars = m.params.map((p) => p.variable);
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, m.forward(images)) as tf.Scalar, vars);
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.01)));
      });
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[2], counts[1], `tensor counts ${counts.join(",")}`);
    assert.equal(counts[1], counts[0], `tensor counts ${counts.join(",")}`);
    tf.dispose([images, labels]);
    m.dispose();
  } finally {
    await initEngine({ engine: "cpu", quiet: true });
  }
});

test("lib/ops/conv depthwiseConv2d on native (tfjs's gradient, padding in the kernel) equals its custom gradient on cpu", { skip }, async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(rand(2 * 9 * 8 * 24, 31), [2, 9, 8, 24]) as tf.Tensor4D;
      const w = tf.tensor(rand(7 * 7 * 24, 32), [7, 7, 24, 1]) as tf.Tensor4D;
      const proj = tf.tensor(rand(2 * 9 * 8 * 24, 33), [2, 9, 8, 24]);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 3), proj)) as tf.Scalar)([x, w]);
      return [value, ...grads].map((t) => Array.from(t.dataSync()));
    });
  await initEngine({ engine: "cpu", quiet: true });
  const ref = run();
  await initEngine({ engine: "native", quiet: true });
  try {
    const before = nativeStats.depthwise;
    const got = run();
    assert.equal(nativeStats.depthwise - before, 3);
    ["loss", "dx", "dw"].forEach((n, i) => assertNear(got[i]!, ref[i]!, n));
  } finally {
    await initEngine({ engine: "cpu", quiet: true });
  }
});
