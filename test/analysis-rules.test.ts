// Outlier-feature rule, loss-spike rule, divergence rule and LR sensitivity:
// baselines.md vectors plus small hand-computed cases.
import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { Rng } from "../lib/util/rng";
import { outlierFeatures, magnitudeStats, detectSpikes, divergence, isDiverged, chanceLoss, lrSensitivity, summarizeRun, type FeatureMatrix } from "../lib/analysis";

before(async () => {
  await initEngine({ engine: "cpu", quiet: true });
});

function close(a: number, e: number, rel = 1e-12): void {
  assert.ok(Math.abs(a - e) <= rel * Math.abs(e) + 1e-15, `got ${a}, expected ${e}`);
}

function mapData(m: FeatureMatrix, f: (v: number, i: number) => number): FeatureMatrix {
  return { ...m, data: Float32Array.from(m.data, f) };
}

/** 100 positions x 8 features of small noise (|x| < ~2.5). */
function background(rng: Rng): Float32Array {
  return Float32Array.from({ length: 100 * 8 }, () => 0.5 * rng.normal());
}

test("outlier rule: the 4 layers x 100 positions x 8 features vector", () => {
  const rng = new Rng(1);
  const layers: FeatureMatrix[][] = [];
  for (let l = 0; l < 4; l++) {
    const qkvIn = background(rng);
    const fc1In = background(rng);
    for (let t = 0; t < 100; t++) {
      qkvIn[t * 8 + 1] = 5.9; // feature 1: 5.9 everywhere -> below 6, never counts
      fc1In[t * 8 + 1] = -5.9;
    }
    if (l < 2) for (let t = 0; t < 10; t++) fc1In[t * 8 + 3] = 7; // feature 3: 10% of positions, 2 of 4 layers
    for (let t = 0; t < 3; t++) qkvIn[(10 + t) * 8 + 5] = -6; // feature 5: 3% of positions (|x| = 6 counts), all layers
    layers.push([
      { data: qkvIn, positions: 100, features: 8 },
      { data: fc1In, positions: 100, features: 8 },
    ]);
  }
  const r = outlierFeatures(layers);
  assert.deepEqual(r.outliers, [3]);
  assert.equal(r.count, 1);
  assert.equal(r.layerFraction[3], 0.5);
  assert.equal(r.positionFraction[3], 0.1);
  assert.equal(r.layerFraction[5], 1);
  assert.equal(r.positionFraction[5], 0.03);
  assert.equal(r.layerFraction[1], 0);
  assert.equal(r.tensors.length, 8);
  assert.ok(r.tensors.every((t) => t.threshold === 6));
  // 1 of 4 layers is still >= 25%.
  const one = outlierFeatures(layers.map((ts, l) => (l === 1 ? ts.map((m) => mapData(m, (v, i) => (i % 8 === 3 ? 0 : v))) : ts)));
  assert.deepEqual(one.outliers, [3]);
  assert.equal(one.layerFraction[3], 0.25);
  // Hits in 2 layers, but 5 positions (5% < 6%): not an outlier.
  const few = outlierFeatures(layers.map((ts) => ts.map((m) => mapData(m, (v, i) => (i % 8 === 3 && i >= 5 * 8 ? Math.min(v, 1) : v)))));
  assert.deepEqual(few.outliers, []);
});

test("outlier rule: RMS-relative variant is scale-free; tensors [B,T,C] pool positions", () => {
  // 10 positions x 4 features: 0.5 everywhere, feature 2 = 10 at one position (10%).
  const data = new Float32Array(40).fill(0.5);
  data[3 * 4 + 2] = 10;
  const rms = Math.sqrt((39 * 0.25 + 100) / 40); // 6*rms = 9.94 <= 10
  const small = data.map((v) => v * 0.1); // 1.0 max: no absolute-6 hits
  const absR = outlierFeatures([[{ data: small, positions: 10, features: 4 }]]);
  assert.deepEqual(absR.outliers, []);
  const relR = outlierFeatures([[{ data: small, positions: 10, features: 4 }]], { relative: true });
  assert.deepEqual(relR.outliers, [2]);
  close(relR.tensors[0]!.threshold, 6 * 0.1 * rms, 1e-6);
  const st = magnitudeStats(data);
  close(st.rms, rms, 1e-7);
  close(st.maxOverRms, 10 / rms, 1e-7);
  // The same matrix as a [2, 5, 4] tensor: B*T = 10 positions.
  const t = tf.tensor3d(data, [2, 5, 4]);
  const tr = outlierFeatures([[t]]);
  t.dispose();
  assert.deepEqual(tr.outliers, [2]);
  assert.equal(tr.positionFraction[2], 0.1);
  assert.throws(() => outlierFeatures([[{ data, positions: 10, features: 4 }], [{ data: new Float32Array(30), positions: 10, features: 3 }]]), /features/);
});

test("spike rule: [2.0]x50 + [2.05, 2.5, 2.1] -> only index 51", () => {
  const L = [...new Array(50).fill(2.0), 2.05, 2.5, 2.1];
  const r = detectSpikes(L);
  assert.deepEqual(r.flagged, [51]);
  assert.equal(r.count, 1);
  const e = r.events[0]!;
  assert.equal(e.peakStep, 51);
  assert.equal(e.baseline, 2);
  close(e.peakRatio, 1.25);
  assert.equal(e.recoverySteps, 1); // 2.1 <= 1.05 * 2
});

test("spike rule: merging, separate events, no recovery, early steps", () => {
  const L: number[] = new Array(220).fill(2.0);
  L[60] = 3.0;
  L[81] = 3.2; // 21 steps after 60: merges
  L[150] = 2.6; // 69 after 81: new event
  L[151] = 2.5;
  L[152] = 2.3; // recovers at 153
  const r = detectSpikes(L);
  assert.deepEqual(r.flagged, [60, 81, 150, 151, 152]);
  assert.equal(r.count, 2);
  assert.deepEqual([r.events[0]!.start, r.events[0]!.end, r.events[0]!.peakStep], [60, 81, 81]);
  close(r.events[0]!.peakRatio, 1.6);
  assert.equal(r.events[1]!.peakStep, 150);
  assert.equal(r.events[1]!.recoverySteps, 3);
  // Never recovers: a level shift.
  const shift = [...new Array(60).fill(1.0), ...new Array(10).fill(2.0)];
  const s = detectSpikes(shift);
  assert.equal(s.events[0]!.start, 60);
  assert.equal(s.events[0]!.recoverySteps, null);
  // Steps < 10 are never flagged; NaN is not a spike (divergence reports it).
  assert.equal(detectSpikes([1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, NaN, 1]).count, 0);
});

test("divergence rule: non-finite, or last-5% mean >= l0", () => {
  const l0 = chanceLoss(10);
  close(l0, Math.log(10));
  const good = Array.from({ length: 100 }, (_, i) => 2.3 - (1.3 * i) / 99);
  const g = divergence(good, l0);
  assert.equal(g.diverged, false);
  assert.equal(g.tailSteps, 5);
  close(g.tailMean, good.slice(95).reduce((a, b) => a + b, 0) / 5, 1e-12);
  const stuck = [...good.slice(0, 95), 2.2, 2.3, 2.4, 2.3, 2.35]; // tail mean 2.31 >= ln 10 = 2.302585
  const s = divergence(stuck, l0);
  assert.deepEqual([s.diverged, s.reason], [true, "tail-mean"]);
  close(s.tailMean, 2.31, 1e-12);
  const nan = good.slice();
  nan[40] = NaN;
  assert.deepEqual([divergence(nan, l0).reason, divergence(nan, l0).firstNonFinite], ["non-finite", 40]);
  assert.equal(isDiverged([1, 2, Infinity, 1], l0), true);
  assert.equal(divergence([5], 2).tailSteps, 1); // at least one step
});

test("LR sensitivity: sens, widest interval in decades, max stable lr", () => {
  const l0 = 2.0;
  const runs = [
    { lr: 1e-4, loss: 1.0, diverged: false },
    { lr: 1e-4, loss: 1.2, diverged: false }, // l = 1.1
    { lr: 2e-4, loss: 0.9, diverged: false }, // l* = 0.9
    { lr: 4e-4, loss: 0.93, diverged: false },
    { lr: 4e-4, loss: 0.95, diverged: false }, // 0.94 <= 1.05*0.9 = 0.945
    { lr: 8e-4, loss: 1.5, diverged: false },
    { lr: 8e-4, loss: NaN, diverged: false }, // non-finite counts as diverged, capped at l0: l = 1.75
    { lr: 1.6e-3, loss: 3.0, diverged: true }, // capped: l = 2.0
    { lr: 3.2e-3, loss: 1.0, diverged: false }, // stable again (non-monotone)
  ];
  const r = lrSensitivity(runs, l0);
  assert.deepEqual(
    r.grid.map((p) => [p.lr, +p.loss.toFixed(12), p.runs, p.diverged]),
    [
      [1e-4, 1.1, 2, 0],
      [2e-4, 0.9, 1, 0],
      [4e-4, 0.94, 2, 0],
      [8e-4, 1.75, 2, 1],
      [1.6e-3, 2.0, 1, 1],
      [3.2e-3, 1.0, 1, 0],
    ],
  );
  assert.equal(r.lStar, 0.9);
  assert.equal(r.lrStar, 2e-4);
  close(r.sens, (0.2 + 0 + 0.04 + 0.85 + 1.1 + 0.1) / 6, 1e-12);
  assert.deepEqual([r.widest.lo, r.widest.hi], [2e-4, 4e-4]);
  close(r.widest.decades, Math.log10(2), 1e-12);
  assert.equal(r.maxStableLr, 3.2e-3);
  assert.equal(r.maxStableLrBelow, 4e-4);
  // From loss curves through the divergence rule.
  const run = summarizeRun(1e-3, [2.5, 2.4, Infinity], 2.3, {}, 7);
  assert.deepEqual([run.diverged, run.seed], [true, 7]);
});
