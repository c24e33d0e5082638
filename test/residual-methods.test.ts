import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ViT, TransformerBlock, RESIDUAL_METHODS, Linear, powerStepKernel, sigmaKernel, type ResidualMethod } from "../lib/models";
import { ParamStore } from "../lib/ops/param";
import { Rng } from "../lib/util/rng";
import { train } from "../lib/train";
import { tfixupScale, fixupTransformerScales } from "../lib/analysis/reparam";
import { TOY_VIT, toyImages } from "./fixtures";
import { assertClose, useEngine } from "./helpers";

const data = () => ({ train: toyImages(128, 1), eval: toyImages(32, 2, "val") });
const quiet = { steps: 10, batchSize: 16, warmupSteps: 0, evalEvery: 10, evalLimit: 32, logEvery: 5, checkpointEvery: 0, lr: 1e-2, clipNorm: 0, weightDecay: 0 };
const values = (v: tf.Tensor) => Array.from(v.dataSync());
const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const block = (method: ResidualMethod, extra: object = {}) =>
  new TransformerBlock(new ParamStore(new Rng(3)), { dim: 16, heads: 2, mlpRatio: 2, norm: "layernorm", method, depth: 3, index: 1, ...extra });

describe("residual methods: norm-free baselines as config on the same block", () => {
  before(() => useEngine("cpu"));

  it("ReZero, SkipInit and Fixup blocks are exactly the identity at init; the others are not", () => {
    const x = tf.randomNormal([2, 5, 16], 0, 1, "float32", 4);
    for (const m of ["rezero", "skipinit", "fixup"] as const) assertClose(values(block(m).forward(x)), values(x), 0, 0, `${m} block`);
    for (const m of ["norm", "tfixup", "sigma-reparam", "nf"] as const)
      assert.ok(maxAbsDiff(values(block(m).forward(x)), values(x)) > 1e-3, `${m} block should not be the identity`);
    x.dispose();
  });

  it("norm-free methods have no norm parameters, including the final norm, and keep the plain model's weights", () => {
    for (const method of RESIDUAL_METHODS.filter((m) => m !== "norm")) {
      const m = new ViT({ ...TOY_VIT, method, seed: 5 });
      assert.equal(m.config.norm, "identity", method);
      assert.ok(m.norms().every((n) => n.kind === "identity" && n.params.length === 0), method);
      assert.ok(!m.params.some((p) => /norm/.test(p.name)), `${method}: ${m.params.map((p) => p.name).join(",")}`);
      m.dispose();
    }
    // Extra scalars are constants, so rezero/skipinit/sigma-reparam/nf draw the same weights as the LN model.
    const ln = new ViT({ ...TOY_VIT, seed: 5 });
    const rz = new ViT({ ...TOY_VIT, method: "sigma-reparam", seed: 5 });
    const w = (m: ViT, n: string) => values(m.params.find((p) => p.name === n)!.variable);
    assert.deepEqual(w(rz, "blocks.1.mlp.fc1.w"), w(ln, "blocks.1.mlp.fc1.w"));
    ln.dispose();
    rz.dispose();
  });

  it("rejects unknown methods and norm placements on norm-free methods, naming the fix", async () => {
    assert.throws(() => new ViT({ ...TOY_VIT, method: "batchfree" as never }), /unknown method "batchfree"; valid: norm, rezero, skipinit, fixup, tfixup, sigma-reparam, nf/);
    assert.throws(() => new ViT({ ...TOY_VIT, method: "rezero", placement: "post" }), /placement "post" applies to method "norm" only/);
    assert.throws(() => block("fixup", { index: 3 }), /index 3 must lie in \[0, depth=3\)/);
    const m = new ViT({ ...TOY_VIT });
    await assert.rejects(() => train(m, data(), { agc: -1 }), /agc must be >= 0/);
    m.dispose();
  });

  it("branch weights (Wo, fc2) and gates move within 10 steps: no dead branch", async () => {
    for (const method of ["rezero", "skipinit", "fixup"] as const) {
      const m = new ViT({ ...TOY_VIT, method, seed: 2 });
      const get = (n: string) => m.params.find((p) => p.name === n)!.variable;
      const names = ["blocks.0.attn.proj.w", "blocks.0.mlp.fc2.w", "blocks.1.attn.proj.w", "blocks.1.mlp.fc2.w"];
      const before = names.map((n) => values(get(n)));
      const r = await train(m, data(), quiet, { progress: false });
      assert.equal(r.status, "completed", method);
      names.forEach((n, i) => assert.ok(maxAbsDiff(values(get(n)), before[i]!) > 1e-4, `${method}: ${n} did not move in 10 steps`));
      for (const b of m.blocks) for (const [k, g] of Object.entries(b.gates)) if (!k.startsWith("fixupBias")) assert.notEqual(values(g)[0], method === "fixup" ? 1 : 0, `${method} gate ${k} did not move`);
      m.dispose();
    }
  });

  it("the dead-branch pitfall is real: a zero gate on a zero last layer never moves (so the test above can fail)", async () => {
    const m = new ViT({ ...TOY_VIT, method: "skipinit", seed: 2 });
    for (const b of m.blocks) {
      b.proj.w.assign(tf.zerosLike(b.proj.w));
      b.fc2.w.assign(tf.zerosLike(b.fc2.w));
    }
    await train(m, data(), quiet, { progress: false });
    for (const b of m.blocks) {
      assert.equal(maxAbsDiff(values(b.proj.w), new Array(b.proj.w.size).fill(0)), 0);
      assert.equal(values(b.gates.attnGate!)[0], 0);
    }
    m.dispose();
  });

  it("Fixup gives Wo and fc2 non-zero gradients at step 1; ReZero's gate moves by ~lr after one Adam step", async () => {
    const m = new ViT({ ...TOY_VIT, method: "fixup", seed: 2 });
    const d = toyImages(16, 3);
    const x = tf.tensor4d(d.images, [16, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d(d.labels, "int32"), 4);
    const vars = m.params.filter((p) => p.variable.trainable).map((p) => p.variable);
    // The head starts at zero (Fixup rule 1), so take one step first to give the body a gradient.
    await train(m, data(), { ...quiet, steps: 1 }, { progress: false });
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.forward(x)) as tf.Scalar, vars);
    for (const b of m.blocks) {
      assert.ok(tf.norm(grads[b.proj.w.name]!).dataSync()[0]! > 0, "Wo gradient is zero");
      assert.ok(tf.norm(grads[b.fc2.w.name]!).dataSync()[0]! > 0, "fc2 gradient is zero");
    }
    tf.dispose([x, y, ...Object.values(grads)]);
    m.dispose();
    const rz = new ViT({ ...TOY_VIT, method: "rezero", seed: 2 });
    await train(rz, data(), { ...quiet, steps: 1, lr: 1e-3 }, { progress: false });
    // Adam's first step is lr * |g| / (|g| + eps): lr itself up to eps / |g| (|g| ~ 1e-6 or more here).
    for (const b of rz.blocks) {
      const r = Math.abs(values(b.gates.rezero!)[0]!);
      assert.ok(r <= 1e-3 * (1 + 1e-6) && r > 0.99e-3, `|r| after one step: ${r}, expected lr 1e-3 up to Adam's eps`);
    }
    rz.dispose();
  });

  it("Fixup and T-Fixup init factors: zeroed last layers, Xavier bounds x L^-1/6, L^-1/2, 0.67 N^-1/4", () => {
    const d = 16;
    const L = 2 * 3;
    const f = fixupTransformerScales(L);
    const fx = block("fixup");
    const maxAbs = (v: tf.Tensor) => Math.max(...values(v).map(Math.abs));
    assert.equal(maxAbs(fx.proj.w), 0);
    assert.equal(maxAbs(fx.fc2.w), 0);
    const qkvBound = Math.sqrt(6 / (d + d)) * f.qkv;
    assert.ok(maxAbs(fx.qkv.w) <= qkvBound && maxAbs(fx.qkv.w) > 0.9 * qkvBound, `qkv max ${maxAbs(fx.qkv.w)} vs bound ${qkvBound}`);
    const fc1Bound = Math.sqrt(6 / (d + 2 * d)) * f.fc1;
    assert.ok(maxAbs(fx.fc1.w) <= fc1Bound && maxAbs(fx.fc1.w) > 0.9 * fc1Bound);
    // Scaled / unscaled Frobenius norm = the factor (same random draws).
    const t = tfixupScale(3);
    const a = new Linear(new ParamStore(new Rng(9)), "l", 16, 32, { kind: "xavier", scale: t });
    const b = new Linear(new ParamStore(new Rng(9)), "l", 16, 32, { kind: "xavier" });
    assertClose([tf.norm(a.w).dataSync()[0]! / tf.norm(b.w).dataSync()[0]!], [t], 1e-6, 0, "T-Fixup factor");
    // T-Fixup scales only the v third of the fused q|k|v kernel.
    const tf3 = block("tfixup");
    const cols = (k: number) => tf.slice(tf3.qkv.w, [0, k * d], [d, d]);
    assert.ok(maxAbs(cols(2)) <= Math.sqrt(6 / (2 * d)) * t && maxAbs(cols(0)) > Math.sqrt(6 / (2 * d)) * t);
  });

  it("sigma-Reparam: power-iteration test vector, W_hat = W0 at init, u advances only in training mode", () => {
    // W = [[1,2],[3,4]] (math layout) is the kernel K = W^T = [[1,3],[2,4]].
    const st = powerStepKernel([1, 3, 2, 4], 2, 2, [1, 0]);
    assertClose(Array.from(st.u), [0.581238, 0.813733], 1e-5, 0, "u");
    assertClose(Array.from(st.v), [0.316228, 0.948683], 1e-5, 0, "v");
    assertClose([sigmaKernel([1, 3, 2, 4], 2, 2, st.u, st.v)], [5.440588], 1e-6, 0, "sigma");
    const st2 = powerStepKernel([1, 3, 2, 4], 2, 2, st.u);
    assertClose([sigmaKernel([1, 3, 2, 4], 2, 2, st2.u, st2.v)], [5.464985], 1e-6, 0, "sigma after 2 steps");

    const l = new Linear(new ParamStore(new Rng(1)), "l", 12, 8, { kind: "truncNormal", std: 0.5 }, "sigma");
    assertClose(values(l.effectiveWeight()), values(l.w), 1e-4, 1e-6, "W_hat at init");
    // Spectral norm of W_hat equals gamma (the whole point of the reparameterisation).
    l.gamma!.assign(tf.tensor1d([2.5]));
    const Wh = tf.tensor2d(values(l.effectiveWeight()), [12, 8]);
    let u: Float32Array = Float32Array.from({ length: 12 }, (_, i) => 1 + i);
    let v: Float32Array = new Float32Array(8);
    for (let i = 0; i < 200; i++) ({ u, v } = powerStepKernel(Wh.dataSync(), 12, 8, u));
    assertClose([sigmaKernel(Wh.dataSync(), 12, 8, u, v)], [2.5], 1e-4, 0, "sigma(W_hat)");
    // Perturb W so the power iteration has work to do: eval keeps u, training writes it back.
    l.w.assign(tf.add(l.w, tf.randomNormal([12, 8], 0, 0.5, "float32", 7)));
    const u0 = values(l.u!);
    tf.dispose(l.effectiveWeight({ training: false }));
    assert.deepEqual(values(l.u!), u0);
    tf.dispose(l.effectiveWeight({ training: true }));
    assert.ok(maxAbsDiff(values(l.u!), u0) > 1e-4, "u did not advance in training mode");
    assert.equal(l.u!.trainable, false);
  });

  it("sigma-Reparam gradient flows through sigma with u, v held constant", () => {
    const l = new Linear(new ParamStore(new Rng(2)), "l", 4, 3, { kind: "truncNormal", std: 0.5 }, "sigma");
    l.w.assign(tf.add(l.w, tf.randomNormal([4, 3], 0, 0.3, "float32", 3)));
    const G = tf.randomNormal([4, 3], 0, 1, "float32", 4);
    const K = values(l.w);
    const { u, v } = powerStepKernel(K, 4, 3, values(l.u!));
    const sigma = sigmaKernel(K, 4, 3, u, v);
    const gamma = values(l.gamma!)[0]!;
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(l.effectiveWeight(), G)) as tf.Scalar, [l.w, l.gamma!]);
    // d/dK sum(G * gamma K / sigma) = gamma/sigma G - gamma <G,K> / sigma^2 u v^T
    const g = values(G);
    const gk = g.reduce((s, x, i) => s + x * K[i]!, 0);
    const expected = g.map((x, idx) => (gamma / sigma) * x - ((gamma * gk) / (sigma * sigma)) * u[Math.floor(idx / 3)]! * v[idx % 3]!);
    assertClose(values(grads[l.w.name]!), expected, 1e-4, 1e-5, "dL/dW");
    assertClose(values(grads[l.gamma!.name]!), [gk / sigma], 1e-4, 1e-6, "dL/dgamma");
    tf.dispose([G, ...Object.values(grads)]);
  });

  it("NF: Scaled Weight Standardization gives zero-mean, unit-norm output units; the branch uses alpha and beta_k", () => {
    const nf = block("nf");
    const W = nf.fc1.effectiveWeight();
    const [inD, outD] = W.shape as [number, number];
    const w = values(W);
    const rawW = values(nf.fc1.w);
    for (let j = 0; j < outD; j++) {
      const col = Array.from({ length: inD }, (_, i) => w[i * outD + j]!);
      assertClose([col.reduce((a, b) => a + b, 0)], [0], 0, 1e-5, "column mean");
      // Not exactly 1: eps = 1e-6 is not negligible next to var(W) ~ 4e-4 at std 0.02, so the
      // norm is sqrt(var_j / (var_j + eps)) of the raw column's own variance.
      const raw = Array.from({ length: inD }, (_, i) => rawW[i * outD + j]!);
      const mu = raw.reduce((a, b) => a + b, 0) / inD;
      const varJ = raw.reduce((a, b) => a + (b - mu) ** 2, 0) / inD;
      assertClose([Math.hypot(...col)], [Math.sqrt(varJ / (varJ + 1e-6))], 1e-4, 0, "column norm");
    }
    // With the attention branch's last layer zeroed, only the MLP branch acts:
    // y - h = alpha * F(h / beta_3) for block index 1 (k = 2*1 + 1).
    nf.proj.w.assign(tf.zerosLike(nf.proj.w));
    const x = tf.randomNormal([2, 5, 16], 0, 1, "float32", 8);
    const got = tf.sub(nf.forward(x), x);
    const want = tf.mul(nf.mlp(tf.div(x, Math.sqrt(1 + 3 * 0.04))), 0.2);
    assertClose(values(got), values(want), 1e-4, 1e-6, "NF branch");
  });

  it("every method trains on the same ViT without leaking tensors; AGC runs as a gradient transform", async () => {
    for (const method of RESIDUAL_METHODS) {
      const m = new ViT({ ...TOY_VIT, method, norm: "dyt", seed: 1 });
      const r = await train(m, data(), { ...quiet, steps: 6, lr: 1e-3, agc: method === "nf" ? 0.01 : 0, clipNorm: 1 }, { progress: false });
      assert.equal(r.status, "completed", method);
      assert.ok(r.log.every((l) => Number.isFinite(l.loss)), method);
      m.dispose();
    }
  });

  it("linear hooks see every block Linear's input and can replace it", () => {
    const m = new ViT({ ...TOY_VIT, seed: 1 });
    const seen: string[] = [];
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 1);
    const y0 = m.forward(x);
    const y1 = m.forward(x, { linearInput: (n, t) => { seen.push(n); return n === "head" ? tf.zerosLike(t) : undefined; } });
    assert.deepEqual(seen.filter((n) => n.startsWith("blocks.0")), ["blocks.0.attn.qkv", "blocks.0.attn.proj", "blocks.0.mlp.fc1", "blocks.0.mlp.fc2"]);
    assert.ok(seen.includes("patch_embed") && seen.includes("head"));
    // A zeroed head input leaves only the head bias (zero): logits 0, unlike the plain pass.
    assertClose(values(y1), new Array(8).fill(0), 0, 1e-7, "replaced input");
    assert.ok(maxAbsDiff(values(y0), values(y1)) > 0);
    tf.dispose([x, y0, y1]);
    m.dispose();
  });
});
