// Fake quantisation: every int8 / FP8 vector of baselines.md section 3, plus an
// exhaustive FP8 check against an independent bit-pattern decoder, on the
// cpu AND wasm backends (rounding kernels differ per backend).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import {
  tfRoundIsHalfEven,
  roundHalfEven,
  roundHalfEvenManual,
  quantizeInt8,
  fakeQuantInt8,
  AmaxCalibrator,
  fp8Round,
  fakeQuantFp8,
  quantizeFp8Scaled,
  FP8_FORMATS,
  type Fp8Format,
} from "../lib/analysis";

const BACKENDS = ["cpu", "wasm"] as const;

function data(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

function closeArr(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-5, what = ""): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}] got ${a}, expected NaN`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert.equal(a, e, `${what}[${i}]`);
      continue;
    }
    const tol = e === 0 ? 1e-7 : rel * Math.abs(e);
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}] got ${a}, expected ${e}`);
  }
}

/** Exact comparison (0 and -0 equal, NaN equals NaN). */
function exactArr(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ""): void {
  closeArr(actual, expected, 0, what);
  for (let i = 0; i < expected.length; i++) if (!Number.isNaN(expected[i]!)) assert.ok(actual[i] === expected[i], `${what}[${i}] got ${actual[i]}, expected ${expected[i]}`);
}

/** All finite non-negative values of a format, decoded from bit patterns (independent of fp8Round). */
function fp8Values(fmt: Fp8Format): number[] {
  const [E, M, bias] = fmt === "e5m2" ? [5, 2, 15] : fmt === "e4m3fn" ? [4, 3, 7] : [4, 3, 8];
  const out: number[] = [];
  for (let code = 0; code < 1 << (E + M); code++) {
    const e = code >> M;
    const m = code & ((1 << M) - 1);
    if (fmt === "e5m2" && e === 31) continue; // inf / NaN
    if (fmt === "e4m3fn" && e === 15 && m === 7) continue; // NaN
    out.push(e === 0 ? (m / (1 << M)) * 2 ** (1 - bias) : (1 + m / (1 << M)) * 2 ** (e - bias));
  }
  return out; // ascending, codes in order; even code <=> even mantissa LSB
}

for (const backend of BACKENDS) {
  test(`[${backend}] tf.round is round-half-even; manual RNE agrees`, async () => {
    await initEngine({ engine: backend, quiet: true });
    assert.equal(tf.getBackend(), backend);
    assert.equal(tfRoundIsHalfEven(), true);
    const x = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49999997, -0.49999997, 2.5000002, 1e7 + 0.5, 8388607.5, 0.3, -7.7, 0, 126.5, -127.5];
    const want = [0, 2, 2, 4, 0, -2, -2, -4, 0, 0, 3, 1e7, 8388608, 0, -8, 0, 126, -128];
    exactArr(data(roundHalfEven(tf.tensor1d(x))), want, "roundHalfEven");
    exactArr(data(roundHalfEvenManual(tf.tensor1d(x))), want, "roundHalfEvenManual");
    const bad = data(roundHalfEvenManual(tf.tensor1d([NaN, Infinity, -Infinity])));
    assert.ok(Number.isNaN(bad[0]!) && bad[1] === Infinity && bad[2] === -Infinity);
  });

  test(`[${backend}] int8 vectors (baselines.md)`, async () => {
    await initEngine({ engine: backend, quiet: true });
    const before = tf.memory().numTensors;
    // Static s = 1 (and the same via amax = 127): ties 2.5 -> 2, 3.5 -> 4, 130 clips.
    const xs = tf.tensor1d([-127, 2.5, 3.5, -0.5, 50.2, 130]);
    for (const opts of [{ scale: 1 }, { amax: 127 }]) {
      const r = quantizeInt8(xs, opts);
      exactArr(data(r.q), [-127, 2, 4, -0, 50, 127], "static q");
      exactArr(data(r.scale), [1]);
      r.xHat.dispose();
    }
    xs.dispose();
    // Per tensor.
    const xp = tf.tensor1d([-1, -0.3, 0.02, 0.9]);
    const rp = quantizeInt8(xp);
    closeArr(data(rp.scale), [0.007874016], 1e-5, "s");
    exactArr(data(rp.q), [-127, -38, 3, 114], "q");
    closeArr(data(rp.xHat), [-1, -0.299213, 0.023622, 0.897638], 1e-5, "x_hat");
    xp.dispose();
    // Matrix per row (amax over the last axis) and per tensor.
    const W = [
      [0.5, -1, 0.25],
      [2, 0.1, -0.3],
    ];
    const w = tf.tensor2d(W);
    const rr = quantizeInt8(w, { amaxAxis: -1 });
    exactArr(data(rr.q), [64, -127, 32, 127, 6, -19], "per row q");
    assert.deepEqual(rr.scale.shape, [2, 1]);
    rr.scale.dispose();
    rr.xHat.dispose();
    const rt = quantizeInt8(w);
    exactArr(data(rt.q), [32, -64, 16, 127, 6, -19], "per tensor q");
    rt.scale.dispose();
    rt.xHat.dispose();
    // tfjs kernel [in, out] = W^T: per output channel is amax over axis 0; same codes, transposed.
    const k = tf.transpose(w);
    const rk = quantizeInt8(k, { amaxAxis: 0 });
    exactArr(data(tf.transpose(rk.q)), [64, -127, 32, 127, 6, -19], "per out-channel q");
    assert.deepEqual(rk.scale.shape, [1, 2]);
    tf.dispose([w, k, rk.q, rk.scale, rk.xHat]);
    // All-zero tensor: finite scale, zero output, no NaN.
    const z = tf.zeros([3]);
    exactArr(data(fakeQuantInt8(z)), [0, 0, 0], "zeros");
    z.dispose();
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  });

  test(`[${backend}] static calibration takes the max over batches`, async () => {
    await initEngine({ engine: backend, quiet: true });
    const cal = new AmaxCalibrator();
    for (const b of [
      [0.5, -2],
      [3, 1],
      [-2.5, 0],
    ]) {
      const t = tf.tensor1d(b);
      cal.observe(t);
      t.dispose();
    }
    assert.equal(cal.amax, 3);
    assert.equal(cal.count, 3);
  });

  test(`[${backend}] FP8 vectors (baselines.md), saturating and non-saturating`, async () => {
    await initEngine({ engine: backend, quiet: true });
    const before = tf.memory().numTensors;
    const check = (fmt: Fp8Format, rows: [number, number, number][]): void => {
      const x = tf.tensor1d(rows.map((r) => r[0]));
      exactArr(data(fp8Round(x, fmt, { saturate: true })), rows.map((r) => r[1]), `${fmt} sat`);
      exactArr(data(fp8Round(x, fmt, { saturate: false })), rows.map((r) => r[2]), `${fmt} nonsat`);
      x.dispose();
    };
    const same = (pairs: [number, number][]): [number, number, number][] => pairs.map(([a, b]) => [a, b, b]);
    check("e4m3fn", [
      [448, 448, 448],
      [464, 448, 448],
      [465, 448, NaN],
      [500, 448, NaN],
      [-465, -448, NaN],
      ...same([
        [240, 240],
        [232, 224],
        [250, 256],
        [17.5, 18],
        [18.5, 18],
        [1.0625, 1],
        [1.1875, 1.25],
        [-3.3, -3.25],
        [0.1, 0.1015625],
        [2 ** -10, 0],
        [1.5 * 2 ** -10, 2 ** -9],
        [3 * 2 ** -10, 2 ** -8],
        [0.001, 0.001953125],
        [0, 0],
      ]),
      [Infinity, 448, NaN],
      [NaN, NaN, NaN],
    ]);
    check("e5m2", [
      [57344, 57344, 57344],
      [61439, 57344, 57344],
      [61440, 57344, Infinity],
      [-61440, -57344, -Infinity],
      ...same([
        [300, 320],
        [17.5, 16],
        [18.5, 20],
        [0.1, 0.09375],
        [-3.3, -3.5],
        [2 ** -17, 0],
        [1.5 * 2 ** -17, 2 ** -16],
        [3 * 2 ** -17, 2 ** -15],
      ]),
      [Infinity, 57344, Infinity],
      [-Infinity, -57344, -Infinity],
      [NaN, NaN, NaN],
    ]);
    check("e4m3fnuz", [
      [240, 240, 240],
      [248, 240, NaN],
      [-248, -240, NaN],
      [2 ** -10, 2 ** -10, 2 ** -10], // smallest subnormal of FNUZ (emin -7, M 3)
      [2 ** -11, 0, 0], // tie with 0 -> even (0)
    ]);
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  });

  test(`[${backend}] FP8 exhaustive: codes, midpoint ties and neighbours vs bit-pattern decoder`, async () => {
    await initEngine({ engine: backend, quiet: true });
    for (const fmt of Object.keys(FP8_FORMATS) as Fp8Format[]) {
      const vals = fp8Values(fmt);
      assert.equal(vals[vals.length - 1], FP8_FORMATS[fmt].max);
      const xs: number[] = [];
      const want: number[] = [];
      const push = (x: number, w: number): void => {
        xs.push(x, -x);
        want.push(w, -w);
      };
      for (let i = 0; i < vals.length; i++) {
        push(vals[i]!, vals[i]!);
        if (i + 1 < vals.length) {
          const lo = vals[i]!;
          const hi = vals[i + 1]!;
          const mid = (lo + hi) / 2; // exact in float32 (<= 5 significant bits)
          push(mid, i % 2 === 0 ? lo : hi); // tie -> even code
          push(Math.fround(mid * (1 - 2 ** -20)), lo); // just below the tie
          push(Math.fround(mid * (1 + 2 ** -20)), hi); // just above
        }
      }
      const got = data(fp8Round(tf.tensor1d(xs), fmt));
      exactArr(got, want, `${fmt} exhaustive`);
    }
  });

  test(`[${backend}] scaled FP8: x_hat = fp8(x/s)*s with s = amax/MAX`, async () => {
    await initEngine({ engine: backend, quiet: true });
    const x = tf.tensor1d([-2, 0.3, 1.1, 0.01]);
    const r = quantizeFp8Scaled(x, "e4m3fn");
    const s = data(r.scale)[0]!;
    closeArr([s], [2 / 448], 1e-6, "s");
    // Reference: round x/s on the host decoder grid, then multiply back.
    const grid = fp8Values("e4m3fn");
    const nearest = (v: number): number => {
      const a = Math.abs(v);
      let best = 0;
      for (let i = 0; i < grid.length; i++) if (Math.abs(grid[i]! - a) < Math.abs(grid[best]! - a)) best = i;
      return Math.sign(v) * grid[best]!;
    };
    const want = [-2, 0.3, 1.1, 0.01].map((v) => nearest(Math.fround(Math.fround(v) / s)) * s);
    closeArr(data(r.xHat), want, 1e-6, "x_hat");
    closeArr(data(fakeQuantFp8(x, "e4m3fn")), want, 1e-6, "fakeQuantFp8");
    exactArr(data(fakeQuantFp8(x, "e5m2", { scaled: false })), data(fp8Round(x, "e5m2")), "unscaled");
    const z = tf.zeros([2]);
    exactArr(data(fakeQuantFp8(z, "e4m3fn")), [0, 0], "zeros");
    tf.dispose([x, z]);
  });
}
