/**
 * The fused attention core (lib/ops/fused-attention.ts) on the native engine
 * against its tfjs fallback on the cpu backend: values and gradients of q, k,
 * v, with and without the causal mask, Tq < Tk, a size on the threaded path;
 * finite differences for the native backward; no leaks; the models' fused
 * path against their unfused one. Native-only tests
 * skip when the addon is not built.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { nativeLoadError, nativeStats } from "../lib/engine/native";
import { attentionCore, attentionPacked, type AttentionOptions } from "../lib/ops/fused-attention";
import { Llama, ViT, type ForwardOptions } from "../lib/models";
import { assertClose, gradCheck, lcgValues } from "./helpers";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;

const rand = lcgValues;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Output and gradients of sum(out * w) wrt q, k, v. */
function evalAttention(qs: number[], ks: number[], vs: number[], opts: AttentionOptions): { y: number[]; grads: number[][] } {
  return tf.tidy(() => {
    const q = tf.tensor(rand(size(qs), 1, 1.5), qs);
    const k = tf.tensor(rand(size(ks), 2, 1.5), ks);
    const v = tf.tensor(rand(size(vs), 3), vs);
    const outShape = [...qs.slice(0, -1), vs[vs.length - 1]!];
    const w = tf.tensor(rand(size(outShape), 4), outShape);
    const y = Array.from(attentionCore(q, k, v, opts).dataSync());
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attentionCore(a, b, c, opts), w)) as tf.Scalar)([q, k, v]).map((g) => Array.from(g.dataSync()));
    return { y, grads };
  });
}

const CASES: { q: number[]; k: number[]; v: number[]; opts: AttentionOptions }[] = [
  { q: [2, 3, 5, 4], k: [2, 3, 5, 4], v: [2, 3, 5, 4], opts: {} },
  { q: [2, 3, 5, 4], k: [2, 3, 5, 4], v: [2, 3, 5, 4], opts: { causal: true } },
  { q: [2, 6, 4], k: [2, 8, 4], v: [2, 8, 3], opts: { causal: true, scale: 0.3 } },
  { q: [3, 7, 8], k: [3, 9, 8], v: [3, 9, 5], opts: {} },
  // 16 slices of 50 x 50: the threaded path.
  { q: [4, 4, 50, 16], k: [4, 4, 50, 16], v: [4, 4, 50, 16], opts: {} },
];

test("fused attention: values and gradients match the cpu backend", { skip }, async () => {
  for (const c of CASES) {
    await initEngine({ engine: "cpu", quiet: true });
    const ref = evalAttention(c.q, c.k, c.v, c.opts);
    await initEngine({ engine: "native", quiet: true });
    const before = nativeStats.attention;
    const got = evalAttention(c.q, c.k, c.v, c.opts);
    const what = `q [${c.q}] k [${c.k}] v [${c.v}] ${JSON.stringify(c.opts)}`;
    assert.equal(nativeStats.attention - before, 3, `${what}: fused kernels used`);
    assertClose(got.y, ref.y, 1e-5, 1e-5, `${what}: out`);
    got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-4, 1e-5, `${what}: grad of ${"qkv"[i]}`));
  }
});

/** attentionPacked's output and the gradient of sum(out * w) wrt qkv [B, T, 3 D]. */
function evalPacked(B: number, T: number, heads: number, dh: number, opts: AttentionOptions): { y: number[]; g: number[] } {
  return tf.tidy(() => {
    const D = heads * dh;
    const qkv = tf.tensor3d(rand(B * T * 3 * D, 21, 1.5), [B, T, 3 * D]);
    const w = tf.tensor3d(rand(B * T * D, 22), [B, T, D]);
    const y = Array.from(attentionPacked(qkv, heads, opts).dataSync());
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attentionPacked(x, heads, opts), w)) as tf.Scalar)(qkv);
    return { y, g: Array.from(g.dataSync()) };
  });
}

test("packed attention (heads read in place from qkv [B, T, 3 D]): native values and gradient match cpu's split / transpose path", { skip }, async () => {
  // Odd sizes, causal and not; 16 heads' slices of 50 x 16 (the ViT's, on the threaded path).
  for (const [B, T, heads, dh, opts] of [
    [2, 5, 3, 4, {}],
    [2, 7, 2, 3, { causal: true, scale: 0.3 }],
    [4, 50, 4, 16, {}],
  ] as const) {
    await initEngine({ engine: "cpu", quiet: true });
    const ref = evalPacked(B, T, heads, dh, opts);
    await initEngine({ engine: "native", quiet: true });
    const before = nativeStats.attention;
    const got = evalPacked(B, T, heads, dh, opts);
    assert.equal(nativeStats.attention - before, 3, "the packed kernels ran (forward twice, backward once)");
    const what = `[${B}, ${T}, 3 x ${heads} x ${dh}] ${JSON.stringify(opts)}`;
    assertClose(got.y, ref.y, 1e-5, 1e-5, `${what}: out`);
    assertClose(got.g, ref.g, 1e-4, 1e-5, `${what}: grad of qkv`);
  }
});

test("packed attention: native backward matches finite differences, leaks nothing, and names bad shapes", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const w = tf.tensor3d(rand(2 * 3 * 4, 9), [2, 3, 4]);
  for (const causal of [false, true]) {
    const before = nativeStats.attention;
    gradCheck(([x]) => tf.sum(tf.mul(attentionPacked(x!, 2, { causal }), w)) as tf.Scalar, [{ data: rand(2 * 3 * 12, 5, 1.5), shape: [2, 3, 12] }]);
    assert.ok(nativeStats.attention > before, "the packed kernels ran");
  }
  const x = tf.variable(tf.tensor3d(rand(2 * 3 * 12, 6), [2, 3, 12]));
  const step = () => tf.tidy(() => Object.keys(tf.variableGrads(() => tf.sum(tf.square(attentionPacked(x, 2, { causal: true }))) as tf.Scalar, [x]).grads).length);
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n0);
  assert.throws(() => attentionPacked(tf.zeros([2, 12]), 2), /qkv must be \[B, T, 3 D\], got \[2,12\]/);
  assert.throws(() => attentionPacked(tf.zeros([2, 3, 12]), 3), /12 must be 3 x heads x head dim; 3 heads do not divide it \(pick heads dividing 4\)/);
  tf.dispose([w, x]);
});

test("fused attention: backward matches finite differences on native", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const shape = [1, 2, 3, 4];
  const w = tf.tensor(rand(24, 9), shape);
  for (const causal of [false, true]) {
    const before = nativeStats.attention;
    gradCheck(
      ([q, k, v]) => tf.sum(tf.mul(attentionCore(q!, k!, v!, { causal }), w)) as tf.Scalar,
      [1, 2, 3].map((s) => ({ data: rand(24, s, 1.5), shape })),
    );
    assert.ok(nativeStats.attention > before, "the fused kernels ran");
  }
  w.dispose();
});

test("attention core: causal query 0 sees only key 0 (cpu fallback and native)", async () => {
  for (const engine of skip ? (["cpu"] as const) : (["cpu", "native"] as const)) {
    await initEngine({ engine, quiet: true });
    tf.tidy(() => {
      const q = tf.tensor(rand(2 * 4 * 3, 5), [2, 4, 3]);
      const k = tf.tensor(rand(2 * 4 * 3, 6), [2, 4, 3]);
      const v = tf.tensor(rand(2 * 4 * 2, 7), [2, 4, 2]);
      const o = attentionCore(q, k, v, { causal: true }).arraySync() as number[][][];
      const vv = v.arraySync() as number[][][];
      for (let b = 0; b < 2; b++) assertClose(o[b]![0]!, vv[b]![0]!, 1e-6, 1e-6, `${engine}: row 0 of batch ${b}`);
    });
  }
});

test("fused attention: no tensor leak across repeated forward + backward", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const q = tf.variable(tf.tensor(rand(2 * 2 * 6 * 4, 1), [2, 2, 6, 4]));
  const k = tf.variable(tf.tensor(rand(2 * 2 * 6 * 4, 2), [2, 2, 6, 4]));
  const v = tf.variable(tf.tensor(rand(2 * 2 * 6 * 4, 3), [2, 2, 6, 4]));
  const step = () => tf.tidy(() => Object.keys(tf.variableGrads(() => tf.sum(tf.square(attentionCore(q, k, v, { causal: true }))) as tf.Scalar, [q, k, v]).grads).length);
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n0);
  tf.dispose([q, k, v]);
});

test("attention core: shape errors name the operands", async () => {
  await initEngine({ engine: "cpu", quiet: true });
  const a = tf.zeros([2, 3, 4]);
  const b = tf.zeros([2, 3, 5]);
  assert.throws(() => attentionCore(a, b, a), /q's last dim 4 != k's 5/);
  assert.throws(() => attentionCore(tf.zeros([2, 5, 4]), a, a, { causal: true }), /causal needs Tq <= Tk/);
  tf.dispose([a, b]);
});

/**
 * The models call the fused core on native when no hook reads the
 * probabilities; an onAttention hook keeps the unfused path. Both paths on
 * the same weights and input give the same loss and parameter gradients.
 */
test("models: fused attention (no hook) and the unfused path (hook set) agree on loss and gradients", { skip }, async () => {
  await initEngine({ engine: "native", quiet: true });
  const cases: { name: string; model: { params: { variable: tf.Variable }[]; dispose(): void }; loss: (opts?: ForwardOptions) => tf.Scalar }[] = [];
  const lm = new Llama({ dim: 32, depth: 2, heads: 4, maxSeqLen: 16, seed: 3, norm: "dyt" });
  const tokens = tf.tensor2d(Array.from({ length: 2 * 12 }, (_, i) => (i * 37) % 257), [2, 12], "int32");
  cases.push({ name: "Llama (causal, RoPE)", model: lm, loss: (o) => tf.mean(tf.square(lm.forward(tokens, o))) as tf.Scalar });
  const vit = new ViT({ imageSize: 8, channels: 1, patchSize: 4, dim: 32, depth: 2, heads: 4, numClasses: 3, seed: 4 });
  const images = tf.tensor4d(rand(2 * 64, 11), [2, 8, 8, 1]);
  cases.push({ name: "ViT (bidirectional)", model: vit, loss: (o) => tf.mean(tf.square(vit.forward(images, o))) as tf.Scalar });
  for (const c of cases) {
    const vars = c.model.params.map((p) => p.variable);
    const run = (opts?: ForwardOptions) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => c.loss(opts), vars);
        return { loss: value.dataSync()[0]!, grads: vars.map((v) => Array.from(grads[v.name]!.dataSync())) };
      });
    let seen = 0;
    const before = nativeStats.attention;
    const fused = run();
    assert.ok(nativeStats.attention - before >= 4, `${c.name}: the fused kernels ran (forward and backward, 2 blocks)`);
    const mid = nativeStats.attention;
    const plain = run({ onAttention: () => void seen++ });
    assert.equal(nativeStats.attention, mid, `${c.name}: a hook keeps the unfused path`);
    assert.equal(seen, 2, `${c.name}: the hook saw both blocks`);
    assertClose([fused.loss], [plain.loss], 1e-5, 1e-6, `${c.name}: loss`);
    fused.grads.forEach((g, i) => assertClose(g, plain.grads[i]!, 1e-3, 1e-6, `${c.name}: grad of ${c.model.params[i] && (c.model.params[i] as { name?: string }).name}`));
    c.model.dispose();
  }
  tf.dispose([tokens, images]);
});
