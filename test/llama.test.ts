import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { Llama, resolveLlamaConfig, llamaFfnHidden, rope, rotateBySplit, ropeTables, embedLookup, causalMask, widthMatchedInitStd } from "../lib/models";
import { tokenizeDocuments, BYTE_VOCAB_SIZE, TEXT_SEP } from "../lib/data/text";
import { initEngine } from "../lib/engine";
import { train, nextTokenTask, textWindows, type TrainConfig } from "../lib/train";
import { Rng } from "../lib/util/rng";
import { assertClose, gradCheck, useEngine } from "./helpers";

const TOY_LM = { dim: 16, depth: 2, heads: 2, maxSeqLen: 32 };
const SENTENCES = [
  "In the beginning God created the heaven and the earth.",
  "Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.",
  "The Fulton County Grand Jury said Friday an investigation produced no evidence.",
  "Fellow-Citizens of the Senate and House of Representatives: I congratulate you.",
];
/** A small in-memory text (no corpus files needed): the sentences repeated in a seeded order. */
function toyText(docs: number, seed: number, split: "train" | "val" = "train") {
  const rng = new Rng(seed);
  return tokenizeDocuments(
    Array.from({ length: docs }, () => ({ text: Array.from({ length: 3 }, () => SENTENCES[rng.int(SENTENCES.length)]!).join(" ") })),
    split,
    "toy-text",
  );
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dyt-lm-"));
const losses = (log: { loss: number }[]) => log.map((l) => l.loss);

describe("Llama model", () => {
  it("maps tokens [B, T] to logits [B, T, vocab], LLaMA parts, no biases", async () => {
    await useEngine("cpu");
    const m = new Llama({ ...TOY_LM, seed: 1 });
    const y = m.forward(tf.tensor2d([[1, 2, 3, 256, 5, 6], [7, 8, 9, 10, 11, 12]], [2, 6], "int32"));
    assert.deepEqual(y.shape, [2, 6, BYTE_VOCAB_SIZE]);
    assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
    y.dispose();
    const names = m.params.map((p) => p.name);
    assert.ok(!names.some((n) => /\.b$|beta/.test(n)), `no biases or betas: ${names.join(",")}`);
    assert.deepEqual(m.norms().map((n) => `${n.name}:${n.kind}`), ["blocks.0.norm1:rmsnorm", "blocks.0.norm2:rmsnorm", "blocks.1.norm1:rmsnorm", "blocks.1.norm2:rmsnorm", "norm:rmsnorm"]);
    // SwiGLU width 8d/3 rounded up to a multiple of 8: 16 -> 48; fc1 fuses gate|up.
    assert.equal(m.config.ffnHidden, 48);
    assert.equal(llamaFfnHidden(64), 176);
    const shape = (n: string) => m.params.find((p) => p.name === n)!.variable.shape;
    assert.deepEqual(shape("blocks.0.mlp.fc1.w"), [16, 96]);
    assert.deepEqual(shape("blocks.0.mlp.fc2.w"), [48, 16]);
    assert.deepEqual(shape("tok_embed"), [257, 16]);
    assert.deepEqual(shape("head.w"), [16, 257]); // untied: its own matrix
    // embed 257*16 + 2 x (qkv 16*48 + proj 16*16 + fc1 16*96 + fc2 48*16 + 2 gammas 16) + final gamma 16 + head 16*257
    assert.equal(m.parameterCount(), 257 * 16 + 2 * (768 + 256 + 1536 + 768 + 32) + 16 + 16 * 257);
    m.dispose();
  });

  it("builds the RMSNorm and the DyT (gamma, no beta, per-slot alpha0) arms from the norm factory", async () => {
    await useEngine("cpu");
    const m = new Llama({ ...TOY_LM, norm: "dyt", alpha0Attn: 0.8, alpha0Ffn: 0.2, alpha0Final: 0.3, seed: 1 });
    const alphas = m.norms().map((n) => n.alpha!.dataSync()[0]!);
    assertClose(alphas, [0.8, 0.2, 0.8, 0.2, 0.3], 1e-6, 1e-7, "alpha0 per slot");
    for (const n of m.norms()) assert.deepEqual(n.params.map((p) => p.name.split(".").at(-1)), ["gamma", "alpha"], `${n.name}: gamma and alpha only`);
    // Unset slots take normOptions.alpha0 (then the factory default); resolved values are recorded.
    const c = resolveLlamaConfig({ norm: "dyt", normOptions: { alpha0: 0.7 }, alpha0Attn: 1 });
    assert.deepEqual([c.alpha0Attn, c.alpha0Ffn, c.alpha0Final], [1, 0.7, 0.7]);
    // Same seed: the two arms share every weight matrix (norm parameters draw no random numbers).
    const r = new Llama({ ...TOY_LM, norm: "rmsnorm", seed: 1 });
    for (const p of r.params.filter((q) => q.decay)) assert.deepEqual(m.params.find((q) => q.name === p.name)!.variable.dataSync(), p.variable.dataSync());
    m.dispose();
    r.dispose();
  });

  it("has an optional embedding scalar, init sqrt(d), that changes no other weight", async () => {
    await useEngine("cpu");
    const a = new Llama({ ...TOY_LM, seed: 2 });
    const b = new Llama({ ...TOY_LM, seed: 2, embedScale: true });
    assert.equal(a.embedScale, undefined);
    assert.equal(b.embedScale!.dataSync()[0], 4);
    assert.equal(b.params.find((p) => p.name === "embed_scale")!.decay, false);
    for (const p of a.params) assert.deepEqual(b.params.find((q) => q.name === p.name)!.variable.dataSync(), p.variable.dataSync());
    a.dispose();
    b.dispose();
  });

  it("inits at the paper's 7B fan-in gain by default (std 0.02 at width 4096, so 1.28 / sqrt(d)); an explicit initStd wins", async () => {
    await useEngine("cpu");
    assert.equal(widthMatchedInitStd(4096), 0.02);
    assertClose([resolveLlamaConfig({ dim: 64 }).initStd], [0.16], 1e-12, 1e-12, "width 64");
    assert.equal(resolveLlamaConfig({ dim: 64, initStd: 0.02 }).initStd, 0.02);
    const m = new Llama({ dim: 64, depth: 1, heads: 4, seed: 5 });
    const w = m.params.find((p) => p.name === "tok_embed")!.variable;
    const std = Math.sqrt(tf.tidy(() => tf.moments(w).variance).dataSync()[0]!);
    // Truncation at 2 std shrinks a normal's std by about 12 %.
    assert.ok(std > 0.16 * 0.8 && std < 0.16 * 1.02, `embedding std ${std} for init std 0.16`);
    m.dispose();
  });

  it("rejects bad configurations with the fix in the message", () => {
    assert.throws(() => resolveLlamaConfig({ dim: 30, heads: 4 }), /not divisible by heads 4/);
    assert.throws(() => resolveLlamaConfig({ dim: 24, heads: 8 }), /head dim 3 .* must be even for RoPE/);
    assert.throws(() => resolveLlamaConfig({ norm: "rmsnorm", alpha0Attn: 0.5 }), /alpha0Attn applies to norm "dyt" only/);
    assert.throws(() => resolveLlamaConfig({ method: "rezero", alpha0Ffn: 0.5 }), /has no norms/);
    assert.throws(() => resolveLlamaConfig({ norm: "groupnorm" as never }), /unknown norm kind "groupnorm"/);
    assert.throws(() => resolveLlamaConfig({ depth: 0 }), /depth must be a positive integer/);
    assert.throws(() => new Llama({ ...TOY_LM, method: "nf" }), /method "nf" needs gamma_act/);
    const m = new Llama({ ...TOY_LM, maxSeqLen: 4 });
    assert.throws(() => m.forward(tf.zeros([1, 5], "int32")), /sequence length 5 exceeds maxSeqLen 4/);
    m.dispose();
  });

  it("runs the norm-free residual methods (every norm slot the identity)", async () => {
    await useEngine("cpu");
    for (const method of ["rezero", "skipinit", "fixup", "tfixup", "sigma-reparam"] as const) {
      const m = new Llama({ ...TOY_LM, method, seed: 1 });
      assert.ok(m.norms().every((n) => n.kind === "identity"), method);
      const y = tf.tidy(() => Array.from(m.forward(tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32")).dataSync()));
      assert.ok(y.every(Number.isFinite), `${method}: finite logits`);
      m.dispose();
    }
  });

  it("is causal: changing a future token changes no past output", async () => {
    await useEngine("cpu");
    for (const norm of ["rmsnorm", "dyt"] as const) {
      const m = new Llama({ ...TOY_LM, norm, seed: 3 });
      const T = 10;
      const base = Array.from({ length: T }, (_, i) => (i * 37 + 11) % 256);
      const out = (toks: number[]) => tf.tidy(() => Array.from(m.forward(tf.tensor2d(toks, [1, T], "int32")).dataSync()));
      const y0 = out(base);
      for (const k of [1, 5, 9]) {
        const changed = base.slice();
        changed[k] = (changed[k]! + 100) % 256;
        const y1 = out(changed);
        const V = BYTE_VOCAB_SIZE;
        assertClose(y1.slice(0, k * V), y0.slice(0, k * V), 0, 1e-6, `${norm}: logits before position ${k}`);
        const after = y1.slice(k * V).map((v, i) => Math.abs(v - y0[k * V + i]!));
        assert.ok(Math.max(...after) > 1e-4, `${norm}: position ${k} and later must depend on token ${k}`);
      }
      m.dispose();
    }
  });

  it("causal mask: 0 on and below the diagonal, -1e9 above", async () => {
    await useEngine("cpu");
    const m = causalMask(3);
    assert.deepEqual(Array.from(m.dataSync()), [0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0].map(Math.fround));
    m.dispose();
  });
});

describe("RoPE", () => {
  it("matches hand-computed rotations (position 0 is the identity)", async () => {
    await useEngine("cpu");
    // dh 4, theta 10000: pair 0 = dims (0, 2) turns by p * 1, pair 1 = dims (1, 3) by p * 0.01.
    const T = 4;
    const e = (i: number) => Array.from({ length: 4 }, (_, j) => (j === i ? 1 : 0));
    const x = tf.tensor3d([[e(0), e(0), e(0), e(1)]], [1, T, 4]);
    const y = rope(x).arraySync() as number[][][];
    assertClose(y[0]![0]!, [1, 0, 0, 0], 0, 1e-7, "position 0");
    // position 1, unit vector on dim 0: (cos 1, sin 1) on dims (0, 2)
    assertClose(y[0]![1]!, [0.5403023058681398, 0, 0.8414709848078965, 0], 0, 1e-6, "p=1, pair 0");
    // position 2: angle 2
    assertClose(y[0]![2]!, [-0.4161468365471424, 0, 0.9092974268256817, 0], 0, 1e-6, "p=2, pair 0");
    // position 3, unit vector on dim 1: angle 3 * 10000^(-2/4) = 0.03 on dims (1, 3)
    assertClose(y[0]![3]!, [0, 0.9995500337489875, 0, 0.029995500202495664], 0, 1e-6, "p=3, pair 1");
    tf.dispose(x);
  });

  it("rotates every pair by p * theta_i; scores depend on relative position only", async () => {
    await useEngine("cpu");
    const T = 7;
    const dh = 8;
    const theta = 500;
    const rng = new Rng(4);
    const xs = Array.from({ length: T * dh }, () => rng.normal());
    const y = Array.from(tf.tidy(() => rope(tf.tensor3d(xs, [1, T, dh]), theta).dataSync()));
    for (let p = 0; p < T; p++)
      for (let i = 0; i < dh / 2; i++) {
        const a = p * Math.pow(theta, (-2 * i) / dh);
        const [x1, x2] = [xs[p * dh + i]!, xs[p * dh + i + dh / 2]!];
        assertClose([y[p * dh + i]!, y[p * dh + i + dh / 2]!], [x1 * Math.cos(a) - x2 * Math.sin(a), x2 * Math.cos(a) + x1 * Math.sin(a)], 1e-5, 1e-6, `p=${p} pair ${i}`);
      }
    // <R_m q, R_n k> = <q, R_{n-m} k>: the same q, k at every position give scores that depend on n - m only.
    const q = Array.from({ length: dh }, () => rng.normal());
    const k = Array.from({ length: dh }, () => rng.normal());
    const rep = (v: number[]) => tf.tensor3d(Array.from({ length: T }, () => v).flat(), [1, T, dh]);
    const s = tf.tidy(() => tf.matMul(rope(rep(q), theta), rope(rep(k), theta), false, true).arraySync() as number[][][])[0]!;
    for (let m = 0; m + 2 < T; m++) assertClose([s[m]![m + 2]!], [s[0]![2]!], 1e-4, 1e-5, `score(${m}, ${m + 2}) = score(0, 2)`);
    const { cos } = ropeTables(T, dh, theta);
    assert.equal(cos.length, T * (dh / 2));
    assert.throws(() => ropeTables(3, 5), /even integer/);
  });

  it("hand-written gradients of RoPE and the embedding lookup match finite differences", async () => {
    await useEngine("cpu");
    const rng = new Rng(5);
    const r = (n: number) => Array.from({ length: n }, () => rng.normal());
    const w = r(2 * 3 * 4);
    gradCheck(([x]) => tf.sum(tf.mul(rope(x!, 100), tf.tensor(w, [2, 3, 4]))), [{ data: r(24), shape: [2, 3, 4] }]);
    const ids = [2, 0, 2, 4, 1];
    const w2 = r(5 * 3);
    gradCheck(([t]) => tf.sum(tf.mul(embedLookup(t!, tf.tensor1d(ids, "int32")), tf.tensor(w2, [5, 3]))), [{ data: r(5 * 3), shape: [5, 3] }]);
    // forward equals a gather
    const table = tf.tensor2d(r(15), [5, 3]);
    assertClose(tf.tidy(() => embedLookup(table, tf.tensor1d(ids, "int32")).dataSync()), tf.tidy(() => tf.gather(table, ids).dataSync()), 0, 0, "lookup");
    table.dispose();
  });

  it("the embedding lookup's gradient is the scatter-add of dy on every engine (wasm's float32 OneHot wrote 1.4e-45 for 1)", async () => {
    const ids = [2, 0, 2, 4];
    const dy = [1, 2, 3, 4, 5, 6, 7, 8];
    // row v of the gradient = sum of dy rows whose id is v
    const expected = [3, 4, 0, 0, 6, 8, 0, 0, 7, 8];
    for (const engine of ["cpu", "wasm", "native"] as const) {
      await useEngine(engine);
      const g = tf.tidy(() => {
        const table = tf.zeros([5, 2]);
        const [gt] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(embedLookup(t, tf.tensor1d(ids, "int32")), tf.tensor2d(dy, [4, 2]))))([table]);
        return Array.from(gt!.dataSync());
      });
      assertClose(g, expected, 1e-6, 1e-6, `${engine} embedding gradient`);
      // and the model's embedding table gets a gradient of the loss's size, not ~1e-45
      const m = new Llama({ ...TOY_LM, seed: 3 });
      const toks = tf.tensor2d([[1, 7, 3, 9, 2, 5]], [1, 6], "int32");
      const target = tf.oneHot(tf.tensor1d([7, 3, 9, 2, 5, 1], "int32"), 257);
      const emb = m.params.find((p) => p.name === "tok_embed")!.variable;
      const n = tf.tidy(() => tf.norm(tf.variableGrads(() => tf.losses.softmaxCrossEntropy(target, m.forward(toks).reshape([6, 257])) as tf.Scalar, [emb]).grads[emb.name]!).dataSync()[0]!);
      assert.ok(n > 1e-4, `${engine}: |d loss / d tok_embed| = ${n}`);
      tf.dispose([toks, target]);
      m.dispose();
    }
    await useEngine("cpu");
  });

  it("the whole model's gradient matches finite differences (embedding, RoPE, causal attention, SwiGLU, DyT)", async () => {
    await useEngine("cpu");
    const m = new Llama({ dim: 4, depth: 1, heads: 1, vocabSize: 5, norm: "dyt", ffnHidden: 4, initStd: 0.5, seed: 6 });
    const toks = tf.tensor2d([[0, 3, 1, 4]], [1, 4], "int32");
    const target = tf.oneHot(tf.tensor1d([3, 1, 4, 2], "int32"), 5);
    const loss = () => tf.losses.softmaxCrossEntropy(target, m.forward(toks).reshape([4, 5])) as tf.Scalar;
    for (const name of ["tok_embed", "blocks.0.attn.qkv.w", "blocks.0.mlp.fc1.w"]) {
      const v = m.params.find((p) => p.name === name)!.variable;
      const analytic = tf.tidy(() => Array.from(tf.variableGrads(loss, [v]).grads[v.name]!.dataSync()));
      const w0 = Array.from(v.dataSync());
      const h = 1e-2;
      for (let j = 0; j < w0.length; j++) {
        const at = (d: number) => {
          const w = w0.slice();
          w[j]! += d;
          v.assign(tf.tensor(w, v.shape));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const num = (at(h) - at(-h)) / (2 * h);
        assert.ok(Math.abs(analytic[j]! - num) <= 5e-3 * Math.max(1, Math.abs(num)), `${name}[${j}]: analytic ${analytic[j]}, finite difference ${num}`);
      }
      v.assign(tf.tensor(w0, v.shape));
    }
    tf.dispose([toks, target]);
    m.dispose();
  });
});

describe("Llama training (next-token task)", () => {
  const trainText = toyText(40, 1);
  const valText = toyText(8, 2, "val");
  const cfg: Partial<TrainConfig> = { steps: 6, batchSize: 4, lr: 3e-2, warmupSteps: 1, evalEvery: 3, evalLimit: 8, evalBatchSize: 4, logEvery: 1, checkpointEvery: 3, seed: 7 };

  it("windows are inputs and targets shifted by one", () => {
    const task = nextTokenTask(trainText, valText, { seqLen: 8 });
    assert.equal(task.trainSize, textWindows(trainText, 8));
    assert.equal(task.trainSize, Math.floor((trainText.tokens.length - 1) / 8));
    assert.equal(trainText.tokens[0], TEXT_SEP);
    task.prepare(Int32Array.from([0, 2]), 2);
    const { x, y } = tf.tidy(() => {
      const b = task.batch();
      return { x: Array.from(b.x.dataSync()), y: Array.from(tf.argMax(b.y, -1).dataSync()) };
    });
    assert.deepEqual(x, [...trainText.tokens.slice(0, 8), ...trainText.tokens.slice(16, 24)]);
    assert.deepEqual(y, [...trainText.tokens.slice(1, 9), ...trainText.tokens.slice(17, 25)]);
    assert.throws(() => nextTokenTask(tokenizeDocuments([{ text: "ab" }]), valText, { seqLen: 8 }), /fewer than one window/);
  });

  it("learns, reports bits per byte, resumes exactly (6 steps = 3 + resume 3) and leaks no tensors", async () => {
    await initEngine({ quiet: true });
    const task = () => nextTokenTask(trainText, valText, { seqLen: 16 });
    const full = new Llama({ ...TOY_LM, norm: "dyt", embedScale: true, seed: 3 });
    const before = tf.memory().numTensors;
    const a = await train(full, task(), cfg, { runDir: tmp(), progress: false });
    full.dispose();
    assert.equal(tf.memory().numTensors, before - full.params.length, "train() leaves no tensors behind");
    assert.equal(a.status, "completed");
    assert.equal(a.log.length, 6);
    assert.ok(a.log[0]!.loss > 5 && a.log[0]!.loss < 6, `initial loss ${a.log[0]!.loss} is near ln 257 = 5.55`);
    assert.ok(a.log.at(-1)!.loss < a.log[0]!.loss - 0.02, `loss falls: ${losses(a.log).join(", ")}`);
    const f = a.final!;
    assert.ok(f.bpb !== undefined && Math.abs(f.bpb - (f.loss * valText.tokensPerByte) / Math.LN2) < 1e-9, "bpb = nats/token x tokens/byte / ln 2");

    const dir = tmp();
    const m1 = new Llama({ ...TOY_LM, norm: "dyt", embedScale: true, seed: 3 });
    const part = await train(m1, task(), cfg, { runDir: dir, progress: false, stopAfter: 3 });
    m1.dispose();
    assert.equal(part.status, "interrupted");
    const m2 = new Llama({ ...TOY_LM, norm: "dyt", embedScale: true, seed: 99 });
    const b = await train(m2, task(), cfg, { runDir: dir, progress: false });
    m2.dispose();
    assert.equal(b.status, "completed");
    assert.deepEqual(losses(b.log), losses(a.log), "loss curve after resume equals the uninterrupted one");
    assert.deepEqual(b.evals, a.evals);
  });

  it("learns the toy text well below the uniform 8 bits per byte in 40 steps", async () => {
    await initEngine({ quiet: true });
    const m = new Llama({ ...TOY_LM, seed: 5 });
    const r = await train(m, nextTokenTask(trainText, valText, { seqLen: 16 }), { ...cfg, steps: 40, lr: 1e-2, warmupSteps: 4, evalEvery: 40, logEvery: 10, checkpointEvery: 0 }, { progress: false });
    m.dispose();
    assert.equal(r.status, "completed");
    assert.ok(r.final!.bpb! < 5, `held-out ${r.final!.bpb} bits/byte after 40 steps (uniform over 257 tokens: ${(Math.log2(257) * valText.tokensPerByte).toFixed(2)})`);
  });

  it("counts a loss above divergenceFactor x ln(vocab) as diverged", async () => {
    await initEngine({ quiet: true });
    const m = new Llama({ ...TOY_LM, seed: 1 });
    const r = await train(m, nextTokenTask(trainText, valText, { seqLen: 16 }), { ...cfg, divergenceFactor: 0.5 }, { progress: false });
    m.dispose();
    assert.equal(r.status, "diverged");
    assert.equal(r.diverged!.step, 0);
    assert.match(r.diverged!.reason, /> 2\.775 \(0\.5 x ln 257 vocab\)/);
  });

  it("gives the same losses on the default engine as on the cpu reference", async () => {
    const run = async () => {
      const m = new Llama({ ...TOY_LM, norm: "dyt", seed: 4 });
      const r = await train(m, nextTokenTask(trainText, valText, { seqLen: 16 }), { ...cfg, lr: 1e-3, checkpointEvery: 0, steps: 4 }, { progress: false });
      m.dispose();
      return losses(r.log);
    };
    await initEngine({ engine: "cpu", quiet: true });
    const ref = await run();
    await initEngine({ engine: "wasm", quiet: true });
    assertClose(await run(), ref, 1e-4, 1e-5, "losses on wasm vs cpu");
    await initEngine({ quiet: true });
  });
});

describe("RoPE without split and concat", () => {
  it("gives rotateBySplit's values and gradients bit for bit (forward, backward, several shapes)", async () => {
    await useEngine("native");
    const rng = new Rng(11);
    for (const shape of [[2, 3, 16, 8], [1, 5, 4], [4, 2, 128, 16]]) {
      const T = shape[shape.length - 2]!;
      const dh = shape[shape.length - 1]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Float32Array.from({ length: n }, () => rng.normal() * 3), shape);
      const w = tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
      const { cos, sin } = ropeTables(T, dh);
      const c = tf.tensor2d(cos, [T, dh / 2]);
      const s = tf.tensor2d(sin, [T, dh / 2]);
      const want = rotateBySplit(x, c, s);
      const got = rope(x);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), `forward ${shape}`);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(rope(a), w)))(x);
      const gWant = rotateBySplit(w, c, tf.neg(s));
      assert.deepEqual(Array.from(g.dataSync()), Array.from(gWant.dataSync()), `gradient ${shape}`);
      tf.dispose([x, w, c, s, want, got, g, gWant]);
    }
    const before = tf.memory().numTensors;
    const x = tf.ones([2, 4, 8]);
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.grad((a: tf.Tensor) => tf.sum(rope(a)))(x));
    x.dispose();
    assert.equal(tf.memory().numTensors, before, "no tensors left after forward + backward");
  });
});
