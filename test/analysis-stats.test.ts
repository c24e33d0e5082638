// Statistics, special functions, kurtosis and the tanh fit. Reference values
// from scipy 1.17 / numpy 2.4 (float64) unless marked hand-computed.
import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import {
  erf,
  erfc,
  normalCdf,
  normalQuantile,
  studentTTwoSided,
  mean,
  std,
  variance,
  quantile,
  median,
  summarize,
  pearson,
  pearsonOverSeeds,
  bootstrapMeanCI,
  withinNoise,
  linearFit,
  logLogSlope,
  alphaVsInvStd,
  kurtosis,
  fitTanh,
} from "../lib/analysis";

before(async () => {
  await initEngine({ engine: "cpu", quiet: true });
});

function close(actual: number, expected: number, rel = 1e-12, abs = 0, what = ""): void {
  const tol = Math.max(abs, rel * Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what} got ${actual}, expected ${expected} (tol ${tol})`);
}

test("special functions match scipy", () => {
  const erfRef: [number, number][] = [
    [0.1, 0.1124629160182849],
    [1.0, 0.8427007929497149],
    [2.4, 0.999311486103355],
    [2.6, 0.9997639655834707],
    [3.5, 0.9999992569016276],
    [-5, -0.9999999999984626],
  ];
  for (const [x, e] of erfRef) close(erf(x), e, 1e-14, 1e-16, `erf(${x})`);
  close(erfc(3.5), 1 - 0.9999992569016276, 1e-9, 0, "erfc(3.5)");
  close(normalCdf(-1.3), 0.09680048458561036, 1e-13);
  close(normalCdf(0.4), 0.6554217416103242, 1e-13);
  close(normalCdf(-8), 6.22096057427174e-16, 1e-9); // tail stays accurate (no 1 - x cancellation)
  const q: [number, number][] = [
    [0.975, 1.959963984540054],
    [0.95, 1.6448536269514722],
    [1e-10, -6.361340902404056],
    [0.999, 3.090232306167813],
  ];
  for (const [p, z] of q) close(normalQuantile(p), z, 1e-12, 0, `ppf(${p})`);
  close(normalQuantile(0.5), 0, 0, 1e-15);
  close(studentTTwoSided(2.5, 3.7), 0.07182202291182678, 1e-11);
  close(studentTTwoSided(0.3, 1), 0.8144528418445154, 1e-11);
  close(studentTTwoSided(10, 50), 1.6077334688335447e-13, 1e-8);
});

test("mean, std, quantiles, summarize", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  close(std([1, 2, 3, 4]), 1.118033988749895); // population
  close(std([1, 2, 3, 4], 1), 1.2909944487358056); // sample
  close(variance(new Float32Array([1, 2, 3, 4]), 1), 5 / 3);
  assert.deepEqual([0.1, 0.5, 0.9].map((p) => quantile([3, 1, 4, 1, 5], p)).map((v) => +v.toFixed(12)), [1, 3, 4.6]);
  assert.equal(median([5, 1, 3, 2]), 2.5);
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  assert.equal(s.min, 2);
  assert.equal(s.max, 9);
  close(s.std, Math.sqrt(32 / 7));
  assert.deepEqual(summarize([3]), { mean: 3, std: 0, min: 3, max: 3, n: 1 });
  assert.equal(summarize([]).n, 0);
});

test("pearson r, p and Fisher-z CI match scipy.stats.pearsonr", () => {
  const x = [1, 2, 3, 4, 5, 6];
  const y = [1, 3, 2, 5, 4, 6];
  const p = pearson(x, y);
  close(p.r, 0.8857142857142857, 1e-14);
  close(p.p, 0.018845481049562695, 1e-10);
  close(p.ci[0], 0.26371272512610855, 1e-12);
  close(p.ci[1], 0.9874704963803648, 1e-12);
  const p90 = pearson(x, y, 0.9);
  close(p90.ci[0], 0.4235609087367149, 1e-12);
  close(p90.ci[1], 0.982021104221643, 1e-12);
  assert.equal(pearson([1, 2, 3], [2, 4, 6]).r, 1);
  assert.ok(Number.isNaN(pearson([1, 2, 3], [1, 3, 2]).ci[0])); // n < 4: no Fisher CI
  assert.throws(() => pearson([1, 2], [1]));
});

test("bootstrap CI over seeds is deterministic and sane", () => {
  const v = [1.0, 1.3, 0.8, 1.1, 1.2];
  const a = bootstrapMeanCI(v, { seed: 7, iters: 500 });
  const b = bootstrapMeanCI(v, { seed: 7, iters: 500 });
  assert.deepEqual(a, b);
  assert.equal(a.estimate, mean(v));
  assert.ok(a.lo <= a.estimate && a.estimate <= a.hi && a.lo >= 0.8 && a.hi <= 1.3);
  const c = bootstrapMeanCI([2, 2, 2], { iters: 100 });
  assert.deepEqual([c.lo, c.hi], [2, 2]);
  // Three seeds, each a perfect positive relation across 4 layers.
  const seeds = [0, 1, 2].map((s) => ({ x: [1, 2, 3, 4], y: [1, 2, 3, 4].map((v) => 2 * v + s) }));
  const r = pearsonOverSeeds(seeds, { iters: 200 });
  assert.deepEqual(r.perSeed, [1, 1, 1]);
  assert.equal(r.meanR, 1);
  assert.deepEqual([r.bootstrap.lo, r.bootstrap.hi], [1, 1]);
  assert.equal(r.pooled.n, 12);
  assert.ok(r.pooled.r > 0.9 && r.pooled.r < 1);
});

test("withinNoise: Welch p matches scipy, rule |diff| < 2 se", () => {
  const t1 = withinNoise([1.0, 1.2, 0.9, 1.1], [1.5, 1.7, 1.4]);
  close(t1.t, -4.422458539645533, 1e-12);
  close(t1.df, 3.9593147751605993, 1e-12);
  close(t1.p, 0.011756015260926784, 1e-9);
  assert.equal(t1.within, false);
  const t2 = withinNoise([2.0, 2.1, 1.9], [2.05, 2.0, 2.15, 1.95]);
  close(t2.t, -0.5222329678670883, 1e-12);
  close(t2.df, 3.990093635500064, 1e-12);
  close(t2.p, 0.6291595910817417, 1e-9);
  assert.equal(t2.within, true);
  // One seed on a side: borrows the other side's variance (hand-computed).
  const vb = variance([1.5, 1.7, 1.4], 1);
  const t3 = withinNoise([1.0], [1.5, 1.7, 1.4]);
  close(t3.se, Math.sqrt(vb / 1 + vb / 3));
  assert.equal(t3.df, 2);
  assert.ok(t3.note);
  const t4 = withinNoise([1], [2]);
  assert.equal(t4.within, false);
  assert.ok(Number.isNaN(t4.p));
  const t5 = withinNoise([1, 1], [1, 1]);
  assert.equal(t5.within, true);
  assert.equal(t5.p, 1);
});

test("linear and log-log fits; a vs 1/std", () => {
  const f = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
  close(f.slope, 2);
  close(f.intercept, 1);
  close(f.r2, 1);
  const x = [0.5, 1, 2, 4, 8];
  const ll = logLogSlope(
    x,
    x.map((v) => 3 * v ** 0.7),
  );
  close(ll.slope, 0.7, 1e-12);
  close(ll.intercept, Math.log(3), 1e-12);
  assert.throws(() => logLogSlope([1, -1], [1, 1]), /not positive/);
  // a_l = 0.8 / std_l exactly: slope 1 in log-log, r = 1.
  const stds = [0.5, 1, 2, 4];
  const av = alphaVsInvStd(
    stds.map((s) => 0.8 / s),
    stds,
  );
  close(av.logLog.slope, 1, 1e-12);
  close(av.pearson.r, 1, 1e-12);
});

test("kurtosis vectors (baselines.md) on arrays, Float32Array and tensors", () => {
  const cases: [number[], number, number][] = [
    [[1, 2, 3, 4], 1.64, -1.36],
    [[0, 0, 0, 0, 10], 3.25, 0.25],
    [[-1, 1, -1, 1], 1.0, -2.0],
  ];
  for (const [x, k, ex] of cases) {
    for (const input of [x, Float32Array.from(x)]) {
      const r = kurtosis(input);
      close(r.k, k, 1e-12);
      close(r.excess, ex, 1e-12);
    }
    const t = tf.tensor(x, [x.length], "float32");
    close(kurtosis(t).k, k, 1e-5);
    t.dispose();
  }
});

test("tanh fit recovers k, s noise-free; reports R^2 on a linear relation", () => {
  const x = Array.from({ length: 201 }, (_, i) => -4 + (8 * i) / 200);
  const f = fitTanh(
    x,
    x.map((v) => 1.7 * Math.tanh(0.8 * v)),
  );
  close(f.k, 1.7, 1e-4);
  close(f.s, 0.8, 1e-4);
  close(f.r2, 1, 1e-9);
  assert.ok(f.converged);
  // Negative sign and a sharp tanh: canonical s >= 0, k carries the sign.
  const g = fitTanh(
    Float32Array.from(x),
    Float32Array.from(x, (v) => -2 * Math.tanh(3 * v)),
  );
  close(g.k, -2, 1e-4);
  close(g.s, 3, 1e-4);
  // LN on one token is linear: no finite optimum, but R^2 ~ 1 and maxArg flags it.
  const h = fitTanh(
    x,
    x.map((v) => 0.5 * v),
  );
  assert.ok(h.r2 > 0.9999, `r2 ${h.r2}`);
  close(h.k * h.s, 0.5, 1e-2);
  assert.ok(h.maxArg < 0.5, `maxArg ${h.maxArg}`);
  // Pure noise around 0: R^2 is near 0, not NaN.
  const n = fitTanh(
    x,
    x.map((_, i) => ((i * 7919) % 13) / 13 - 0.5),
  );
  assert.ok(Number.isFinite(n.r2) && n.r2 < 0.2);
});
