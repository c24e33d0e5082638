import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { dyt, layerNorm, makeNorm, rmsNorm, squash, NORM_KINDS } from "../lib/norms";
import { assertClose, gradCheck, useEngine } from "./helpers";

// Test vectors: ../shared/reference/baselines.md section 3 (float64 reference, 1e-5 relative).
const v = (xs: number[]) => tf.tensor1d(xs).reshape([1, xs.length]);
const out = (t: tf.Tensor) => Array.from(t.dataSync());

describe("norms: forward against baselines.md test vectors", () => {
  before(() => useEngine("cpu"));

  it("LayerNorm eps=1e-5, eps=0 (also x10), affine, constant row", () => {
    assertClose(out(layerNorm(v([1, 2, 3, 4]), undefined, undefined, 1e-5)), [-1.341635, -0.447212, 0.447212, 1.341635]);
    const e0 = [-1.341641, -0.447214, 0.447214, 1.341641];
    assertClose(out(layerNorm(v([1, 2, 3, 4]), undefined, undefined, 0)), e0);
    assertClose(out(layerNorm(v([10, 20, 30, 40]), undefined, undefined, 0)), e0);
    const g = tf.tensor1d([1, 2, 1, 0.5]);
    const b = tf.tensor1d([0, 0, 1, 0]);
    assertClose(out(layerNorm(v([1, 2, 3, 4]), g, b, 1e-5)), [-1.341635, -0.894424, 1.447212, 0.670818]);
    const c = out(layerNorm(v([3, 3, 3, 3]), undefined, undefined, 1e-5));
    assertClose(c, [0, 0, 0, 0]);
    assert.ok(c.every(Number.isFinite));
  });

  it("RMSNorm eps=1e-6 (scale invariant, not shift invariant)", () => {
    const e = [0.365148, 0.730297, 1.095445, 1.460593];
    assertClose(out(rmsNorm(v([1, 2, 3, 4]), undefined, undefined, 1e-6)), e);
    assertClose(out(rmsNorm(v([10, 20, 30, 40]), undefined, undefined, 1e-6)), e);
    assertClose(out(rmsNorm(v([6, 7, 8, 9]), undefined, undefined, 1e-6)), [0.791257, 0.923133, 1.055009, 1.186885]);
  });

  it("DyT alpha=0.5, with gamma/beta, without alpha, reparametrisation", () => {
    const x = v([-2, -0.5, 0, 1, 3]);
    const a = tf.tensor1d([0.5]);
    assertClose(out(dyt(x, a, undefined, undefined)), [-0.761594, -0.244919, 0, 0.462117, 0.905148]);
    assertClose(out(dyt(x, a, tf.fill([5], 2), tf.fill([5], 0.1))), [-1.423188, -0.389837, 0.1, 1.024234, 1.910297]);
    assertClose(out(dyt(x, tf.tensor1d([1]), undefined, undefined)), [-0.964028, -0.462117, 0, 0.761594, 0.995055]);
    const x4 = v([1, 2, 3, 4]);
    const e = [0.964028, 0.999329, 0.999988, 1.0];
    assertClose(out(dyt(tf.mul(x4, 4), a, undefined, undefined)), e);
    assertClose(out(dyt(x4, tf.tensor1d([2]), undefined, undefined)), e);
  });

  it("squasher family with alpha=0.5", () => {
    const x = v([-3, -1, -0.25, 0, 0.5, 2]);
    const a = tf.tensor1d([0.5]);
    const cases: [Parameters<typeof squash>[0], number[]][] = [
      ["tanh", [-0.905148, -0.462117, -0.124353, 0, 0.244919, 0.761594]],
      ["hardtanh", [-1, -0.5, -0.125, 0, 0.25, 1]],
      ["sigmoid", [0.182426, 0.377541, 0.468791, 0.5, 0.562177, 0.731059]],
      ["shifted-sigmoid", [-0.635149, -0.244919, -0.062419, 0, 0.124353, 0.462117]],
      ["softsign", [-0.6, -0.333333, -0.111111, 0, 0.2, 0.5]],
      ["erf", [-0.966105, -0.5205, -0.140316, 0, 0.276326, 0.842701]],
      ["identity", [-1.5, -0.5, -0.125, 0, 0.25, 1]],
    ];
    // erf in tfjs is a polynomial approximation (max error ~1.5e-7 absolute).
    for (const [phi, e] of cases) assertClose(out(dyt(x, a, undefined, undefined, phi)), e, 1e-5, 2e-6, phi);
  });

  it("channels-first layout broadcasts gamma/beta over axis 1", () => {
    const x = tf.randomNormal([2, 3, 4, 4], 0, 1, "float32", 7);
    const g = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([0.1, 0.2, 0.3]);
    const cf = dyt(x, tf.tensor1d([0.7]), g, b, "tanh", "channels-first");
    const cl = dyt(tf.transpose(x, [0, 2, 3, 1]), tf.tensor1d([0.7]), g, b, "tanh", "channels-last");
    assertClose(out(cf), out(tf.transpose(cl, [0, 3, 1, 2])), 1e-6, 1e-6);
    const lf = layerNorm(x, g, b, 1e-6, "channels-first");
    const ll = layerNorm(tf.transpose(x, [0, 2, 3, 1]), g, b, 1e-6, "channels-last");
    assertClose(out(lf), out(tf.transpose(ll, [0, 3, 1, 2])), 1e-5, 1e-5);
  });
});

describe("norms: gradients against finite differences", () => {
  before(() => useEngine("cpu"));
  const xs = [0.3, -1.2, 0.8, 2.0, -0.4, 0.1, 1.5, -2.2];
  const r = [0.5, -1, 0.25, 2, -0.3, 0.7, 1.1, -0.6]; // random projection makes a scalar loss
  const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor(r, y.shape))) as tf.Scalar;

  it("DyT (tanh, hand-written backward): d/dx, d/dalpha, d/dgamma, d/dbeta", () => {
    gradCheck(([x, a, g, b]) => loss(dyt(x!, a!, g!, b!)), [
      { data: xs, shape: [2, 4] },
      { data: [0.7], shape: [1] },
      { data: [1, 0.5, -1, 2], shape: [4] },
      { data: [0, 0.1, 0.2, -0.1], shape: [4] },
    ]);
  });

  it("DyT sanity values: dy/dalpha = 0.839949, dy/dx = 0.209987 at a=0.5, x=2", () => {
    const [gx, ga] = tf.grads((x: tf.Tensor, a: tf.Tensor) => tf.sum(dyt(x, a, undefined, undefined)))([tf.tensor2d([[2]]), tf.tensor1d([0.5])]);
    assertClose(out(ga!), [0.839949]);
    assertClose(out(gx!), [0.209987]);
  });

  it("LayerNorm (hand-written backward): d/dx, d/dgamma, d/dbeta", () => {
    gradCheck(([x, g, b]) => loss(layerNorm(x!, g!, b!, 1e-5)), [
      { data: xs, shape: [2, 4] },
      { data: [1, 0.5, -1, 2], shape: [4] },
      { data: [0, 0.1, 0.2, -0.1], shape: [4] },
    ]);
  });

  it("LayerNorm channels-first and RMSNorm, other squashers", () => {
    gradCheck(([x, g]) => loss(layerNorm(x!, g!, undefined, 1e-5, "channels-first")), [
      { data: xs, shape: [1, 2, 2, 2] },
      { data: [1.5, -0.5], shape: [2] },
    ]);
    gradCheck(([x, g]) => loss(rmsNorm(x!, g!, undefined, 1e-6)), [
      { data: xs, shape: [2, 4] },
      { data: [1, 0.5, -1, 2], shape: [4] },
    ]);
    for (const phi of ["sigmoid", "softsign", "erf"] as const)
      gradCheck(([x, a]) => loss(dyt(x!, a!, undefined, undefined, phi)), [
        { data: xs, shape: [2, 4] },
        { data: [0.7], shape: [1] },
      ]);
  });
});

describe("norms: factory", () => {
  before(() => useEngine("cpu"));
  it("creates each kind with the documented parameters and defaults", () => {
    const ln = makeNorm("layernorm", 8);
    assert.deepEqual(ln.params.map((p) => p.name), ["norm.gamma", "norm.beta"]);
    const d = makeNorm("dyt", 8);
    assert.deepEqual(d.params.map((p) => p.name).sort(), ["norm.alpha", "norm.beta", "norm.gamma"]);
    assert.equal(d.alpha!.dataSync()[0], 0.5);
    assert.ok(d.params.every((p) => !p.decay), "no weight decay on norm parameters");
    assert.deepEqual(makeNorm("rmsnorm", 8).params.map((p) => p.name), ["norm.gamma"]);
    assert.equal(makeNorm("identity", 8).params.length, 0);
    assert.equal(makeNorm("dyt", 8, { alpha0: 2 }).alpha!.dataSync()[0], 2);
    assert.equal(makeNorm("dyt", 8, { learnAlpha: false }).alpha!.trainable, false);
    const x = tf.ones([2, 8]);
    for (const k of NORM_KINDS) assert.deepEqual(makeNorm(k, 8).apply(x).shape, [2, 8]);
  });

  it("rejects an unknown kind, listing the valid kinds", () => {
    assert.throws(() => makeNorm("groupnorm", 8), /unknown norm kind "groupnorm"; valid kinds: layernorm, rmsnorm, dyt, identity, batchnorm/);
    assert.throws(() => makeNorm("dyt", 0), /dim must be a positive integer/);
    assert.throws(() => makeNorm("dyt", 8, { squash: "relu" as never }), /unknown squash function "relu"/);
    assert.throws(() => makeNorm("dyt", 8).apply(tf.ones([2, 5])), /expected 8 channels/);
  });
});
