import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { DiT, resolveDiTConfig, sincosPosEmbed2d, timestepEmbedding, type DiTConfig } from "../lib/models";
import { alphaBars, ddimSample, ddimTimesteps, diffusionTask, evaluateDiffusion, fromUnitRange, toUnitRange, train, type TrainConfig } from "../lib/train";
import { frechetDistance, gaussianStats, sqrtPsd, type GaussianStats } from "../lib/analysis";
import { Rng } from "../lib/util/rng";
import { nativeLoadError } from "../lib/engine/native";
import { assertClose, gradCheck } from "./helpers";
import { toyImages } from "./fixtures";

// 8x8 toy images, 2x2 patches: 16 tokens.
const TOY: Partial<DiTConfig> = { imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 8, depth: 2, heads: 2, mlpRatio: 2, freqDim: 8 };
const data = { train: toyImages(128, 1), eval: toyImages(32, 2, "val") };
const cfg: Partial<TrainConfig> = { steps: 30, batchSize: 16, lr: 1e-2, warmupSteps: 2, evalEvery: 15, evalLimit: 32, evalBatchSize: 16, logEvery: 1, checkpointEvery: 15, seed: 5 };
const losses = (log: { loss: number }[]) => log.map((l) => l.loss);

describe("DiT (class-conditional diffusion transformer)", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("rejects impossible configurations, naming the fix", () => {
    assert.throws(() => resolveDiTConfig({ imageSize: 28, patchSize: 5 }), /patchSize 5 does not divide imageSize 28/);
    assert.throws(() => resolveDiTConfig({ dim: 66, heads: 3 }), /multiple of 4/);
    assert.throws(() => resolveDiTConfig({ norm: "batchnorm" }), /does not fit a token slot/);
    assert.throws(() => resolveDiTConfig({ norm: "groupnorm" as never }), /groupnorm/);
    assert.throws(() => resolveDiTConfig({ freqDim: 7 }), /freqDim 7 must be even/);
  });

  it("predicts noise of the image's shape; adaLN-Zero predicts exactly 0 at init, the DyT arm without it does not; every norm comes without affine", () => {
    for (const norm of ["layernorm", "dyt"] as const) {
      const zero = new DiT({ ...TOY, norm, seed: 3 });
      const plain = new DiT({ ...TOY, norm, adaLNZero: false, seed: 3 });
      assert.equal(zero.norms().length, 2 * 2 + 1);
      assert.deepEqual(zero.norms().map((n) => n.params.length), zero.norms().map(() => (norm === "dyt" ? 1 : 0)));
      const x = tf.randomNormal([3, 8, 8, 1], 0, 1, "float32", 1);
      const t = tf.tensor1d([0, 500, 999]);
      const y = tf.tensor1d([0, 1, 3], "int32");
      const e0 = zero.predict(x, t, y);
      const e1 = plain.predict(x, t, y);
      assert.deepEqual(e0.shape, [3, 8, 8, 1]);
      assert.ok(Array.from(e0.dataSync()).every((v) => v === 0), `${norm}: adaLN-Zero's output Linear is zero`);
      assert.ok(Array.from(e1.dataSync()).some((v) => Math.abs(v) > 1e-3), `${norm}: without adaLN-Zero the prediction is not zero`);
      // The class and the timestep reach the output.
      const e2 = plain.predict(x, t, tf.tensor1d([2, 1, 3], "int32"));
      const e3 = plain.predict(x, tf.tensor1d([1, 500, 999]), y);
      const first = (a: tf.Tensor, b: tf.Tensor) => Math.max(...Array.from(tf.tidy(() => tf.abs(tf.sub(a, b)).slice([0], [1]).dataSync())));
      assert.ok(first(e1, e2) > 1e-5 && first(e1, e3) > 1e-5, "label and timestep change the prediction");
      assert.throws(() => zero.predict(x, tf.tensor1d([0, 1]), y), /one entry per image \(B=3\)/);
      assert.throws(() => zero.forward(x), /call predict\(x_t, t, y\)/);
      tf.dispose([x, t, y, e0, e1, e2, e3]);
      zero.dispose();
      plain.dispose();
    }
  });

  it("position and timestep embeddings follow DiT's formulas", () => {
    const pos = sincosPosEmbed2d(8, 3);
    // Token (row 1, col 2), k = 1 of 2 per quarter: frequency 10000^(-1/2) = 0.01.
    const o = (1 * 3 + 2) * 8;
    assertClose(Array.from(pos.subarray(o, o + 8)), [Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02), Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)], 1e-6, 1e-7);
    const te = timestepEmbedding(tf.tensor1d([0, 10]), 4);
    assertClose(Array.from(te.dataSync()), [1, 1, 0, 0, Math.cos(10), Math.cos(0.1), Math.sin(10), Math.sin(0.1)], 1e-5, 1e-6);
    te.dispose();
  });

  it("the schedule and DDIM timesteps are DDPM's linear schedule, evenly spaced", () => {
    const ab = alphaBars({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    assert.equal(ab[0], 1 - 1e-4);
    assertClose([ab[1]!], [(1 - 1e-4) * (1 - (1e-4 + 0.0199 / 999))], 1e-12);
    assert.ok(ab[999]! > 3e-5 && ab[999]! < 5e-5, `alpha-bar_T ${ab[999]} (DDPM: ~4.0e-5)`);
    assert.deepEqual(ddimTimesteps(1000, 4), [999, 666, 333, 0]);
    assert.throws(() => ddimTimesteps(1000, 1), /DDIM steps/);
    assert.throws(() => alphaBars({ T: 10, betaStart: 0.1, betaEnd: 0.01 }), /betaStart <= betaEnd/);
    const ds = { normalization: { kind: "z", mean: 0.3, std: 0.4 } };
    assertClose(Array.from(fromUnitRange(ds, toUnitRange(ds, Float32Array.from([-1, 0, 2])))), [-1, 0, 2], 1e-6, 1e-6);
    assertClose(Array.from(toUnitRange(ds, Float32Array.from([(0 - 0.3) / 0.4, (1 - 0.3) / 0.4]))), [-1, 1], 1e-6, 1e-6);
  });

  it("DDIM with the exact noise of a one-image distribution returns that image from any start", () => {
    // For data that is always x*, E[eps | x_t] = (x_t - sqrt(ab_t) x*) / sqrt(1 - ab_t): the perfect denoiser.
    const H = 4;
    const target = Float32Array.from({ length: H * H }, (_, i) => 0.9 * Math.sin(i));
    const ab = alphaBars({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const oracle = {
      config: { imageSize: H, channels: 1, numClasses: 2 },
      predict: (xt: tf.Tensor, t: tf.Tensor) =>
        tf.tidy(() => {
          const tv = Array.from(t.dataSync());
          const a = tf.tensor4d(tv.map((v) => Math.sqrt(ab[v]!)), [tv.length, 1, 1, 1]);
          const s = tf.tensor4d(tv.map((v) => Math.sqrt(1 - ab[v]!)), [tv.length, 1, 1, 1]);
          return tf.div(tf.sub(xt, tf.mul(a, tf.tensor4d(target, [1, H, H, 1]))), s) as tf.Tensor4D;
        }),
    } as unknown as DiT;
    for (const steps of [2, 10, 50]) {
      const out = ddimSample(oracle, Int32Array.from([0, 1, 1]), { steps, seed: steps });
      for (let k = 0; k < 3; k++) assertClose(Array.from(out.subarray(k * 16, (k + 1) * 16)), Array.from(target), 1e-4, 1e-4, `${steps} steps, sample ${k}`);
    }
  });

  it("gradients of the noise prediction match finite differences (input, through blocks, modulation and DyT)", () => {
    const m = new DiT({ ...TOY, imageSize: 4, patchSize: 2, dim: 4, heads: 1, depth: 1, freqDim: 4, norm: "dyt", adaLNZero: false, seed: 9 });
    const t = tf.tensor1d([3, 700]);
    const y = tf.tensor1d([1, 2], "int32");
    const r = new Rng(4);
    gradCheck(([x]) => tf.sum(tf.square(m.predict(x!, t, y))) as tf.Scalar, [{ data: Array.from({ length: 32 }, () => r.normal()), shape: [2, 4, 4, 1] }], 1e-2, 3e-3);
    // A parameter gradient (the class table) against finite differences of the variable.
    const x = tf.randomNormal([2, 4, 4, 1], 0, 1, "float32", 2);
    const f = () => tf.tidy(() => tf.sum(tf.square(m.predict(x, t, y))).dataSync()[0]!);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.predict(x, t, y))) as tf.Scalar, [m.yTable]);
    const g = grads[m.yTable.name]!.dataSync();
    const base = m.yTable.dataSync().slice();
    for (const i of [4, 5, 8, 11]) {
      const at = (d: number) => {
        const v = base.slice();
        v[i]! += d;
        tf.tidy(() => m.yTable.assign(tf.tensor(v, m.yTable.shape)));
        return f();
      };
      const num = (at(1e-2) - at(-1e-2)) / 2e-2;
      assert.ok(Math.abs(g[i]! - num) <= 3e-3 * Math.max(1, Math.abs(num)), `class table [${i}]: analytic ${g[i]}, finite difference ${num}`);
    }
    // Rows of classes not in the batch get no gradient.
    assert.deepEqual(Array.from(g.slice(0, 4)), [0, 0, 0, 0]);
    tf.tidy(() => m.yTable.assign(tf.tensor(base, m.yTable.shape)));
    tf.dispose([t, y, x, grads[m.yTable.name]!]);
    m.dispose();
  });

  it("trains with the one trainer: the denoising loss falls, no tensor leaks, exact resume, deterministic evaluation and sampling", async () => {
    const before0 = tf.memory().numTensors;
    const run = async (runDir?: string, stopAfter?: number) => {
      const m = new DiT({ ...TOY, norm: "dyt", seed: 2 });
      const r = await train(m, diffusionTask(data.train, data.eval, { seed: 7 }), cfg, { progress: false, ...(runDir ? { runDir } : {}), ...(stopAfter !== undefined ? { stopAfter } : {}) });
      return { m, r };
    };
    const a = await run();
    assert.equal(a.r.status, "completed");
    const l = losses(a.r.log);
    assert.equal(l.length, 30);
    assert.ok(Math.abs(l[0]! - 1) < 0.3, `adaLN-Zero starts at the zero prediction's loss ~1, got ${l[0]}`);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    assert.ok(mean(l.slice(-5)) < mean(l.slice(0, 5)) - 0.05, `loss falls: ${l.map((v) => v.toFixed(3)).join(" ")}`);
    // The first eval: acc is the share of noise variance explained, in (0, 1) once trained a little.
    assert.ok(a.r.evals.every((e) => e.acc > -1 && e.acc < 1 && Math.abs(1 - e.acc - e.loss) < 0.2));
    const ab = alphaBars({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const e1 = evaluateDiffusion(a.m, data.eval, ab, 32, 16);
    const e2 = evaluateDiffusion(a.m, data.eval, ab, 32, 16);
    assert.deepEqual(e1, e2);
    const s1 = ddimSample(a.m, Int32Array.from([0, 1, 2, 3]), { steps: 5, seed: 11, batchSize: 3 });
    const s2 = ddimSample(a.m, Int32Array.from([0, 1, 2, 3]), { steps: 5, seed: 11 });
    assert.equal(s1.length, 4 * 64);
    assert.deepEqual(s1, s2, "the same seed samples the same images, whatever the batch");
    assert.ok(s1.every((v) => v >= -1 && v <= 1));
    assert.throws(() => ddimSample(a.m, Int32Array.from([4]), { steps: 5 }), /label 4 is not a class/);
    a.m.dispose();
    // Interrupted after 15 steps and resumed: the same losses as the uninterrupted run.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dit-"));
    try {
      const part = await run(dir, 15);
      assert.equal(part.r.status, "interrupted");
      part.m.dispose();
      const resumed = await run(dir);
      assert.equal(resumed.r.status, "completed");
      assert.deepEqual(losses(resumed.r.log), l);
      resumed.m.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(tf.memory().numTensors, before0, "no tensors left behind");
  });

  it("a diverging DiT is a result: the cap is 10 x the divergence factor", async () => {
    const m = new DiT({ ...TOY, seed: 1, adaLNZero: false });
    const r = await train(m, diffusionTask(data.train, data.eval), { ...cfg, lr: 1e4, clipNorm: 0, warmupSteps: 1, divergenceFactor: 0.01 }, { progress: false });
    assert.equal(r.status, "diverged");
    assert.match(r.diverged!.reason, /> 0\.100 \(10 x 0\.01 x the zero prediction's loss of 1\)/);
    m.dispose();
  });
});

describe("DiT on the native engine", () => {
  const reason = nativeLoadError();
  it("the noise prediction and the gradients of the denoising loss match the cpu backend", { skip: reason ? `native engine unavailable: ${reason}` : false }, async () => {
    const run = async (engine: "cpu" | "native") => {
      await initEngine({ engine, quiet: true });
      const m = new DiT({ ...TOY, norm: "dyt", adaLNZero: false, seed: 4 });
      const r = new Rng(6);
      const x = tf.tensor4d(Float32Array.from({ length: 3 * 64 }, () => r.normal()), [3, 8, 8, 1]);
      const t = tf.tensor1d([5, 400, 990]);
      const y = tf.tensor1d([0, 2, 3], "int32");
      const eps = tf.tensor4d(Float32Array.from({ length: 3 * 64 }, () => r.normal()), [3, 8, 8, 1]);
      const pred = m.predict(x, t, y).dataSync().slice();
      const vars = m.params.map((p) => p.variable);
      const { grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(m.predict(x, t, y), eps)) as tf.Scalar, vars);
      const g = vars.map((v) => grads[v.name]!.dataSync().slice());
      tf.dispose([x, t, y, eps, ...Object.values(grads)]);
      m.dispose();
      return { pred, g };
    };
    const ref = await run("cpu");
    const got = await run("native");
    await initEngine({ engine: "cpu", quiet: true });
    assertClose(Array.from(got.pred), Array.from(ref.pred), 1e-4, 1e-5, "eps-hat");
    ref.g.forEach((gr, i) => assertClose(Array.from(got.g[i]!), Array.from(gr), 1e-3, 1e-6, `gradient of parameter ${i}`));
  });
});

describe("Fréchet distance", () => {
  const stats = (mean: number[], cov: number[][]): GaussianStats => ({ d: mean.length, n: 100, mean: Float64Array.from(mean), cov: Float64Array.from(cov.flat()) });

  it("matches closed forms: diagonal and commuting covariances, identical sets", () => {
    // |(1,2)|^2 + (1+4) + (4+1) - 2 (sqrt(4) + sqrt(4)) = 5 + 10 - 8 = 7.
    assertClose([frechetDistance(stats([0, 0], [[1, 0], [0, 4]]), stats([1, 2], [[4, 0], [0, 1]]))], [7], 1e-9, 1e-9);
    // Same eigenvectors (one rotation): tr sqrt(Sa Sb) = sum sqrt(la lb) = 4 + 4; FD = (2 + 8) + (8 + 2) - 2 * 8 = 4.
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const rot = (l1: number, l2: number) => [
      [c * c * l1 + s * s * l2, c * s * (l1 - l2)],
      [c * s * (l1 - l2), s * s * l1 + c * c * l2],
    ];
    assertClose([frechetDistance(stats([0, 0], rot(2, 8)), stats([0, 0], rot(8, 2)))], [4], 1e-9, 1e-9);
    const r = new Rng(3);
    const f = Float32Array.from({ length: 500 * 6 }, () => r.normal());
    const g = gaussianStats(f, 500, 6);
    assert.ok(frechetDistance(g, g) < 1e-9);
    const sq = sqrtPsd(g.cov, 6);
    // sqrt(S)^2 = S.
    const back = Array.from({ length: 36 }, (_, k) => {
      const i = Math.floor(k / 6);
      const j = k % 6;
      let v = 0;
      for (let m = 0; m < 6; m++) v += sq[i * 6 + m]! * sq[m * 6 + j]!;
      return v;
    });
    assertClose(back, Array.from(g.cov), 1e-8, 1e-10, "sqrt(S)^2");
  });

  it("gaussianStats gives the sample mean and the n-1 covariance; bad input is named", () => {
    const g = gaussianStats([1, 2, 3, 6, 5, 10], 3, 2);
    assertClose(Array.from(g.mean), [3, 6]);
    assertClose(Array.from(g.cov), [4, 8, 8, 16]);
    assert.throws(() => gaussianStats([1, 2, 3], 2, 2), /3 values are not n x d = 2 x 2/);
    assert.throws(() => gaussianStats([1, NaN, 3, 4], 2, 2), /NaN or Infinity/);
    assert.throws(() => frechetDistance(g, stats([0], [[1]])), /dimensions differ/);
  });
});
