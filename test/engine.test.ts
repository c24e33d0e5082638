/**
 * The native engine (wasm + OpenBLAS kernels) against the reference cpu
 * backend. Skips, never fails, when the addon is not built.
 *
 * Tolerance: BLAS sums a K-term dot product in a different order (and with
 * FMA) than the cpu backend's loop, so each output differs by rounding only:
 * about sqrt(K) * 2^-24 * sum|a_i b_i|. The check is per element,
 * |native - cpu| <= 1e-5 * (sum_k |a_ik||b_kj|) + 1e-30, i.e. relative to the
 * magnitude of the terms summed (a plain relative error on the output is
 * meaningless where terms cancel). K <= 300 here: the expected error is
 * ~1e-6 of that scale, so 1e-5 leaves margin without hiding real bugs (a wrong
 * transpose or stride gives O(1) errors).
 */
import { test } from "node:test";
import { spawnSync } from "child_process";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { lcgValues } from "./helpers";
import { gelu } from "../lib/ops/activations";
import { loadAddon, matmulLog, nativeLoadError, nativeStats, simplifyTranspose, sumGeometry, OVERRIDDEN_KERNELS, ADDED_KERNELS, nativeKernelsActive } from "../lib/engine/native";

const reason = nativeLoadError();
const skip = reason ? `native engine unavailable: ${reason}` : false;

const rand = (n: number, seed: number) => Float32Array.from(lcgValues(n, seed));

async function onEngine<T>(engine: "cpu" | "native" | "wasm", f: () => T): Promise<T> {
  await initEngine({ engine, quiet: true });
  return f();
}

/** Run f on cpu and on native with the same inputs; returns both outputs as arrays. */
async function both(inputs: { shape: number[]; seed: number }[], f: (...xs: tf.Tensor[]) => tf.Tensor) {
  const data = inputs.map((i) => rand(i.shape.reduce((a, b) => a * b, 1), i.seed));
  const run = (engine: "cpu" | "native") =>
    onEngine(engine, () =>
      tf.tidy(() => {
        const xs = inputs.map((i, j) => tf.tensor(data[j]!, i.shape, "float32"));
        const y = f(...xs);
        return { shape: y.shape, values: y.dataSync() as Float32Array };
      }),
    );
  const ref = await run("cpu");
  const got = await run("native");
  return { ref, got, data };
}

/** |a| * |b| products summed: the error scale of each matmul output element (computed on cpu). */
async function magnitude(shapes: number[][], data: Float32Array[], tA: boolean, tB: boolean): Promise<Float32Array> {
  return onEngine("cpu", () =>
    tf.tidy(() => {
      const a = tf.tensor(data[0]!, shapes[0]!).abs();
      const b = tf.tensor(data[1]!, shapes[1]!).abs();
      return tf.matMul(a, b, tA, tB).dataSync() as Float32Array;
    }),
  );
}

function assertClose(got: Float32Array, ref: Float32Array, scale: Float32Array | number, what: string, rel = 1e-5): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const s = typeof scale === "number" ? scale : scale[i]!;
    const err = Math.abs(got[i]! - ref[i]!) / (s + 1e-30);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= rel, `${what}: worst scaled error ${worst.toExponential(2)} at ${at} (got ${got[at]}, ref ${ref[at]})`);
}

const combos: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** Shape of an operand given its logical [.., rows, cols] and the transpose flag. */
function shapeOf(batch: number[], rows: number, cols: number, t: boolean): number[] {
  return t ? [...batch, cols, rows] : [...batch, rows, cols];
}

test("native engine: activation reports the OpenBLAS core, or the skip reason", { skip }, async () => {
  const info = await initEngine({ engine: "native", quiet: true });
  assert.equal(info.name, "native");
  assert.equal(info.backend, "wasm");
  assert.match(info.detail, /OpenBLAS \S+/);
  assert.ok(nativeKernelsActive());
  for (const k of OVERRIDDEN_KERNELS) assert.ok(tf.getKernel(k, "wasm"), k);
  // Switching away restores the stock wasm kernels, and removes the ones wasm lacks (depthwise backprop).
  await initEngine({ engine: "wasm", quiet: true });
  assert.ok(!nativeKernelsActive());
  for (const k of OVERRIDDEN_KERNELS) assert.equal(!!tf.getKernel(k, "wasm"), !ADDED_KERNELS.has(k), k);
  assert.ok(ADDED_KERNELS.size > 0 && [...ADDED_KERNELS].every((k) => OVERRIDDEN_KERNELS.includes(k)));
});

test("native matMul: all transpose combos, odd and edge sizes", { skip }, async () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 1],
    [7, 13, 5],
    [33, 65, 17],
    [50, 16, 50],
    [128, 64, 192],
    [3, 300, 2],
    [301, 129, 37], // large enough to be split into row bands
    [37, 129, 1001], // split into 16-aligned column bands
  ];
  for (const [m, k, n] of sizes)
    for (const [tA, tB] of combos) {
      const shapes = [shapeOf([], m, k, tA), shapeOf([], k, n, tB)];
      const before = nativeStats.matmul;
      const { ref, got, data } = await both(
        shapes.map((shape, i) => ({ shape, seed: 11 + i + m * 7 + n })),
        (a, b) => tf.matMul(a!, b!, tA, tB),
      );
      assert.ok(nativeStats.matmul > before, "the native kernel ran");
      assert.deepEqual(got.shape, ref.shape);
      assertClose(got.values, ref.values, await magnitude(shapes, data, tA, tB), `matMul ${m}x${k}x${n} tA=${tA} tB=${tB}`);
    }
});

/**
 * The addon's own AVX-512 sgemm takes the large products on AVX-512 CPUs
 * (native/dyt_native.cc ownGemm; OpenBLAS elsewhere and on the capped build).
 * Sizes that reach it: row and column edges of its 12 x 32 tile, K over its
 * 256-row blocks, a row split and a column split over the pool, a batch run
 * product by product and one split by product. On another CPU these run on
 * OpenBLAS and the test checks that instead. The same products in a child
 * with DYT_NATIVE_GEMM=openblas and with 1 thread give the same answers.
 */
const OWN_GEMM_CASES: { batch: number[]; m: number; k: number; n: number }[] = [
  { batch: [], m: 301, k: 300, n: 129 },
  { batch: [], m: 97, k: 40, n: 250 },
  { batch: [], m: 60, k: 520, n: 300 },
  { batch: [3], m: 100, k: 64, n: 96 },
  { batch: [5], m: 64, k: 64, n: 64 },
];

test("native matMul: the sizes the own AVX-512 sgemm takes match cpu in every transpose combo", { skip }, async () => {
  const info = loadAddon()!.info();
  for (const c of OWN_GEMM_CASES)
    for (const [tA, tB] of combos) {
      const shapes = [shapeOf(c.batch, c.m, c.k, tA), shapeOf(c.batch, c.k, c.n, tB)];
      const { ref, got, data } = await both(
        shapes.map((shape, i) => ({ shape, seed: 40 + i + c.m })),
        (a, b) => tf.matMul(a!, b!, tA, tB),
      );
      assert.deepEqual(got.shape, ref.shape);
      assertClose(got.values, ref.values, await magnitude(shapes, data, tA, tB), `matMul [${shapes[0]}]x[${shapes[1]}] tA=${tA} tB=${tB} (${info.gemm})`);
    }
});

test("native matMul: the own sgemm's results do not depend on the thread count, and DYT_NATIVE_GEMM=openblas switches it off", { skip }, () => {
  const script = `
const { initEngine } = require(${JSON.stringify(require.resolve("../lib/engine"))});
const tf = require("@tensorflow/tfjs");
const { lcgValues } = require(${JSON.stringify(require.resolve("./helpers"))});
initEngine({ engine: "native", quiet: true }).then(() => {
  const out = [];
  for (const c of ${JSON.stringify(OWN_GEMM_CASES)}) {
    const a = tf.tensor(lcgValues(c.batch.reduce((p, q) => p * q, 1) * c.m * c.k, 5), [...c.batch, c.m, c.k]);
    const b = tf.tensor(lcgValues(c.batch.reduce((p, q) => p * q, 1) * c.k * c.n, 6), [...c.batch, c.k, c.n]);
    out.push(Buffer.from(tf.matMul(a, b).dataSync().buffer).toString("base64"));
  }
  const gemm = require(${JSON.stringify(require.resolve("../lib/engine/native"))}).loadAddon().info().gemm;
  console.log(JSON.stringify({ gemm, out }));
});`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { gemm: string; out: string[] };
  };
  const two = run({ OPENBLAS_NUM_THREADS: "2" });
  const one = run({ OPENBLAS_NUM_THREADS: "1" });
  assert.deepEqual(one.out, two.out, "1 and 2 threads give the same bits");
  const blas = run({ OPENBLAS_NUM_THREADS: "2", DYT_NATIVE_GEMM: "openblas" });
  assert.equal(blas.gemm, "openblas");
  if (two.gemm !== "openblas") assert.notDeepEqual(blas.out, two.out, "OpenBLAS's own FMA order differs somewhere: the switch took effect");
});

test("native matMul: batched and attention shapes [B,H,T,D] x [B,H,D,T]", { skip }, async () => {
  const cases: { batchA: number[]; batchB: number[]; m: number; k: number; n: number }[] = [
    { batchA: [2, 4], batchB: [2, 4], m: 50, k: 16, n: 50 }, // q k^T
    { batchA: [2, 4], batchB: [2, 4], m: 50, k: 50, n: 16 }, // attn v
    { batchA: [3], batchB: [3], m: 9, k: 31, n: 6 },
    { batchA: [3, 5], batchB: [], m: 7, k: 12, n: 4 }, // x @ W (rank-2 right operand)
    { batchA: [], batchB: [4], m: 5, k: 6, n: 3 }, // broadcast left operand
    { batchA: [1, 3], batchB: [2, 3], m: 4, k: 5, n: 6 }, // size-1 batch dim broadcast
  ];
  for (const c of cases)
    for (const [tA, tB] of combos) {
      const shapes = [shapeOf(c.batchA, c.m, c.k, tA), shapeOf(c.batchB, c.k, c.n, tB)];
      const { ref, got, data } = await both(
        shapes.map((shape, i) => ({ shape, seed: 3 + i })),
        (a, b) => tf.matMul(a!, b!, tA, tB),
      );
      assert.deepEqual(got.shape, ref.shape);
      assertClose(
        got.values,
        ref.values,
        await magnitude(shapes, data, tA, tB),
        `matMul [${shapes[0]}]x[${shapes[1]}] tA=${tA} tB=${tB}`,
      );
    }
});

test("native matMul: general batch broadcast [2,1,..] x [1,3,..] matches explicit broadcast on cpu", { skip }, async () => {
  // The cpu and wasm kernels do not implement this case; the reference tiles first.
  const a = rand(2 * 1 * 4 * 5, 1);
  const b = rand(1 * 3 * 5 * 6, 2);
  const ref = await onEngine("cpu", () =>
    tf.tidy(() => {
      const ta = tf.tensor(a, [2, 1, 4, 5]).tile([1, 3, 1, 1]);
      const tb = tf.tensor(b, [1, 3, 5, 6]).tile([2, 1, 1, 1]);
      return tf.matMul(ta, tb).dataSync() as Float32Array;
    }),
  );
  const got = await onEngine("native", () =>
    tf.tidy(() => {
      const y = tf.matMul(tf.tensor(a, [2, 1, 4, 5]), tf.tensor(b, [1, 3, 5, 6]));
      assert.deepEqual(y.shape, [2, 3, 4, 6]);
      return y.dataSync() as Float32Array;
    }),
  );
  assertClose(got, ref, 5, "general broadcast", 1e-5);
});

test("native matMul gradients (tfjs's own transposed products) match cpu", { skip }, async () => {
  for (const [tA, tB] of combos) {
    const shapes = [shapeOf([2, 4], 50, 16, tA), shapeOf([2, 4], 16, 50, tB)];
    const g = (a: tf.Tensor, b: tf.Tensor) =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB).square().sum())([a, b]);
    const { ref, got } = await both(
      shapes.map((shape, i) => ({ shape, seed: 40 + i })),
      (a, b) => tf.concat(g(a!, b!).map((t) => t.flatten())),
    );
    // Gradients are sums over 50-100 products of O(1) values: scale 100.
    assertClose(got.values, ref.values, 100, `matMul grads tA=${tA} tB=${tB}`);
  }
});

test("native fused matMul (bias + activation) matches cpu", { skip }, async () => {
  for (const activation of ["linear", "relu", "sigmoid", "elu", "leakyrelu"] as const)
    for (const [tA, tB] of combos) {
      const shapes = [shapeOf([], 37, 24, tA), shapeOf([], 24, 19, tB), [19]];
      const before = nativeStats.fusedMatmul;
      const { ref, got } = await both(
        shapes.map((shape, i) => ({ shape, seed: 70 + i })),
        (a, b, bias) => tf.fused.matMul({ a: a!, b: b!, transposeA: tA, transposeB: tB, bias: bias!, activation }),
      );
      assert.ok(nativeStats.fusedMatmul > before, "the native fused kernel ran");
      assertClose(got.values, ref.values, 25, `fused ${activation} tA=${tA} tB=${tB}`);
    }
});

test("native transpose: any rank, exact", { skip }, async () => {
  assert.deepEqual(simplifyTranspose([2, 3, 4, 5], [0, 1, 3, 2]), { shape: [6, 4, 5], perm: [0, 2, 1] });
  assert.deepEqual(simplifyTranspose([6, 7], [1, 0]), { shape: [6, 7], perm: [1, 0] });
  assert.deepEqual(simplifyTranspose([2, 3, 4, 5], [0, 2, 3, 1]), { shape: [2, 3, 20], perm: [0, 2, 1] });
  assert.deepEqual(simplifyTranspose([2, 1, 4, 5], [0, 1, 3, 2]), { shape: [2, 4, 5], perm: [0, 2, 1] });
  assert.deepEqual(simplifyTranspose([2, 3, 4, 5], [0, 2, 1, 3]), { shape: [2, 3, 4, 5], perm: [0, 2, 1, 3] });
  assert.deepEqual(simplifyTranspose([64, 50, 3, 4, 16], [2, 0, 3, 1, 4]), { shape: [64, 50, 3, 4, 16], perm: [2, 0, 3, 1, 4] });
  assert.deepEqual(simplifyTranspose([2, 3, 4], [0, 1, 2]), { shape: [24], perm: [0] });
  assert.deepEqual(simplifyTranspose([5, 1, 1], [2, 0, 1]), { shape: [5], perm: [0] });
  const perms: [number[], number[]][] = [
    [[64, 50, 64], [0, 2, 1]], // batched 2-D swap
    [[8, 4, 50, 16], [0, 1, 3, 2]],
    [[8, 50, 4, 16], [0, 2, 1, 3]], // last axis stays: row copies
    [[8, 50, 4, 16], [0, 2, 3, 1]],
    [[3200, 192], [1, 0]], // one large matrix (split into bands)
    [[512, 1024], [1, 0]],
    [[33, 1, 129], [2, 1, 0]],
    [[5, 7, 9, 11], [3, 2, 1, 0]], // strided gather
    [[16, 50, 3, 4, 16], [2, 0, 3, 1, 4]], // q/k/v split
    [[3, 16, 4, 50, 16], [1, 3, 0, 2, 4]], // its gradient
    [[64, 7, 4, 7, 4, 1], [0, 1, 3, 2, 4, 5]], // ViT patches
    [[2, 3, 5, 7, 11], [4, 0, 3, 1, 2]],
    [[70, 80, 90], [1, 2, 0]],
  ];
  const before = nativeStats.transpose;
  for (const [shape, perm] of perms) {
    const { ref, got } = await both([{ shape, seed: 9 }], (x) => tf.transpose(x!, perm));
    assert.deepEqual(got.shape, ref.shape);
    assert.ok(
      got.values.every((v, i) => v === ref.values[i]),
      `transpose [${shape}] perm [${perm}] differs`,
    );
  }
  assert.equal(nativeStats.transpose - before, perms.length, "every perm ran natively");
});

test("native exp / erf / tanh / sigmoid match cpu within a few ulp, incl. inf, NaN, tiny and huge inputs", { skip }, async () => {
  // 100003 elements: above the threading threshold and not a multiple of the
  // vector width, so the split and the loop tails are exercised.
  const n = 100003;
  const x = rand(n, 77).map((v, i) => (i % 3 === 0 ? v * 20 : i % 3 === 1 ? v * 2 : v * 0.1));
  const special = [0, -0, 1e-30, -1e-30, 1e-8, 0.6249, 0.6251, -0.625, 9, 20, 44, 45, 80, 88.7, 88.8, 100, -80, -87.5, -95, -103.5, -110, Infinity, -Infinity, NaN];
  x.set(special, 0);
  const before = nativeStats.unary;
  for (const op of ["exp", "erf", "tanh", "sigmoid"] as const) {
    const f = (t: tf.Tensor) => (op === "exp" ? tf.exp(t) : op === "erf" ? tf.erf(t) : op === "tanh" ? tf.tanh(t) : tf.sigmoid(t));
    const { ref, got } = await both([{ shape: [n], seed: 0 }], () => f(tf.tensor(x)));
    let worst = 0;
    let at = -1;
    for (let i = 0; i < n; i++) {
      const r = ref.values[i]!;
      const g = got.values[i]!;
      if (Number.isNaN(r) || Number.isNaN(g)) {
        assert.ok(Number.isNaN(r) && Number.isNaN(g), `${op}(${x[i]}): ${g} vs ${r}`);
        continue;
      }
      if (!Number.isFinite(r) || !Number.isFinite(g)) {
        assert.equal(g, r, `${op}(${x[i]})`);
        continue;
      }
      // ~4 ulp relative, with an absolute floor of 4 ulp of 1 for erf (its
      // formula's own error is 1.5e-7) and 1e-37 (subnormal results).
      const tol = 4.8e-7 * Math.abs(r) + (op === "erf" ? 4.8e-7 : 1e-37);
      const e = Math.abs(g - r) / tol;
      if (e > worst) {
        worst = e;
        at = i;
      }
    }
    assert.ok(worst <= 1, `${op}: worst error ${worst.toFixed(2)} x tolerance at x=${x[at]} (got ${got.values[at]}, ref ${ref.values[at]})`);
  }
  assert.equal(nativeStats.unary - before, 3, "exp, erf, tanh ran natively (sigmoid stays on wasm)");
});

test("native sum over contiguous axis blocks, unstack and split match cpu", { skip }, async () => {
  assert.deepEqual(sumGeometry([64, 50, 256], [0, 1]), [1, 3200, 256]);
  assert.deepEqual(sumGeometry([64, 50, 256], [2]), [3200, 256, 1]);
  assert.deepEqual(sumGeometry([4, 1, 5, 6], [0, 2]), [1, 20, 6]);
  assert.deepEqual(sumGeometry([4, 5, 6], [1]), [4, 5, 6]);
  assert.equal(sumGeometry([4, 5, 6], [0, 2]), undefined);
  const cases: [number[], number[], boolean][] = [
    [[64, 50, 64], [0, 1], false], // bias / gamma gradients
    [[3200, 256], [0], false],
    [[64, 50, 256], [2], true], // row sums
    [[64, 4, 50, 50], [3], false],
    [[7, 13, 300], [1], true], // middle axis
    [[2, 1, 333, 5], [0, 1, 2], false],
    [[100003], [0], false], // vector: partial sums + tail
    [[5, 7, 9], [0, 2], false], // not contiguous: delegated
  ];
  const before = nativeStats.sum;
  for (const [shape, axes, keep] of cases) {
    const { ref, got, data } = await both([{ shape, seed: 21 }], (x) => tf.sum(x!, axes, keep));
    assert.deepEqual(got.shape, ref.shape);
    // Both accumulate in double; allow rounding differences of 1e-6 of sum|x|.
    const scale = await onEngine("cpu", () => tf.tidy(() => tf.sum(tf.abs(tf.tensor(data[0]!, shape)), axes, keep).dataSync() as Float32Array));
    assertClose(got.values, ref.values, scale, `sum [${shape}] axes [${axes}]`, 1e-6);
  }
  assert.equal(nativeStats.sum - before, cases.length - 1, "all contiguous cases ran natively");
  const u0 = nativeStats.unpack;
  for (const [shape, axis] of [
    [[3, 16, 4, 50, 16], 0],
    [[16, 50, 3, 64], 2],
    [[6, 7, 8], -1],
  ] as [number[], number][]) {
    const { ref, got } = await both([{ shape, seed: 5 }], (x) => tf.concat(tf.unstack(x!, axis).map((t) => t.flatten())));
    assert.ok(got.values.every((v, i) => v === ref.values[i]), `unstack [${shape}] axis ${axis}`);
  }
  assert.equal(nativeStats.unpack - u0, 3);
  const s0 = nativeStats.split;
  for (const [shape, axis, sizes] of [
    [[16, 256, 192], -1, 3], // Hyena's x0 | x1 | v
    [[16, 49, 1024], 2, [512, 0, 512]],
    [[5, 60, 7], 1, [10, 20, 30]],
    [[600], 0, 4],
  ] as [number[], number, number | number[]][]) {
    const { ref, got } = await both([{ shape, seed: 6 }], (x) => tf.concat(tf.split(x!, sizes, axis).map((t) => t.flatten())));
    assert.ok(got.values.every((v, i) => v === ref.values[i]), `split [${shape}] axis ${axis} into ${sizes}`);
  }
  assert.equal(nativeStats.split - s0, 4);
  // Concat: native strided copies (the ViT's q|k|v gradient, a middle axis, an empty input).
  const c0 = nativeStats.concat;
  for (const [shapes, axis] of [
    [[[64, 50, 64], [64, 50, 64], [64, 50, 64]], -1],
    [[[4, 3, 20], [4, 5, 20], [4, 0, 20]], 1],
    [[[300], [400]], 0],
  ] as [number[][], number][]) {
    const { ref, got } = await both(shapes.map((shape, i) => ({ shape, seed: 30 + i })), (...xs) => tf.concat(xs, axis));
    assert.deepEqual(got.shape, ref.shape);
    assert.ok(got.values.every((v, i) => v === ref.values[i]), `concat [${shapes.map((x) => `[${x}]`).join(", ")}] axis ${axis}`);
  }
  assert.equal(nativeStats.concat - c0, 3);
  // GatherV2 on axis 0 (embedding lookups): native row copies, bit for bit.
  const r0 = nativeStats.rows;
  const ids = Array.from({ length: 4096 }, (_, i) => (i * 7919) % 257);
  const { ref: gref, got: ggot } = await both([{ shape: [257, 64], seed: 8 }], (x) => tf.gather(x!, tf.tensor1d(ids, "int32")));
  assert.deepEqual(ggot.shape, [4096, 64]);
  assert.ok(ggot.values.every((v, i) => v === gref.values[i]), "gather [257, 64] by 4096 ids");
  assert.equal(nativeStats.rows - r0, 1);
  await onEngine("native", () => assert.throws(() => tf.tidy(() => tf.gather(tf.zeros([5, 64]), tf.tensor1d([1, 5], "int32")).dataSync()), /index 5 is not in \[0, 4\]/));
});

test("native fused GELU (forward and gradient) matches the cpu engine's op chain, saturated tails included", { skip }, async () => {
  const g0 = nativeStats.gelu;
  const shape = [64, 49, 256];
  // rand gives [-1, 1): scale to cover the bend, both tails (erf saturates, exp underflows) and exact zeros.
  const f = (x: tf.Tensor) => tf.mul(x, tf.tensor1d(Array.from({ length: 256 }, (_, i) => (i < 8 ? 0 : i < 200 ? 4 : 60))));
  const fwd = await both([{ shape, seed: 41 }], (x) => gelu(f(x!)));
  const rel = (r: Float32Array) => r.map((v) => Math.max(1, Math.abs(v)));
  assertClose(fwd.got.values, fwd.ref.values, rel(fwd.ref.values), "gelu forward", 2e-6);
  const bwd = await both([{ shape, seed: 42 }, { shape, seed: 43 }], (x, dy) => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(gelu(f(z)), dy!)))(x!));
  // Absolute: erf's own error (~5e-7, as the unary test allows) survives the cancellation in cdf + x pdf for x < 0; the chain's factor is 4.
  assertClose(bwd.got.values, bwd.ref.values, bwd.ref.values.map((v) => Math.max(4, Math.abs(v))), "gelu gradient", 2e-6);
  assert.equal(nativeStats.gelu - g0, 3, "one fused kernel each way: the forward, then the forward and gradient");
});

test("native matmul log: off by default, and while on records each product's sizes, FLOPs and time", { skip }, async () => {
  await onEngine("native", () => {
    matmulLog.calls = [];
    tf.tidy(() => tf.matMul(tf.ones([3, 5, 7]), tf.ones([3, 7, 2])).dataSync());
    assert.equal(matmulLog.calls.length, 0, "nothing logged while off");
    matmulLog.on = true;
    try {
      tf.tidy(() => tf.matMul(tf.ones([3, 5, 7]), tf.ones([3, 2, 7]), false, true).dataSync());
    } finally {
      matmulLog.on = false;
    }
    assert.equal(matmulLog.calls.length, 1);
    const c = matmulLog.calls[0]!;
    assert.deepEqual([c.batch, c.m, c.k, c.n, c.flops], [3, 5, 7, 2, 2 * 3 * 5 * 7 * 2]);
    assert.ok(c.ms >= 0);
    matmulLog.calls = [];
  });
});

test("native engine: heap growth during a kernel keeps results right", { skip }, async () => {
  // An output larger than the whole current wasm heap forces the memory to
  // grow inside makeOutput; the kernel must take the heap buffer after that.
  await initEngine({ engine: "native", quiet: true });
  const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
  const before = heapBytes();
  const n = 1024;
  const k = 8;
  const m = Math.ceil(before / (4 * n)) + 64;
  const a = rand(m * k, 5);
  const b = rand(k * n, 6);
  const got = tf.tidy(() => tf.matMul(tf.tensor(a, [m, k]), tf.tensor(b, [k, n])).dataSync() as Float32Array);
  assert.ok(heapBytes() > before, `the heap grew (${before} -> ${heapBytes()})`);
  const ref = await onEngine("cpu", () => tf.tidy(() => tf.matMul(tf.tensor(a, [m, k]), tf.tensor(b, [k, n])).dataSync() as Float32Array));
  assertClose(got, ref, k, `${m}x${k}x${n}`, 1e-5);
});

test("tiny 2-layer MLP: 5 AdamW-style steps give the same losses on native and cpu", { skip }, async () => {
  const X = rand(32 * 20, 100);
  const Y = rand(32 * 3, 101);
  const W1 = rand(20 * 64, 102).map((v) => v * 0.3);
  const W2 = rand(64 * 3, 103).map((v) => v * 0.3);
  const train = (engine: "cpu" | "native") =>
    onEngine(engine, () => {
      const x = tf.tensor(X, [32, 20]);
      const y = tf.tensor(Y, [32, 3]);
      const w1 = tf.variable(tf.tensor(W1, [20, 64]));
      const b1 = tf.variable(tf.zeros([64]));
      const w2 = tf.variable(tf.tensor(W2, [64, 3]));
      const opt = tf.train.adam(1e-2);
      const losses: number[] = [];
      for (let s = 0; s < 5; s++) {
        const loss = opt.minimize(() => tf.matMul(tf.relu(tf.matMul(x, w1).add(b1)), w2).sub(y).square().mean() as tf.Scalar, true)!;
        losses.push(loss.dataSync()[0]!);
        loss.dispose();
      }
      const w = (w2.dataSync() as Float32Array).slice();
      tf.dispose([x, y, w1, b1, w2]);
      opt.dispose();
      return { losses, w };
    });
  const ref = await train("cpu");
  const got = await train("native");
  for (let i = 0; i < 5; i++)
    assert.ok(Math.abs(got.losses[i]! - ref.losses[i]!) <= 1e-5 * Math.abs(ref.losses[i]!), `step ${i}: ${got.losses[i]} vs ${ref.losses[i]}`);
  assertClose(got.w, ref.w, 1, "trained W2", 1e-4);
  assert.ok(ref.losses[4]! < ref.losses[0]!, "the loss went down");
});

test("engine fallback: a missing addon gives a one-line reason", async () => {
  // Run in a child process so this process's engine state is untouched.
  const { execFileSync } = await import("node:child_process");
  const script = `
    process.env.DYT_NATIVE_ADDON = "/nonexistent/dyt_native.node";
    const { initEngine } = require(${JSON.stringify(require.resolve("../lib/engine"))});
    (async () => {
      let msg = "";
      try { await initEngine({ engine: "native", quiet: true }); } catch (e) { msg = e.message; }
      const auto = await initEngine({ engine: "auto", quiet: true });
      console.log(JSON.stringify({ msg, auto: auto.name }));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim().split("\n").pop()!);
  assert.match(out.msg, /native.*not built/);
  assert.ok(!out.msg.includes("\n"));
  assert.equal(out.auto, "wasm");
});
