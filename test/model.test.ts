import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ViT, TransformerBlock, PLACEMENTS } from "../lib/models";
import { ParamStore } from "../lib/ops/param";
import { bmm, linear } from "../lib/ops/matmul";
import { gelu } from "../lib/ops/activations";
import { Rng } from "../lib/util/rng";
import { initEngine } from "../lib/engine";
import { train } from "../lib/train";
import { TOY_VIT, toyImages } from "./fixtures";
import { assertClose, gradCheck, useEngine } from "./helpers";

describe("ViT model", () => {
  before(() => useEngine("cpu"));

  it("maps [B,28,28,1] images to [B,10] logits with the documented parameters", () => {
    const m = new ViT({ norm: "dyt", dim: 32, depth: 2, heads: 4, patchSize: 7, seed: 1 });
    const y = m.forward(tf.zeros([3, 28, 28, 1]));
    assert.deepEqual(y.shape, [3, 10]);
    assert.equal(m.numPatches, 16);
    assert.deepEqual(m.norms().map((n) => n.name), ["blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "blocks.1.norm2", "norm"]);
    assert.ok(m.norms().every((n) => n.kind === "dyt" && n.alpha));
    const decayed = m.params.filter((p) => p.decay).map((p) => p.name);
    assert.ok(decayed.every((n) => n.endsWith(".w")), `only weight matrices decay: ${decayed.join(",")}`);
    assert.ok(m.params.some((p) => p.name === "pos_embed" && !p.decay));
    // 2 blocks x (qkv 32*96+96, proj 32*32+32, fc1 32*128+128, fc2 128*32+32, 2 DyT x (32+32+1)) + patch 49*32+32 + cls 32 + pos 17*32 + final DyT 65 + head 32*10+10
    assert.equal(m.parameterCount(), 2 * (3168 + 1056 + 4224 + 4128 + 130) + 1600 + 32 + 544 + 65 + 330);
    m.dispose();
  });

  it("is initialised identically for a seed, differently for another", () => {
    const a = new ViT({ ...TOY_VIT, seed: 7 });
    const b = new ViT({ ...TOY_VIT, seed: 7 });
    const c = new ViT({ ...TOY_VIT, seed: 8 });
    assert.deepEqual(Array.from(a.params[0]!.variable.dataSync()), Array.from(b.params[0]!.variable.dataSync()));
    assert.notDeepEqual(Array.from(a.params[0]!.variable.dataSync()), Array.from(c.params[0]!.variable.dataSync()));
    [a, b, c].forEach((m) => m.dispose());
  });

  it("rejects bad configurations with a message naming the fix", () => {
    assert.throws(() => new ViT({ dim: 30, heads: 4 }), /dim 30 is not divisible by heads 4/);
    assert.throws(() => new ViT({ patchSize: 5 }), /patchSize 5 does not divide imageSize 28/);
    assert.throws(() => new ViT({ norm: "groupnorm" as never }), /unknown norm kind "groupnorm"; valid kinds/);
    assert.throws(() => new ViT({ depth: 0 }), /depth must be a positive integer/);
    assert.throws(() => new ViT({ placement: "middle" as never }), /unknown placement "middle"/);
    const m = new ViT({ ...TOY_VIT });
    assert.throws(() => m.forward(tf.zeros([2, 28, 28, 1])), /expected images \[B, 8, 8, 1\]/);
    m.dispose();
  });

  it("every placement runs; res-post blocks are the identity at init", () => {
    for (const placement of PLACEMENTS) {
      const m = new ViT({ ...TOY_VIT, norm: "dyt", placement, seed: 1 });
      const y = m.forward(tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 1));
      assert.ok(Array.from(y.dataSync()).every(Number.isFinite), placement);
      m.dispose();
    }
    for (const norm of ["layernorm", "dyt"] as const) {
      const blk = new TransformerBlock(new ParamStore(new Rng(1)), { dim: 16, heads: 2, mlpRatio: 2, norm, placement: "res-post" });
      const x = tf.randomNormal([2, 5, 16], 0, 1, "float32", 2);
      assertClose(Array.from(blk.forward(x).dataSync()), Array.from(x.dataSync()), 0, 0, `${norm} res-post block`);
    }
  });

  it("fast-path matmul, linear and GELU have correct gradients", () => {
    const a = { data: [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2], shape: [2, 2, 3] };
    const b = { data: [0.5, -0.1, 0.2, 0.3, -0.7, 0.4, 0.8, -0.6, 0.1, 0.2, 0.3, -0.4], shape: [2, 3, 2] };
    gradCheck(([x, y]) => tf.sum(tf.mul(bmm(x!, y!), tf.tensor([1, -2, 3, 0.5, 2, -1, 0.3, 1], [2, 2, 2]))) as tf.Scalar, [a, b]);
    assertClose(Array.from(bmm(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape)).dataSync()), Array.from(tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape)).dataSync()));
    gradCheck(([x, w, c]) => tf.sum(tf.square(linear(x!, w!, c!))) as tf.Scalar, [a, { data: b.data.slice(0, 6), shape: [3, 2] }, { data: [0.1, -0.1], shape: [2] }]);
    gradCheck(([x]) => tf.sum(tf.mul(gelu(x!), tf.tensor([1, 2, -1, 0.5, 3, -2], [6]))) as tf.Scalar, [{ data: [-3, -1, -0.2, 0, 0.7, 2.5], shape: [6] }]);
    // GELU(1) = 0.5 * (1 + erf(1/sqrt2)) = 0.841345
    assertClose(Array.from(gelu(tf.tensor1d([1])).dataSync()), [0.841345], 1e-5);
  });
});

describe("engines agree with the cpu reference on a full training run", () => {
  it("same losses after 5 AdamW steps on every available engine as on cpu", async (t) => {
    const data = { train: toyImages(64, 1), eval: toyImages(32, 2, "val") };
    const cfg = { steps: 5, batchSize: 16, lr: 3e-3, warmupSteps: 1, evalEvery: 5, evalLimit: 32, logEvery: 1, checkpointEvery: 0, seed: 1 };
    const run = async () => {
      const m = new ViT({ ...TOY_VIT, norm: "dyt", seed: 3 });
      const r = await train(m, data, cfg, { progress: false });
      m.dispose();
      return r.log.map((l) => l.loss);
    };
    await initEngine({ engine: "cpu", quiet: true });
    const ref = await run();
    let tested = 0;
    for (const engine of ["wasm", "native"] as const) {
      try {
        await initEngine({ engine, quiet: true });
      } catch (e) {
        t.diagnostic(`${engine} unavailable: ${(e as Error).message}`);
        continue;
      }
      const got = await run();
      assertClose(got, ref, 1e-4, 1e-5, `losses on ${engine} vs cpu`);
      tested++;
    }
    assert.ok(tested >= 1, "the wasm engine at least must be available");
  });
});
