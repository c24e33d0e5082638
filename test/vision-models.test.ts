import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { conv2d, depthwiseConv2d } from "../lib/ops/conv";
import { makeNorm, batchNorm } from "../lib/norms";
import { applyNormNHWC, ConvNeXt, DiTBlock, MLPMixer, ResNet, resolveConvNeXtConfig, resolveMixerConfig, resolveResNetConfig, type ConvNeXtConfig, type MixerConfig, type ResNetConfig } from "../lib/models";
import { captureNorms } from "../lib/hooks";
import { train, type TrainConfig } from "../lib/train";
import { DatasetFileError } from "../lib/data/fashion-mnist";
import { EMOJI32_CLASSES, EMOJI32_MEAN, EMOJI32_STD, emoji32SplitOf, forgetEmoji32, loadEmoji32, loadEmoji32U8 } from "../lib/data/emoji";
import { Rng } from "../lib/util/rng";
import { ParamStore } from "../lib/ops/param";
import { assertClose, gradCheck, useEngine } from "./helpers";
import { toyImages } from "./fixtures";

const TOY_CONVNEXT: Partial<ConvNeXtConfig> = { imageSize: 8, channels: 1, numClasses: 4, stemPatch: 2, dims: [8, 16], depths: [1, 1], kernelSize: 7 };
const TOY_MIXER: Partial<MixerConfig> = { imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 16, depth: 2 };
const TOY_RESNET: Partial<ResNetConfig> = { imageSize: 8, channels: 1, numClasses: 4, widths: [4, 8], blocksPerStage: [1, 1] };
const data = { train: toyImages(256, 1), eval: toyImages(64, 2, "val") };
const cfg: Partial<TrainConfig> = { steps: 6, batchSize: 16, lr: 3e-3, warmupSteps: 2, evalEvery: 3, evalLimit: 64, evalBatchSize: 32, logEvery: 1, checkpointEvery: 3, seed: 5 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dyt-vision-"));
const losses = (log: { loss: number }[]) => log.map((l) => l.loss);

function randn(shape: number[], seed: number): { data: number[]; shape: number[] } {
  const r = new Rng(seed);
  return { data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape };
}
const t = (v: { data: number[]; shape: number[] }) => tf.tensor(v.data, v.shape);
/** A fixed random projection turns any output into a scalar loss with non-uniform gradients. */
const project = (y: tf.Tensor, seed: number) => tf.sum(tf.mul(y, t(randn(y.shape, seed)))) as tf.Scalar;

let haveNative = true;
async function useNative(): Promise<boolean> {
  try {
    await initEngine({ engine: "native", quiet: true });
    return true;
  } catch {
    await initEngine({ engine: "wasm", quiet: true });
    return false;
  }
}

describe("convolutions (lib/ops/conv)", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  const convCases: [number, number, number, number][] = [
    // H, k, stride, pad
    [5, 3, 1, 1],
    [5, 3, 2, 1],
    [6, 3, 2, 1],
    [5, 1, 2, 0],
    [4, 2, 2, 0],
  ];
  for (const [H, k, s, p] of convCases)
    it(`conv2d ${H}x${H} k${k} s${s} p${p}: finite-difference gradients, and tfjs's own conv2d on cpu`, () => {
      const x = randn([2, H, H, 2], 1);
      const w = randn([k, k, 2, 3], 2);
      gradCheck(([a, b]) => project(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p), 3), [x, w]);
      const ours = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => project(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p), 3))([t(x), t(w)]).map((g) => Array.from(g.dataSync())));
      const ref = tf.tidy(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => project(tf.conv2d(tf.pad(a, [[0, 0], [p, p], [p, p], [0, 0]]) as tf.Tensor4D, b as tf.Tensor4D, s, "valid"), 3))([t(x), t(w)]).map((g) => Array.from(g.dataSync())),
      );
      assertClose(ours[0]!, ref[0]!, 1e-4, 1e-5, "dx");
      assertClose(ours[1]!, ref[1]!, 1e-4, 1e-5, "dw");
    });

  it("depthwise 3x3 and 7x7: finite-difference gradients, and tfjs's own depthwiseConv2d on cpu", () => {
    for (const k of [3, 7]) {
      const x = randn([2, 5, 5, 2], 4);
      const w = randn([k, k, 2, 1], 5);
      gradCheck(([a, b]) => project(depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, (k - 1) / 2), 6), [x, w]);
      const ours = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => project(depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, (k - 1) / 2), 6))([t(x), t(w)]).map((g) => Array.from(g.dataSync())));
      const ref = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => project(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), 6))([t(x), t(w)]).map((g) => Array.from(g.dataSync())));
      assertClose(ours[0]!, ref[0]!, 1e-4, 1e-5, `k${k} dx`);
      assertClose(ours[1]!, ref[1]!, 1e-4, 1e-5, `k${k} dw`);
    }
  });

  it("native / wasm engine: tfjs's conv gradients are missing there, ours run and match cpu", async () => {
    const x = randn([4, 9, 9, 6], 7);
    const w = randn([3, 3, 6, 5], 8);
    const dw = randn([7, 7, 6, 1], 9);
    const run = () =>
      tf.tidy(() => {
        const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => project(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1), 10))([t(x), t(w)]);
        const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) => project(depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 3), 11))([t(x), t(dw)]);
        return [...g1, ...g2].map((g) => Array.from(g.dataSync()));
      });
    const cpu = run();
    haveNative = await useNative();
    try {
      // Why lib/ops/conv exists: tfjs 4.22's wasm backend has no Conv2DBackpropFilter.
      assert.throws(() => tf.tidy(() => tf.grad((b: tf.Tensor) => tf.sum(tf.conv2d(t(x) as tf.Tensor4D, b as tf.Tensor4D, 1, "same")))(t(w))), /not registered for backend 'wasm'/);
      const fast = run();
      fast.forEach((g, i) => assertClose(g, cpu[i]!, 1e-3, 1e-4, `grad ${i} on ${haveNative ? "native" : "wasm"} vs cpu`));
    } finally {
      await initEngine({ engine: "cpu", quiet: true });
    }
  });
});

describe("BatchNorm (norm factory kind 'batchnorm')", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("train-mode forward and finite-difference gradients (x, gamma, beta), both layouts", () => {
    for (const layout of ["channels-last", "channels-first"] as const) {
      const x = randn(layout === "channels-last" ? [3, 2, 2, 3] : [3, 3, 2, 2], 20);
      const g = { data: [1.2, 0.7, -0.5], shape: [3] };
      const b = { data: [0.1, -0.2, 0.3], shape: [3] };
      const mk = () => ({ runningMean: tf.variable(tf.zeros([3]), false), runningVar: tf.variable(tf.ones([3]), false), momentum: 0.1 });
      const st = mk();
      gradCheck(([xx, gg, bb]) => project(batchNorm(xx!, gg, bb, st, 1e-5, true, layout), 21), [x, g, b]);
      // Forward equals the textbook formula (per channel over every other axis).
      const reduce = layout === "channels-last" ? [0, 1, 2] : [0, 2, 3];
      const pshape = layout === "channels-last" ? [3] : [3, 1, 1];
      const st2 = mk();
      const y = tf.tidy(() => Array.from(batchNorm(t(x), t(g), t(b), st2, 1e-5, true, layout).dataSync()));
      const ref = tf.tidy(() => {
        const m = tf.moments(t(x), reduce, true);
        return Array.from(tf.add(tf.mul(tf.div(tf.sub(t(x), m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), t(g).reshape(pshape)), t(b).reshape(pshape)).dataSync());
      });
      assertClose(y, ref, 1e-5, 1e-5, `${layout} forward`);
      tf.dispose([st.runningMean, st.runningVar, st2.runningMean, st2.runningVar]);
    }
  });

  it("updates running statistics in train mode only and uses them in eval mode", () => {
    const n = makeNorm("batchnorm", 3, { momentum: 0.25 });
    assert.equal(n.params.filter((p) => p.variable.trainable).length, 2, "gamma and beta train; the running stats are buffers");
    const xv = randn([4, 3, 3, 3], 30);
    const x = tf.add(tf.mul(t(xv), tf.tensor1d([1, 2, 3])), tf.tensor1d([5, -1, 0]));
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const N = 4 * 3 * 3;
    tf.tidy(() => n.apply(x, { training: true }));
    const m1 = Array.from(mean.dataSync()).map((m) => 0.25 * m);
    const v1 = Array.from(variance.dataSync()).map((v) => 0.75 + (0.25 * v * N) / (N - 1));
    assertClose(n.runningMean!.dataSync(), m1, 1e-5, 1e-6, "running mean after one step");
    assertClose(n.runningVar!.dataSync(), v1, 1e-5, 1e-6, "running var (unbiased) after one step");
    // Eval mode: a fixed per-channel affine map with the running statistics; stats unchanged.
    const before = Array.from(n.runningMean!.dataSync());
    const y = tf.tidy(() => Array.from(n.apply(x).dataSync()));
    assert.deepEqual(Array.from(n.runningMean!.dataSync()), before);
    const ref = tf.tidy(() => Array.from(tf.div(tf.sub(x, tf.tensor1d(m1)), tf.sqrt(tf.add(tf.tensor1d(v1), 1e-5))).dataSync()));
    assertClose(y, ref, 1e-5, 1e-5, "eval output");
    // Train mode output differs (batch statistics), so the mode really switches.
    const yTrain = tf.tidy(() => Array.from(n.apply(x, { training: true }).dataSync()));
    assert.ok(Math.abs(yTrain[0]! - y[0]!) > 1e-3);
    assert.throws(() => makeNorm("batchnorm", 3, { momentum: 2 }), /momentum must lie in \[0, 1\]/);
    tf.dispose([x, mean, variance]);
    n.params.forEach((p) => p.variable.dispose());
  });
});

describe("vision models: shapes, configs, norms", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  const cases: { name: string; make: (norm: string, extra?: object) => { forward(x: tf.Tensor): tf.Tensor; norms(): { kind: string }[]; dispose(): void; parameterCount(): number }; norms: string[] }[] = [
    { name: "ConvNeXt", make: (norm, e) => new ConvNeXt({ ...TOY_CONVNEXT, norm: norm as "dyt", ...e }), norms: ["layernorm", "dyt"] },
    { name: "MLP-Mixer", make: (norm, e) => new MLPMixer({ ...TOY_MIXER, norm: norm as "dyt", ...e }), norms: ["layernorm", "dyt"] },
    { name: "ResNet", make: (norm, e) => new ResNet({ ...TOY_RESNET, norm: norm as "dyt", ...e }), norms: ["batchnorm", "dyt", "layernorm"] },
  ];
  for (const c of cases)
    it(`${c.name}: logits [B, classes] for ${c.norms.join(", ")}; gray 8x8 and colour 32x32`, () => {
      for (const norm of c.norms) {
        const m = c.make(norm);
        const y = tf.tidy(() => m.forward(tf.randomNormal([3, 8, 8, 1])));
        assert.deepEqual(y.shape, [3, 4]);
        assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
        assert.ok(m.norms().length > 0 && m.norms().every((n) => n.kind === norm), `${c.name} builds every norm as ${norm}`);
        y.dispose();
        m.dispose();
      }
      const colour = c.make(c.norms[0]!, { imageSize: 32, channels: 3, numClasses: 9 });
      const y = tf.tidy(() => colour.forward(tf.randomNormal([2, 32, 32, 3])));
      assert.deepEqual(y.shape, [2, 9]);
      y.dispose();
      colour.dispose();
    });

  it("default sizes (28x28 gray / 32x32 colour) and parameter counts", () => {
    const cn = new ConvNeXt();
    const mx = new MLPMixer();
    const rn = new ResNet();
    assert.deepEqual(tf.tidy(() => cn.forward(tf.zeros([2, 28, 28, 1]))).shape, [2, 10]);
    assert.deepEqual(tf.tidy(() => mx.forward(tf.zeros([2, 28, 28, 1]))).shape, [2, 10]);
    assert.deepEqual(tf.tidy(() => rn.forward(tf.zeros([2, 28, 28, 1]))).shape, [2, 10]);
    // Trainable only: BatchNorm's running stats are buffers.
    assert.equal(rn.parameterCount(), rn.params.filter((p) => !p.name.includes("running")).reduce((a, p) => a + p.variable.size, 0));
    assert.ok(cn.parameterCount() > 100_000 && cn.parameterCount() < 1_000_000, `ConvNeXt smoke size ${cn.parameterCount()}`);
    [cn, mx, rn].forEach((m) => m.dispose());
  });

  it("ConvNeXt: channels-first stem/downsampling norms equal channels-last ones (LN and DyT), with layer scale", () => {
    for (const norm of ["layernorm", "dyt"] as const) {
      const a = new ConvNeXt({ ...TOY_CONVNEXT, norm, layerScaleInit: 0.5, seed: 2 });
      const b = new ConvNeXt({ ...TOY_CONVNEXT, norm, layerScaleInit: 0.5, seed: 2, downsampleLayout: "channels-last" });
      assert.equal(a.stemNorm.layout, "channels-first");
      assert.equal(a.stages[0]![0]!.norm.layout, "channels-last");
      const x = tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 3);
      const ya = tf.tidy(() => Array.from(a.forward(x).dataSync()));
      const yb = tf.tidy(() => Array.from(b.forward(x).dataSync()));
      assertClose(ya, yb, 1e-5, 1e-6, `${norm} logits`);
      x.dispose();
      a.dispose();
      b.dispose();
    }
  });

  it("configs fill defaults and reject bad values, naming the fix", () => {
    assert.equal(resolveConvNeXtConfig().kernelSize, 7);
    assert.throws(() => resolveConvNeXtConfig({ dims: [8, 16], depths: [1] }), /same non-zero length/);
    assert.throws(() => resolveConvNeXtConfig({ kernelSize: 4 }), /kernelSize must be odd/);
    assert.throws(() => resolveConvNeXtConfig({ imageSize: 8, stemPatch: 4, dims: [4, 4, 4, 4], depths: [1, 1, 1, 1] }), /fewer stages or a smaller stemPatch/);
    assert.throws(() => resolveConvNeXtConfig({ norm: "groupnorm" as "dyt" }), /unknown norm kind "groupnorm"/);
    assert.throws(() => resolveMixerConfig({ patchSize: 5 }), /pick a divisor of 28/);
    assert.throws(() => resolveMixerConfig({ depth: 0 }), /depth must be a positive integer/);
    assert.throws(() => resolveResNetConfig({ widths: [4], blocksPerStage: [1, 1] }), /same non-zero length/);
    assert.throws(() => resolveResNetConfig({ normOptions: { layout: "channels-first" } }), /drop normOptions.layout/);
    assert.equal(resolveResNetConfig().norm, "batchnorm");
  });
});

describe("vision models through the trainer", () => {
  before(async () => {
    haveNative = await useNative(); // the engine users train on
  });
  after(() => initEngine({ engine: "cpu", quiet: true }));

  it("ConvNeXt (DyT): 3 + 3 steps with a resume equal 6 straight steps", async () => {
    const a = new ConvNeXt({ ...TOY_CONVNEXT, norm: "dyt", seed: 3 });
    const full = await train(a, data, cfg, { runDir: tmp(), progress: false });
    a.dispose();
    const dir = tmp();
    const b1 = new ConvNeXt({ ...TOY_CONVNEXT, norm: "dyt", seed: 3 });
    const part = await train(b1, data, cfg, { runDir: dir, progress: false, stopAfter: 3 });
    b1.dispose();
    assert.equal(part.status, "interrupted");
    const b2 = new ConvNeXt({ ...TOY_CONVNEXT, norm: "dyt", seed: 77 });
    const rest = await train(b2, data, cfg, { runDir: dir, progress: false });
    b2.dispose();
    assert.equal(rest.status, "completed");
    assert.equal(full.log.length, 6);
    assert.deepEqual(losses(rest.log), losses(full.log));
    assert.deepEqual(rest.evals, full.evals);
  });

  it("ResNet (BatchNorm): resume is exact too (running statistics are checkpointed)", async () => {
    const a = new ResNet({ ...TOY_RESNET, seed: 4 });
    const full = await train(a, data, cfg, { runDir: tmp(), progress: false });
    const rmFull = Array.from(a.stemNorm.runningMean!.dataSync());
    a.dispose();
    const dir = tmp();
    const b1 = new ResNet({ ...TOY_RESNET, seed: 4 });
    await train(b1, data, cfg, { runDir: dir, progress: false, stopAfter: 3 });
    b1.dispose();
    const b2 = new ResNet({ ...TOY_RESNET, seed: 4 });
    const rest = await train(b2, data, cfg, { runDir: dir, progress: false });
    assert.deepEqual(losses(rest.log), losses(full.log));
    assert.deepEqual(rest.evals, full.evals, "eval uses the running statistics, restored from the checkpoint");
    assert.deepEqual(Array.from(b2.stemNorm.runningMean!.dataSync()), rmFull);
    assert.ok(rmFull.some((v) => v !== 0), "training moved the running mean");
    b2.dispose();
  });

  for (const [name, make] of [
    ["ConvNeXt LN", () => new ConvNeXt({ ...TOY_CONVNEXT, norm: "layernorm" })],
    ["MLP-Mixer DyT", () => new MLPMixer({ ...TOY_MIXER, norm: "dyt" })],
    ["MLP-Mixer LN", () => new MLPMixer({ ...TOY_MIXER, norm: "layernorm" })],
    ["ResNet DyT", () => new ResNet({ ...TOY_RESNET, norm: "dyt" })],
  ] as const)
    it(`${name}: trains (loss falls) with a flat tensor count over steps`, async () => {
      const m = make();
      const counts: number[] = [];
      const r = await train(m, data, { ...cfg, steps: 12, lr: 5e-3, evalEvery: 100, checkpointEvery: 0 }, { progress: false, hooks: [{ name: "count", onLog: () => void counts.push(tf.memory().numTensors) }] });
      assert.equal(r.status, "completed");
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      assert.ok(mean(losses(r.log).slice(-3)) < mean(losses(r.log).slice(0, 3)), `${name} loss ${losses(r.log).map((l) => l.toFixed(3)).join(" ")}`);
      assert.ok(counts.slice(3).every((c) => c === counts[2]), `tensor counts ${counts.join(",")}`);
      m.dispose();
    });
});

describe("channels-first norms on NHWC maps: the channels-last shortcut", () => {
  for (const engine of ["cpu", "native"] as const) {
    it(`${engine}: equals the transposed path (what a hook sees) in values and every gradient; BatchNorm has none`, async () => {
      await useEngine(engine);
      const C = 6;
      for (const kind of ["layernorm", "rmsnorm", "dyt", "identity"] as const) {
        const n = makeNorm(kind, C, { layout: "channels-first", gain0: 1.3, alpha0: 0.7 });
        assert.ok(n.applyChannelsLast, `${kind} has the shortcut`);
        const x = tf.randomNormal([2, 5, 4, C], 0, 2, "float32", 7);
        const w = tf.randomNormal([2, 5, 4, C], 0, 1, "float32", 8);
        const run = (hooked: boolean) =>
          tf.tidy(() => {
            const loss = () => tf.sum(tf.mul(applyNormNHWC(n, x, hooked ? { onNorm: () => undefined } : undefined), w)) as tf.Scalar;
            const y = Array.from(applyNormNHWC(n, x, hooked ? { onNorm: () => undefined } : undefined).dataSync());
            const dx = Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(applyNormNHWC(n, v, hooked ? { onNorm: () => undefined } : undefined), w)))(x).dataSync());
            const vg = n.params.length ? tf.variableGrads(loss, n.params.map((p) => p.variable)).grads : {};
            return { y, dx, params: Object.fromEntries(Object.entries(vg).map(([k, g]) => [k, Array.from(g.dataSync())])) };
          });
        const fast = run(false);
        const hooked = run(true);
        assertClose(fast.y, hooked.y, 1e-5, 1e-5, `${engine} ${kind} output`);
        assertClose(fast.dx, hooked.dx, 1e-4, 1e-5, `${engine} ${kind} dx`);
        assert.deepEqual(Object.keys(fast.params).sort(), Object.keys(hooked.params).sort());
        for (const k of Object.keys(fast.params)) assertClose(fast.params[k]!, hooked.params[k]!, 1e-4, 1e-5, `${engine} ${kind} grad ${k}`);
        x.dispose();
        w.dispose();
        n.params.forEach((p) => p.variable.dispose());
      }
      const bn = makeNorm("batchnorm", C, { layout: "channels-first" });
      assert.equal(bn.applyChannelsLast, undefined, "BatchNorm's statistics are over batch and space: no shortcut");
      assert.equal(makeNorm("layernorm", C).applyChannelsLast, undefined, "a channels-last norm needs none");
    });
  }
});

describe("norm capture hooks on the vision models", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("ConvNeXt: every norm captured, channels-first ones as per-pixel rows of C (LN rows normalised)", () => {
    const m = new ConvNeXt({ ...TOY_CONVNEXT, norm: "layernorm" });
    const caps = captureNorms(m, tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 5), { maxRows: 20 });
    assert.deepEqual(
      caps.map((c) => c.layer),
      m.norms().map((n) => n.name),
    );
    const stem = caps[0]!;
    assert.equal(stem.layer, "stem.norm");
    assert.equal(stem.layout, "channels-first");
    assert.deepEqual(stem.shape, [2, 8, 4, 4], "the norm saw [B, C, H, W]");
    assert.equal(stem.channels, 8);
    assert.equal(stem.rows, 20);
    // At init (gamma 1, beta 0) each captured row of a LayerNorm output has mean 0, variance 1:
    // true only if rows are one pixel's channels, i.e. the channels-first map was moved correctly.
    for (const c of caps) {
      for (let r = 0; r < c.rows; r++) {
        const row = c.output.subarray(r * c.channels, (r + 1) * c.channels);
        const mu = row.reduce((a, v) => a + v, 0) / c.channels;
        const v = row.reduce((a, x) => a + (x - mu) ** 2, 0) / c.channels;
        const xin = c.input.subarray(r * c.channels, (r + 1) * c.channels);
        const muIn = xin.reduce((a, x) => a + x, 0) / c.channels;
        const vIn = xin.reduce((a, x) => a + (x - muIn) ** 2, 0) / c.channels;
        const want = vIn / (vIn + 1e-6); // LayerNorm's eps matters for the tiny inputs of a fresh model
        assert.ok(Math.abs(mu) < 1e-4 && Math.abs(v - want) < 1e-2 * want, `${c.layer} row ${r}: mean ${mu}, var ${v}, expected ${want}`);
      }
    }
    m.dispose();
  });

  it("ResNet BatchNorm: capture runs in eval mode, sees a per-channel linear map, leaves running stats alone", async () => {
    const m = new ResNet({ ...TOY_RESNET, seed: 6 });
    await train(m, data, { ...cfg, steps: 4, evalEvery: 100, checkpointEvery: 0 }, { progress: false });
    const before = m.norms().map((n) => Array.from(n.runningMean!.dataSync()));
    const caps = captureNorms(m, tf.tensor4d(data.eval.images.subarray(0, 16 * 64), [16, 8, 8, 1]), { maxRows: 64 });
    assert.equal(caps.length, m.norms().length);
    assert.deepEqual(m.norms().map((n) => Array.from(n.runningMean!.dataSync())), before);
    for (const [i, c] of caps.entries()) {
      const n = m.norms()[i]!;
      const [g, b, rm, rv] = [n.params[0]!.variable, n.params[1]!.variable, n.runningMean!, n.runningVar!].map((v) => v.dataSync());
      for (let r = 0; r < c.rows; r++)
        for (let ch = 0; ch < c.channels; ch++) {
          const x = c.input[r * c.channels + ch]!;
          const y = c.output[r * c.channels + ch]!;
          const want = (g![ch]! * (x - rm![ch]!)) / Math.sqrt(rv![ch]! + 1e-5) + b![ch]!;
          assert.ok(Math.abs(y - want) < 1e-4 * (1 + Math.abs(want)), `${c.layer} row ${r} channel ${ch}: ${y} vs ${want}`);
        }
    }
    m.dispose();
  });
});

describe("Emoji32 data set (npm emoji-datasource-google/-twitter 16.0.0)", () => {
  let tmpRoot: string;
  before(() => {
    tmpRoot = tmp();
  });
  after(() => {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
    delete process.env.DYT_EMOJI_DIR;
  });

  it("builds, checks and splits: sizes, labels, no base emoji across splits, stable split, cache", () => {
    const cacheDir = path.join(tmpRoot, "cache");
    forgetEmoji32();
    const u = loadEmoji32U8({ cacheDir });
    assert.equal(u.origin, "files");
    assert.equal(u.n, 3812);
    const counts = [0, 0, 0];
    for (const s of u.splits) counts[s]!++;
    assert.deepEqual(counts, [3080, 378, 354]);
    const splitOfGroup = new Map<number, number>();
    for (let i = 0; i < u.n; i++) {
      const g = splitOfGroup.get(u.groups[i]!);
      if (g === undefined) splitOfGroup.set(u.groups[i]!, u.splits[i]!);
      else assert.equal(g, u.splits[i], `base emoji ${u.groups[i]} appears in two splits`);
      assert.ok(u.labels[i]! < EMOJI32_CLASSES.length);
    }
    // The split depends on the emoji's code only (a hash), never on order or count: pinned values.
    assert.deepEqual(["1F600", "1F1EB-1F1F7", "26BD", "1F4F1"].map(emoji32SplitOf), ["train", "train", "test", "val"]);
    const train = loadEmoji32({ split: "train", cacheDir });
    const val = loadEmoji32({ split: "val", cacheDir, limit: 10 });
    assert.equal(train.n, 3080);
    assert.equal(val.n, 10);
    assert.deepEqual([train.height, train.width, train.channels, train.numClasses], [32, 32, 3, 9]);
    const perClass = new Array(9).fill(0);
    for (const l of train.labels) perClass[l]++;
    assert.ok(perClass.every((c) => c >= 100), `every class is in train: ${perClass}`);
    // The recorded normalisation constants are the train split's pooled pixel mean / std.
    let s = 0;
    let s2 = 0;
    for (const v of train.images) {
      const p = v * EMOJI32_STD + EMOJI32_MEAN;
      s += p;
      s2 += p * p;
    }
    const mean = s / train.images.length;
    assert.ok(Math.abs(mean - EMOJI32_MEAN) < 1e-3 && Math.abs(Math.sqrt(s2 / train.images.length - mean * mean) - EMOJI32_STD) < 1e-3);
    forgetEmoji32();
    assert.equal(loadEmoji32U8({ cacheDir }).origin, "cache");
    // A damaged cache file is not used: the loader goes back to the sources (here absent, so the
    // rebuild fails at once with the missing-source error instead of spending a build).
    fs.writeFileSync(path.join(cacheDir, "base.labels.bin"), "x");
    forgetEmoji32();
    assert.throws(() => loadEmoji32U8({ cacheDir, dir: path.join(tmpRoot, "nowhere") }), (e: unknown) => e instanceof DatasetFileError && e.code === "missing");
    forgetEmoji32();
  });

  it("missing or damaged sources give an error that names the fix", () => {
    const empty = path.join(tmpRoot, "empty");
    fs.mkdirSync(empty);
    process.env.DYT_EMOJI_DIR = empty;
    try {
      assert.throws(
        () => loadEmoji32({ cache: false }),
        (e: unknown) => e instanceof DatasetFileError && e.code === "missing" && /npm ci/.test(e.message) && /DYT_EMOJI_DIR/.test(e.message),
      );
      // A copy whose emoji.json is altered, and one with a damaged PNG.
      const real = path.dirname(require.resolve("emoji-datasource-google/package.json"));
      const bad = path.join(tmpRoot, "bad");
      for (const style of ["google", "twitter"]) {
        const d = path.join(bad, `emoji-datasource-${style}`);
        fs.mkdirSync(path.join(d, "img", style), { recursive: true });
        const realStyle = path.dirname(require.resolve(`emoji-datasource-${style}/package.json`));
        fs.copyFileSync(path.join(realStyle, "emoji.json"), path.join(d, "emoji.json"));
        fs.symlinkSync(path.join(realStyle, "img", style, "64"), path.join(d, "img", style, "64"));
      }
      process.env.DYT_EMOJI_DIR = bad;
      fs.appendFileSync(path.join(bad, "emoji-datasource-twitter", "emoji.json"), " ");
      assert.throws(
        () => loadEmoji32({ cache: false }),
        (e: unknown) => e instanceof DatasetFileError && e.code === "corrupt" && /emoji-datasource-twitter/.test(e.message) && /npm ci/.test(e.message),
      );
      fs.copyFileSync(path.join(real, "emoji.json"), path.join(bad, "emoji-datasource-twitter", "emoji.json"));
      // Replace the first image of the build order by garbage.
      const first = (JSON.parse(fs.readFileSync(path.join(real, "emoji.json"), "utf8")) as { image: string; category: string }[]).find((e) => e.category !== "Component")!.image;
      const g64 = path.join(bad, "emoji-datasource-google", "img", "google", "64");
      fs.unlinkSync(g64);
      fs.mkdirSync(g64);
      fs.writeFileSync(path.join(g64, first), "not a png");
      assert.throws(
        () => loadEmoji32({ cache: false }),
        (e: unknown) => e instanceof DatasetFileError && e.code === "corrupt" && e.message.includes(first) && /reinstall/.test(e.message),
      );
    } finally {
      delete process.env.DYT_EMOJI_DIR;
    }
  });
});

describe("DiT block (adaLN modulation)", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("adaLN-Zero is the identity at init and still trains its modulation; without it the block acts at once", () => {
    for (const norm of ["layernorm", "dyt"] as const) {
      const store = new ParamStore(new Rng(1));
      const zero = new DiTBlock(store.scope("zero"), { dim: 8, heads: 2, mlpRatio: 2, norm });
      const plain = new DiTBlock(store.scope("plain"), { dim: 8, heads: 2, mlpRatio: 2, norm, adaLNZero: false });
      // No affine in the norms (DiT): LN has no params, DyT only alpha.
      assert.deepEqual(zero.norms().map((n) => n.params.length), norm === "dyt" ? [1, 1] : [0, 0]);
      const x = tf.randomNormal([2, 5, 8], 0, 1, "float32", 7);
      const c = tf.randomNormal([2, 8], 0, 1, "float32", 8);
      const y0 = tf.tidy(() => zero.forward(x, c));
      assert.deepEqual(y0.shape, [2, 5, 8]);
      assertClose(y0.dataSync(), x.dataSync(), 0, 0, `${norm} adaLN-Zero output`);
      const y1 = tf.tidy(() => plain.forward(x, c));
      assert.ok(Math.max(...Array.from(tf.tidy(() => tf.abs(tf.sub(y1, x)).dataSync()))) > 1e-3, "without adaLN-Zero the block changes x");
      const w = zero.adaLN.w;
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(zero.forward(x, c))) as tf.Scalar, [w]);
      assert.ok(Array.from(grads[w.name]!.dataSync()).some((v) => Math.abs(v) > 1e-6), "the zero-initialised modulation gets a gradient");
      tf.dispose([x, c, y0, y1, grads[w.name]!]);
      assert.throws(() => zero.forward(tf.zeros([2, 5, 8]), tf.zeros([2, 4])), /conditioning must be \[B=2, 8\]/);
      store.params.forEach((p) => p.variable.dispose());
    }
  });
});
