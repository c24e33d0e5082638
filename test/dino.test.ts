import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError } from "../lib/engine/native";
import { knnAccuracy, knnPredict } from "../lib/analysis/knn";
import { cropBox, cropView, multiCrop, MULTICROP_DEFAULTS, type MultiCropConfig } from "../lib/data/multicrop";
import { DINO, ViT, bilinearGridMatrix, dinoBackboneConfig, dinoLoss, outputEntropies, prototypeScores, resolveDINOConfig, type DINOConfig } from "../lib/models";
import { dinoFeatures, dinoTask, evaluateDino, train, type TrainConfig } from "../lib/train";
import { Rng } from "../lib/util/rng";
import { assertClose, gradCheck } from "./helpers";
import { toyImages } from "./fixtures";

// 8x8 toy images in 2x2 patches (16 tokens); local views 4x4 (4 tokens).
const CROPS: MultiCropConfig = { ...MULTICROP_DEFAULTS, globalSize: 8, localSize: 4, localCrops: 2 };
const TOY: Partial<DINOConfig> = { backbone: { imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 8, depth: 2, heads: 2, mlpRatio: 2 }, headHidden: 16, headBottleneck: 8, outDim: 32, crops: CROPS, teacherMomentum: 0.9 };
const data = { train: toyImages(128, 1), eval: toyImages(32, 2, "val") };
const cfg: Partial<TrainConfig> = { steps: 30, batchSize: 16, lr: 1e-2, warmupSteps: 2, evalEvery: 15, evalLimit: 32, evalBatchSize: 16, logEvery: 1, checkpointEvery: 15, seed: 5 };
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const values = (ps: { variable: tf.Variable }[]) => ps.map((p) => Array.from(p.variable.dataSync()));

describe("DINO (self-distillation around the lab's ViT)", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("rejects impossible configurations, naming the fix", () => {
    assert.throws(() => resolveDINOConfig({ ...TOY, crops: { ...CROPS, localSize: 5 } }), /localSize 5 must be a positive multiple of the patch size 2/);
    assert.throws(() => resolveDINOConfig({ ...TOY, crops: { ...CROPS, globalSize: 4 } }), /globalSize 4 must equal the backbone's imageSize 8/);
    assert.throws(() => resolveDINOConfig({ ...TOY, crops: { ...CROPS, localScale: [0.5, 0.2] } }), /localScale \[0.5, 0.2\] must satisfy 0 < min <= max <= 1/);
    assert.throws(() => resolveDINOConfig({ ...TOY, teacherMomentum: 1 }), /teacherMomentum must be in \[0, 1\)/);
    assert.throws(() => resolveDINOConfig({ ...TOY, norm: "batchnorm" }), /does not fit a token slot/);
    assert.throws(() => resolveDINOConfig({ ...TOY, outDim: 0 }), /outDim must be a positive integer/);
  });

  it("multi-crop: boxes fit the image, the whole-image box reproduces it, flips mirror, contrast keeps the mean, draws follow the seed", () => {
    const r = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const [t, l, h, w] = cropBox(8, 8, [0.05, 0.4], r);
      assert.ok(t >= 0 && l >= 0 && h >= 1 && w >= 1 && t + h <= 8 && l + w <= 8 && h * w <= 0.4 * 64 * 1.5, `box ${[t, l, h, w]}`);
    }
    const img = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = new Float32Array(16);
    cropView(img, 4, 4, 1, [0, 0, 4, 4], 4, false, 1, out, 0);
    assert.deepEqual(Array.from(out), Array.from(img));
    cropView(img, 4, 4, 1, [0, 0, 4, 4], 4, true, 1, out, 0);
    assert.deepEqual(Array.from(out.subarray(0, 4)), [3, 2, 1, 0]);
    cropView(img, 4, 4, 1, [0, 0, 4, 4], 4, false, 0.5, out, 0);
    assertClose([mean(Array.from(out))], [mean(Array.from(img))], 1e-6, 1e-6, "mean kept");
    assertClose([out[15]! - out[0]!], [7.5], 1e-6, 1e-6, "range halved");
    // A 2x2 box shrunk to one pixel samples its centre: the mean of the four.
    const one = new Float32Array(1);
    cropView(img, 4, 4, 1, [1, 1, 2, 2], 1, false, 1, one, 0);
    assertClose([one[0]!], [(5 + 6 + 9 + 10) / 4], 1e-6, 1e-6, "bilinear centre");
    assert.throws(() => cropView(img, 4, 4, 1, [3, 0, 2, 4], 2, false, 1, out, 0), /does not fit a 4x4 image/);
    const a = multiCrop(data.train, [0, 1, 2], CROPS, new Rng(9));
    const b = multiCrop(data.train, [0, 1, 2], CROPS, new Rng(9));
    assert.deepEqual(a, b);
    assert.equal(a.globals[0].length, 3 * 64);
    assert.equal(a.locals.length, 2);
    assert.equal(a.locals[0]!.length, 3 * 16);
    assert.notDeepEqual(Array.from(a.globals[0]), Array.from(a.globals[1]));
  });

  it("positions for smaller views: bilinear resampling rows sum to 1, the same grid is the identity, a 2x2 grid to 1x1 is the mean; featuresAt at full size is features", () => {
    const m = bilinearGridMatrix(4, 2);
    for (let r = 0; r < 4; r++) assertClose([m.subarray(r * 16, r * 16 + 16).reduce((s, x) => s + x, 0)], [1], 1e-6, 1e-6, `row ${r}`);
    const id = bilinearGridMatrix(3, 3);
    assert.deepEqual(Array.from(id), Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) === i % 9 ? 1 : 0)));
    assert.deepEqual(Array.from(bilinearGridMatrix(2, 1)), [0.25, 0.25, 0.25, 0.25]);
    const v = new ViT(dinoBackboneConfig(resolveDINOConfig({ ...TOY, seed: 1 })));
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 4) as tf.Tensor4D;
    assert.deepEqual(Array.from(v.featuresAt(x).dataSync()), Array.from(v.features(x).dataSync()));
    assert.deepEqual(v.featuresAt(tf.slice(x, [0, 0, 0, 0], [2, 4, 4, 1])).shape, [2, 8]);
    assert.throws(() => v.featuresAt(tf.zeros([1, 5, 5, 1]) as tf.Tensor4D), /multiple of patchSize 2/);
    tf.dispose(x);
    v.dispose();
    // The smaller-view path end to end (resampled positions, blocks, final norm): gradients match finite differences.
    const small = new ViT({ ...dinoBackboneConfig(resolveDINOConfig({ ...TOY, norm: "dyt", seed: 2 })), depth: 1 });
    const r = new Rng(5);
    const w = tf.tensor2d(Array.from({ length: 16 }, () => r.normal()), [2, 8]);
    gradCheck(([img]) => tf.sum(tf.mul(small.featuresAt(img as tf.Tensor4D), w)) as tf.Scalar, [{ data: Array.from({ length: 32 }, () => r.normal()), shape: [2, 4, 4, 1] }], 1e-2, 3e-3);
    tf.dispose(w);
    small.dispose();
  });

  it("k-NN: the nearest labelled neighbours by cosine vote, weighted by exp(sim / T); bad input names the fix", () => {
    const bank = Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]);
    const labels = Int32Array.from([0, 0, 1, 1]);
    const q = Float32Array.from([2, 0.1, 0.05, 3, 1, 1.1]);
    assert.deepEqual(Array.from(knnPredict(bank, labels, q, 2, 2, { k: 1 })), [0, 1, 1]);
    // k = 4: every bank entry votes; the query [1, 1.1] goes to class 1 (its cosines to [0, 1] and [0.1, 0.9], 0.74 and 0.81, outweigh 0.67 and 0.75).
    assert.deepEqual(Array.from(knnPredict(bank, labels, q, 2, 2, { k: 4, temperature: 0.07 })), [0, 1, 1]);
    assert.equal(knnAccuracy(bank, labels, q, Int32Array.from([0, 1, 0]), 2, 2, { k: 1 }), 2 / 3);
    assert.throws(() => knnPredict(bank, labels, q, 3, 2), /the bank has 8 values for 4 labels x dim 3/);
    assert.throws(() => knnPredict(bank, Int32Array.from([0, 0, 1, 5]), q, 2, 2), /bank label 5 outside 0..1/);
  });

  it("the loss by hand, and its gradients (and the weight-normalised prototypes') match finite differences", () => {
    const s = [tf.tensor2d([[1, 0, -1]]), tf.tensor2d([[0.5, 0.2, 0]]), tf.tensor2d([[0, 0, 1]])];
    const t = [tf.tensor2d([[2, 1, 0]]), tf.tensor2d([[0, 1, 0]])];
    const c = tf.tensor2d([[0.5, 0, 0]]);
    const softmax = (v: number[]) => {
      const e = v.map(Math.exp);
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    };
    const tp = [[2, 1, 0], [0, 1, 0]].map((r) => softmax(r.map((x, k) => (x - [0.5, 0, 0][k]!) / 0.5)));
    const sl = [[1, 0, -1], [0.5, 0.2, 0], [0, 0, 1]].map((r) => softmax(r.map((x) => x / 0.2)).map(Math.log));
    const pairs = [[0, 1], [0, 2], [1, 0], [1, 2]].map(([i, v]) => -tp[i]!.reduce((a, p, k) => a + p * sl[v]![k]!, 0));
    assertClose([dinoLoss(s, t, c, 0.2, 0.5).dataSync()[0]!], [mean(pairs)], 1e-5, 1e-6, "loss");
    tf.dispose([...s, ...t, c]);
    const r = new Rng(2);
    const rand = (n: number) => Array.from({ length: n }, () => r.normal());
    gradCheck(([a, b]) => dinoLoss([a!, b!], [tf.tensor2d([[1, 0, 0, 2], [0, 1, 0, 0]]), tf.tensor2d([[0, 2, 1, 0], [1, 0, 0, 1]])], tf.tensor2d([[0.1, 0, 0.2, 0]]), 0.5, 0.3), [{ data: rand(8), shape: [2, 4] }, { data: rand(8), shape: [2, 4] }], 1e-2, 3e-3);
    gradCheck(([h, v]) => tf.sum(tf.mul(prototypeScores(h!, v!), tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]]))) as tf.Scalar, [{ data: rand(8), shape: [2, 4] }, { data: rand(12), shape: [4, 3] }], 1e-2, 3e-3);
  });

  it("entropies: uniform rows give ln K per sample, one-hot rows 0 per sample and ln K marginal when they cover every prototype", () => {
    const e1 = outputEntropies(tf.fill([3, 4], 0.25) as tf.Tensor2D);
    assertClose([e1.perSample, e1.marginal], [Math.log(4), Math.log(4)], 1e-5, 1e-6, "uniform");
    const e2 = outputEntropies(tf.eye(4) as tf.Tensor2D);
    assertClose([e2.perSample, e2.marginal], [0, Math.log(4)], 1e-5, 1e-6, "one-hot");
  });

  it("student = a plain ViT of the same seed, teacher = a copy (not trained); the EMA moves the teacher toward the student on a cosine schedule", () => {
    const m = new DINO({ ...TOY, norm: "dyt", seed: 3 });
    const v = new ViT(dinoBackboneConfig(m.config));
    assert.deepEqual(values(m.student.params.filter((p) => !p.name.startsWith("head."))), values(v.params.filter((p) => !p.name.startsWith("head."))));
    assert.deepEqual(values(m.teacherParams), values(m.studentParams));
    assert.ok(m.studentParams.every((p) => p.variable.trainable && p.name.startsWith("student.")));
    assert.ok(m.teacherParams.every((p) => !p.variable.trainable && p.name.startsWith("teacher.")));
    assert.equal(new Set(m.params.map((p) => p.name)).size, m.params.length, "checkpoint names are unique");
    assert.deepEqual([...new Set(m.norms().map((n) => n.kind))], ["dyt"]);
    assert.throws(() => m.forward(tf.zeros([1, 8, 8, 1])), /dino.features/);
    assert.equal(m.teacherMomentumAt(0, 100), 0.9);
    assertClose([m.teacherMomentumAt(50, 100), m.teacherMomentumAt(100, 100)], [0.95, 1], 1e-9, 1e-12, "cosine schedule");
    const w = m.studentParams[0]!.variable;
    const t0 = Array.from(m.teacherParams[0]!.variable.dataSync());
    tf.tidy(() => w.assign(tf.add(w, 1)));
    m.updateTeacher(0.75);
    assertClose(Array.from(m.teacherParams[0]!.variable.dataSync()), t0.map((x) => x + 0.25), 1e-6, 1e-6, "EMA");
    m.dispose();
    v.dispose();
  });

  it("trains with the one trainer (centring spreads the teacher over prototypes, centre and teacher move, no leaks, exact resume, deterministic eval with k-NN and entropies)", async () => {
    const before0 = tf.memory().numTensors;
    const run = async (runDir?: string, stopAfter?: number) => {
      const m = new DINO({ ...TOY, norm: "dyt", seed: 2 });
      const r = await train(m, dinoTask(data.train, data.eval, { seed: 7, bank: 64 }), cfg, { progress: false, ...(runDir ? { runDir } : {}), ...(stopAfter !== undefined ? { stopAfter } : {}) });
      return { m, r };
    };
    const fresh = new DINO({ ...TOY, norm: "dyt", seed: 2 });
    const e0 = evaluateDino(fresh, data.train, 64, data.eval, 32, 16);
    fresh.dispose();
    const a = await run();
    assert.equal(a.r.status, "completed");
    const l = a.r.log.map((x) => x.loss);
    assert.ok(l.every(Number.isFinite));
    // At init every image's teacher output peaks on the same prototype; the centre (an EMA of the outputs) pushes it off.
    const e1 = a.r.final!.stats!;
    assert.ok(e1.marginalEntropy > e0.stats!.marginalEntropy + 0.5, `marginal entropy ${e0.stats!.marginalEntropy} -> ${e1.marginalEntropy}`);
    assert.notDeepEqual(values(a.m.teacherParams), values(a.m.studentParams), "the teacher lags the student");
    const init = new DINO({ ...TOY, norm: "dyt", seed: 2 });
    assert.notDeepEqual(values(a.m.teacherParams), values(init.teacherParams), "the teacher moved");
    init.dispose();
    assert.ok(Array.from(a.m.center.dataSync()).some((x) => x !== 0), "the centre moved");
    const e = evaluateDino(a.m, data.train, 64, data.eval, 32, 16);
    assert.deepEqual(e, evaluateDino(a.m, data.train, 64, data.eval, 32, 16));
    assert.ok(e.acc >= 0 && e.acc <= 1 && e.stats!.teacherEntropy >= 0 && e.stats!.marginalEntropy <= Math.log(32) + 1e-6, JSON.stringify(e));
    assert.ok(a.r.evals.every((p) => p.stats && Number.isFinite(p.stats.teacherEntropy)));
    assert.equal(dinoFeatures(a.m, data.eval, 5).feats.length, 5 * 8);
    a.m.dispose();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dino-"));
    try {
      const part = await run(dir, 15);
      assert.equal(part.r.status, "interrupted");
      part.m.dispose();
      const resumed = await run(dir);
      assert.deepEqual(resumed.r.log.map((x) => x.loss), l);
      resumed.m.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(tf.memory().numTensors, before0, "no tensors left behind");
  });
});

describe("DINO on the native engine", () => {
  const reason = nativeLoadError();
  it("the loss and the student's gradients match the cpu backend", { skip: reason ? `native engine unavailable: ${reason}` : false }, async () => {
    const run = async (engine: "cpu" | "native") => {
      await initEngine({ engine, quiet: true });
      const m = new DINO({ ...TOY, norm: "dyt", seed: 4 });
      const views = multiCrop(data.train, [0, 1, 2], CROPS, new Rng(6));
      const vars = m.studentParams.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => {
        const globals = tf.tensor4d(new Float32Array([...views.globals[0], ...views.globals[1]]), [6, 8, 8, 1]);
        const locals = tf.tensor4d(new Float32Array([...views.locals[0]!, ...views.locals[1]!]), [6, 4, 4, 1]);
        return m.loss({ globals, locals });
      }, vars);
      const out = { loss: value.dataSync()[0]!, g: vars.map((v) => grads[v.name]!.dataSync().slice()) };
      tf.dispose([value, ...Object.values(grads)]);
      m.dispose();
      return out;
    };
    const ref = await run("cpu");
    const got = await run("native");
    await initEngine({ engine: "cpu", quiet: true });
    assertClose([got.loss], [ref.loss], 1e-5, 1e-6, "loss");
    ref.g.forEach((g, i) => assertClose(Array.from(got.g[i]!), Array.from(g), 1e-3, 1e-6, `gradient of parameter ${i}`));
  });
});
