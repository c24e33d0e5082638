/**
 * Emulated FP8 training matmuls (lib/ops/fp8-matmul.ts): the forward is the
 * product of the E4M3-rounded operands, the gradients are the products with
 * the E5M2-rounded incoming gradient (checked against the formula, computed
 * by hand), nothing leaks, and a Llama with matmul "fp8" runs its block
 * Linears (only) that way, trains, and names a bad setting.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { fakeQuantFp8 } from "../lib/analysis/quant";
import { FP8_HYBRID, fakeQuantFp8Fast, fp8Linear, fp8Matmul } from "../lib/ops/fp8-matmul";
import { Llama, resolveLlamaConfig } from "../lib/models";
import { nextTokenTask, train } from "../lib/train";
import { tokenizeDocuments } from "../lib/data/text";
import { Rng } from "../lib/util/rng";
import { assertClose, useEngine } from "./helpers";

const rand = (rng: Rng, shape: number[], scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()), shape);

describe("fp8Matmul", () => {
  it("fakeQuantFp8Fast gives fakeQuantFp8's values exactly, for E4M3, E5M2 and E4M3-FNUZ, over a wide range, ties and zeros", async () => {
    await useEngine("cpu");
    const rng = new Rng(9);
    // Magnitudes over 2^-30 .. 2^10 (subnormal, normal and saturated after scaling), exact zeros, and the amax itself.
    const vals = Array.from({ length: 4000 }, (_, i) => (i % 97 === 0 ? 0 : (rng.next() < 0.5 ? -1 : 1) * Math.pow(2, -30 + 40 * rng.next())));
    // Ties: with amax = 448 (scale 1 for E4M3), 1.0625 sits halfway between 1 and 1.125, 1.1875 between 1.125 and 1.25.
    const ties = [448, 1.0625, 1.1875, -1.0625, 0.0009765625 * 1.5, 2 ** -10, 2 ** -9 * 0.5, 2 ** -9 * 1.5];
    for (const xs of [vals, ties]) {
      const x = tf.tensor1d(xs);
      for (const f of ["e4m3fn", "e5m2", "e4m3fnuz"] as const) {
        const want = Array.from(fakeQuantFp8(x, f).dataSync());
        const got = Array.from(fakeQuantFp8Fast(x, f).dataSync());
        const bad = got.findIndex((g, i) => !(g === want[i] || (g === 0 && want[i] === 0)));
        assert.equal(bad, -1, `${f}: x = ${xs[bad]} -> ${got[bad]}, fakeQuantFp8 gives ${want[bad]}`);
      }
      x.dispose();
    }
  });

  it("forward: the product of the per-tensor-scaled E4M3 operands, close to but not equal to fp32", async () => {
    await useEngine("cpu");
    const rng = new Rng(1);
    const x = rand(rng, [6, 8]);
    const w = rand(rng, [8, 5], 0.3);
    const y = fp8Matmul(x, w);
    const want = tf.matMul(fakeQuantFp8(x, "e4m3fn"), fakeQuantFp8(w, "e4m3fn"));
    assertClose(y.dataSync(), want.dataSync(), 1e-6, 1e-6, "fp8 forward");
    const exact = tf.matMul(x, w);
    const rel = tf.norm(tf.sub(y, exact)).dataSync()[0]! / tf.norm(exact).dataSync()[0]!;
    assert.ok(rel > 0 && rel < 0.05, `relative error of the E4M3 product ${rel}`);
    tf.dispose([x, w, y, want, exact]);
  });

  it("backward: dx = q5(dy) q4(w)^T and dw = q4(x)^T q5(dy), the rounding passed straight through", async () => {
    await useEngine("cpu");
    const rng = new Rng(2);
    const x = rand(rng, [4, 6]);
    const w = rand(rng, [6, 3], 0.5);
    const c = rand(rng, [4, 3], 1e-3); // the incoming gradient dy (tiny: E5M2's range matters, not E4M3's)
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fp8Matmul(a, b), c)))([x, w]);
    const qdy = fakeQuantFp8(c, "e5m2");
    assertClose(dx!.dataSync(), tf.matMul(qdy, fakeQuantFp8(w, "e4m3fn"), false, true).dataSync(), 1e-6, 1e-9, "dx");
    assertClose(dw!.dataSync(), tf.matMul(fakeQuantFp8(x, "e4m3fn"), qdy, true, false).dataSync(), 1e-6, 1e-9, "dw");
    // E5M2 really rounded dy: the gradient differs from the fp32 formula.
    const dx32 = tf.matMul(c, fakeQuantFp8(w, "e4m3fn"), false, true);
    assert.ok(tf.max(tf.abs(tf.sub(dx!, dx32))).dataSync()[0]! > 0);
    tf.dispose([x, w, c, dx!, dw!, qdy, dx32]);
  });

  it("fp8Linear flattens leading dims like linear, adds the bias, rejects a shape mismatch, and leaks nothing", async () => {
    await useEngine("cpu");
    const rng = new Rng(3);
    const x = rand(rng, [2, 3, 4]);
    const w = rand(rng, [4, 5]);
    const b = rand(rng, [5]);
    const y = fp8Linear(x, w, b);
    assert.deepEqual(y.shape, [2, 3, 5]);
    const flat = tf.add(fp8Matmul(x.reshape([6, 4]), w), b).reshape([2, 3, 5]);
    assertClose(y.dataSync(), flat.dataSync(), 1e-6, 1e-6, "fp8Linear");
    assert.throws(() => fp8Linear(x, rand(rng, [3, 5]), undefined), /input last dim 4 does not match weight \[3,5\]/);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.grads((a: tf.Tensor) => tf.sum(fp8Linear(a, w, b, FP8_HYBRID)))([x]));
    assert.equal(tf.memory().numTensors, before, "no tensors left after forward + backward");
    tf.dispose([x, w, b, y, flat]);
  });
});

describe("Llama with FP8 matmuls", () => {
  const TOY = { dim: 16, depth: 2, heads: 2, maxSeqLen: 32 };
  it("runs its block Linears in FP8 (the head stays fp32): same weights, slightly different logits", async () => {
    await useEngine("native");
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], "int32");
    const a = new Llama({ ...TOY, norm: "dyt", seed: 4 });
    const b = new Llama({ ...TOY, norm: "dyt", seed: 4, matmul: "fp8" });
    assert.deepEqual(b.params.map((p) => Array.from(p.variable.dataSync())), a.params.map((p) => Array.from(p.variable.dataSync())));
    const ya = a.forward(ids);
    const yb = b.forward(ids);
    const rel = tf.norm(tf.sub(ya, yb)).dataSync()[0]! / tf.norm(ya).dataSync()[0]!;
    assert.ok(rel > 0 && rel < 0.1, `relative logit change ${rel}`);
    // The head stays fp32: the last block's output through the final norm and an fp32 head gives b's logits.
    let last: tf.Tensor | undefined;
    b.forward(ids, { onBlock: (i, x) => void (i === TOY.depth - 1 && (last = tf.keep(x.clone()))) }).dispose();
    const head32 = tf.tidy(() => b.head.apply(b.finalNorm.apply(last!)));
    assertClose(head32.dataSync(), yb.dataSync(), 1e-6, 1e-6, "fp32 head on the FP8 blocks' output");
    tf.dispose([last!, head32]);
    assert.throws(() => resolveLlamaConfig({ ...TOY, matmul: "fp16" as never }), /matmul must be "fp8" or unset \(fp32\), got "fp16"/);
    tf.dispose([ids, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it("trains in FP8: the loss falls and the tensor count stays flat", async () => {
    await useEngine("native");
    const text = tokenizeDocuments(Array.from({ length: 30 }, (_, i) => ({ text: `the quick brown fox ${i} jumps over the lazy dog ${i % 7}.` })), "train", "toy");
    const val = tokenizeDocuments(Array.from({ length: 6 }, (_, i) => ({ text: `the lazy dog ${i} sleeps.` })), "val", "toy");
    const m = new Llama({ ...TOY, norm: "dyt", seed: 5, matmul: "fp8" });
    const before = tf.memory().numTensors;
    const r = await train(m, nextTokenTask(text, val, { seqLen: 16 }), { steps: 12, batchSize: 4, lr: 3e-2, warmupSteps: 1, evalEvery: 12, evalLimit: 8, evalBatchSize: 4, logEvery: 1, checkpointEvery: 0, seed: 1 }, { progress: false });
    assert.equal(r.status, "completed");
    assert.ok(r.log.at(-1)!.loss < r.log[0]!.loss - 0.1, `loss ${r.log[0]!.loss} -> ${r.log.at(-1)!.loss}`);
    assert.equal(tf.memory().numTensors, before, "train() leaves no tensors behind");
    m.dispose();
  });
});
