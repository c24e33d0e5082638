import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { MAE, ViT, drawMaeMask, maeEncoderConfig, maeVisiblePatches, resolveMAEConfig, type MAEConfig } from "../lib/models";
import { evaluateMae, maeTask, train, type TrainConfig } from "../lib/train";
import { Rng } from "../lib/util/rng";
import { nativeLoadError } from "../lib/engine/native";
import { assertClose, gradCheck } from "./helpers";
import { toyImages } from "./fixtures";

// 8x8 toy images in 2x2 patches: 16 patches, 4 visible at the default 75 % mask.
const TOY: Partial<MAEConfig> = { encoder: { imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 8, depth: 2, heads: 2, mlpRatio: 2 }, decoderDim: 8, decoderDepth: 1, decoderHeads: 2 };
const data = { train: toyImages(128, 1), eval: toyImages(32, 2, "val") };
const cfg: Partial<TrainConfig> = { steps: 30, batchSize: 16, lr: 1e-2, warmupSteps: 2, evalEvery: 15, evalLimit: 32, evalBatchSize: 16, logEvery: 1, checkpointEvery: 15, seed: 5 };
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

describe("MAE (masked autoencoder around the lab's ViT)", () => {
  before(() => initEngine({ engine: "cpu", quiet: true }));

  it("rejects impossible configurations, naming the fix", () => {
    assert.throws(() => resolveMAEConfig({ ...TOY, maskRatio: 1 }), /maskRatio 1 must hide some and keep some of the 16 patches/);
    assert.throws(() => resolveMAEConfig({ ...TOY, maskRatio: 0.99 }), /maskRatio 0.99/);
    assert.throws(() => resolveMAEConfig({ ...TOY, decoderDim: 6, decoderHeads: 4 }), /decoderDim 6 is not divisible by decoderHeads 4/);
    assert.throws(() => resolveMAEConfig({ ...TOY, encoder: { ...TOY.encoder, placement: "post" } }), /pre-norm ViT/);
    assert.throws(() => resolveMAEConfig({ ...TOY, norm: "batchnorm" }), /does not fit a token slot/);
    assert.equal(maeVisiblePatches(49, 0.75), 12);
  });

  it("masks: per image, `keep` distinct visible patches in increasing order, from the seed", () => {
    const a = drawMaeMask(3, 16, 4, new Rng(1));
    assert.deepEqual(a, drawMaeMask(3, 16, 4, new Rng(1)));
    for (let b = 0; b < 3; b++) {
      const v = Array.from(a.subarray(b * 4, b * 4 + 4));
      assert.deepEqual(v, [...new Set(v)].sort((x, y) => x - y));
      assert.ok(v.every((i) => i >= 0 && i < 16));
    }
    assert.notDeepEqual(Array.from(a.subarray(0, 4)), Array.from(a.subarray(4, 8)));
  });

  it("the encoder is a plain ViT of the same seed; pretraining trains it without its head; every norm comes from the arm's kind", () => {
    const m = new MAE({ ...TOY, norm: "dyt", seed: 3 });
    const v = new ViT(maeEncoderConfig(m.config));
    assert.deepEqual(m.encoder.params.map((p) => Array.from(p.variable.dataSync())), v.params.map((p) => Array.from(p.variable.dataSync())));
    assert.ok(m.params.every((p) => !p.name.startsWith("head.")));
    assert.ok(m.params.some((p) => p.name.startsWith("decoder.")));
    assert.deepEqual([...new Set(m.norms().map((n) => n.kind))], ["dyt"]);
    assert.equal(m.norms().length, 2 * 2 + 1 + 2 * 1 + 1);
    assert.throws(() => m.forward(tf.zeros([1, 8, 8, 1])), /classify with mae.encoder.forward/);
    m.dispose();
    v.dispose();
  });

  it("the encoder sees only the visible patches: changing a hidden patch leaves its output unchanged, a visible one changes it; the loss counts hidden patches only", () => {
    const m = new MAE({ ...TOY, seed: 2 });
    const r = new Rng(8);
    const img = Float32Array.from({ length: 64 }, () => r.normal());
    const visible = drawMaeMask(1, 16, 4, new Rng(3));
    const hidden = [...Array(16).keys()].find((i) => !visible.includes(i))!;
    const shown = visible[0]!;
    const poke = (patch: number) => {
      const out = img.slice();
      const [py, px] = [Math.floor(patch / 4), patch % 4];
      out[py * 2 * 8 + px * 2] = out[py * 2 * 8 + px * 2]! + 3;
      return out;
    };
    const encode = (x: Float32Array) =>
      tf.tidy(() => {
        const { select } = m.selection(visible, 1);
        return Array.from(m.encode(tf.tensor4d(x, [1, 8, 8, 1]), select).dataSync());
      });
    const base = encode(img);
    assert.deepEqual(encode(poke(hidden)), base);
    assert.notDeepEqual(encode(poke(shown)), base);
    const o = m.reconstruct(tf.tensor4d(img, [1, 8, 8, 1]), visible);
    assert.deepEqual(o.pred.shape, [1, 16, 4]);
    assert.deepEqual(Array.from(o.mask.dataSync()).reduce((s, x) => s + x, 0), 12);
    // The loss by hand: mean over hidden patches of the per-patch MSE.
    const p = o.pred.arraySync()[0]!;
    const t = o.target.arraySync()[0]!;
    const msk = Array.from(o.mask.dataSync());
    const byHand = mean(p.map((row, i) => (msk[i] ? mean(row.map((v, j) => (v - t[i]![j]!) ** 2)) : NaN)).filter(Number.isFinite));
    assert.ok(Math.abs(o.loss.dataSync()[0]! - byHand) < 1e-5);
    // normPixLoss: each target patch is standardised.
    assert.ok(t.every((row) => Math.abs(mean(row)) < 1e-5));
    tf.dispose([o.loss, o.pred, o.target, o.mask]);
    m.dispose();
  });

  it("gradients of the masked reconstruction loss match finite differences", () => {
    const m = new MAE({ ...TOY, encoder: { ...TOY.encoder, depth: 1 }, norm: "dyt", seed: 4, normPixLoss: false });
    const visible = drawMaeMask(2, 16, 4, new Rng(5));
    const r = new Rng(6);
    gradCheck(([x]) => m.reconstruct(x!, visible).loss, [{ data: Array.from({ length: 128 }, () => r.normal()), shape: [2, 8, 8, 1] }], 1e-2, 3e-3);
    m.dispose();
  });

  it("pretrains with the one trainer (loss falls, no leaks, exact resume, deterministic eval), then the encoder fine-tunes as a ViT", async () => {
    const before0 = tf.memory().numTensors;
    const run = async (runDir?: string, stopAfter?: number) => {
      const m = new MAE({ ...TOY, norm: "dyt", seed: 2 });
      const r = await train(m, maeTask(data.train, data.eval, { seed: 7 }), cfg, { progress: false, ...(runDir ? { runDir } : {}), ...(stopAfter !== undefined ? { stopAfter } : {}) });
      return { m, r };
    };
    const a = await run();
    assert.equal(a.r.status, "completed");
    const l = a.r.log.map((x) => x.loss);
    assert.ok(mean(l.slice(-5)) < mean(l.slice(0, 5)) - 0.05, `loss falls: ${l.map((v) => v.toFixed(3)).join(" ")}`);
    assert.deepEqual(evaluateMae(a.m, data.eval, 32, 16), evaluateMae(a.m, data.eval, 32, 16));
    const init = new ViT(maeEncoderConfig(a.m.config));
    assert.notDeepEqual(Array.from(a.m.encoder.blocks[0]!.qkv.w.dataSync()), Array.from(init.blocks[0]!.qkv.w.dataSync()), "pretraining changed the encoder");
    init.dispose();
    const ft = await train(a.m.encoder, data, { ...cfg, steps: 10, evalEvery: 10, checkpointEvery: 0 }, { progress: false });
    assert.equal(ft.status, "completed");
    assert.ok(ft.final!.acc > 0.25, `fine-tuned accuracy ${ft.final!.acc}`);
    a.m.dispose();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-mae-"));
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

describe("MAE on the native engine", () => {
  const reason = nativeLoadError();
  it("the reconstruction loss and its gradients match the cpu backend", { skip: reason ? `native engine unavailable: ${reason}` : false }, async () => {
    const run = async (engine: "cpu" | "native") => {
      await initEngine({ engine, quiet: true });
      const m = new MAE({ ...TOY, norm: "dyt", seed: 4 });
      const r = new Rng(6);
      const x = tf.tensor4d(Float32Array.from({ length: 3 * 64 }, () => r.normal()), [3, 8, 8, 1]);
      const visible = drawMaeMask(3, 16, 4, new Rng(2));
      const vars = m.params.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => m.reconstruct(x, visible).loss, vars);
      const out = { loss: value.dataSync()[0]!, g: vars.map((v) => grads[v.name]!.dataSync().slice()) };
      tf.dispose([x, value, ...Object.values(grads)]);
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
