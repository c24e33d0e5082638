import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { ViT } from "../lib/models";
import { makeNorm } from "../lib/norms";
import type { NormCapture } from "../lib/hooks";
import { Rng } from "../lib/util/rng";
import { depthGroups, earlyVsDeep, fitCapture, fitStats, layerNormPreAffine, normSlot } from "../lib/analysis/scurves";
import { captureFits, runScurves, scurvesRefs, scurvesVerdict, SCURVES_RULE, SCURVES_SCALES } from "../lib/experiments/scurves";
import { loggedStepsAt, probeImages } from "../lib/experiments/protocol/probe";
import { arm } from "../lib/experiments/protocol/arms";
import { resolveRun, runVitTask } from "../lib/experiments/protocol/task";
import { TOY_VIT, toyImages } from "./fixtures";
import { useTempResultsDirs } from "./helpers";

const S_SHAPE_MIN_DELTA = SCURVES_RULE.minDeltaR2;

/** A fake capture of `rows` tokens whose row r has scale scales[r] (LN: each token a line of slope 1/sigma_t). */
function capture(scales: number[], C: number, seed = 1, layer = "blocks.0.norm1"): NormCapture {
  const rng = new Rng(seed);
  const rows = scales.length;
  const input = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) input[r * C + c] = scales[r]! * rng.normal();
  const pre = layerNormPreAffine(input, rows, C, 1e-6);
  return { layer, shape: [rows, C], rows, channels: C, input, output: Float32Array.from(pre), inputStd: 1, inputMean: 0 };
}

describe("scurves: fit summary", () => {
  before(() => initEngine({ quiet: true }));

  it("a tanh relation is S-shaped, a line is not", () => {
    const x = Array.from({ length: 400 }, (_, i) => -4 + (8 * i) / 399);
    const t = fitStats(x, x.map((v) => 2 * Math.tanh(1.5 * v)));
    assert.ok(Math.abs(t.r2Tanh - 1) < 1e-9, `tanh data: R2 tanh ${t.r2Tanh}`);
    assert.ok(Math.abs(t.s - 1.5) < 1e-4 && Math.abs(t.k - 2) < 1e-4, `s ${t.s}, k ${t.k}`);
    assert.ok(t.deltaR2 > 0.05 && t.maxArg > 5, `deltaR2 ${t.deltaR2}, maxArg ${t.maxArg}`);
    const l = fitStats(x, x.map((v) => 0.7 * v));
    assert.ok(Math.abs(l.r2Linear - 1) < 1e-12);
    assert.ok(Math.abs(l.deltaR2) < 1e-4, `a line should have deltaR2 ~ 0, got ${l.deltaR2}`);
    assert.throws(() => fitStats([1, 2], [1, 2]), /at least 3 points/);
  });

  it("pre-affine output equals the library LayerNorm (gamma 1, beta 0)", () => {
    const rows = 5;
    const C = 16;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: rows * C }, () => 3 * rng.normal() + 1);
    const n = makeNorm("layernorm", C, { eps: 1e-6 });
    const y = tf.tidy(() => n.apply(tf.tensor2d(x, [rows, C])).dataSync());
    n.params.forEach((p) => p.variable.dispose());
    const pre = layerNormPreAffine(x, rows, C, 1e-6);
    for (let i = 0; i < pre.length; i++) assert.ok(Math.abs(pre[i]! - y[i]!) < 1e-5, `element ${i}: ${pre[i]} vs ${y[i]}`);
    assert.throws(() => layerNormPreAffine(x, rows + 1, C, 1e-6), /rows 6 x C 16/);
  });

  it("tokens of equal scale give a line; tokens of very different scales give an S (the paper's mechanism)", () => {
    const equal = fitCapture(capture(Array(64).fill(1), 32), 1e-6);
    const spread = fitCapture(capture(Array.from({ length: 64 }, (_, i) => Math.exp((i - 32) / 8)), 32), 1e-6);
    assert.ok(equal.pre.r2Linear > 0.9, `equal scales (per-token mean and std are estimated from 32 channels): R2 linear ${equal.pre.r2Linear}`);
    assert.ok(Math.abs(equal.pre.deltaR2) < 0.005, `equal scales: deltaR2 ${equal.pre.deltaR2}`);
    assert.ok(spread.pre.deltaR2 > S_SHAPE_MIN_DELTA, `spread scales: deltaR2 ${spread.pre.deltaR2}`);
    assert.equal(spread.topChannels.length, 4);
  });

  it("keeps plot samples only on request: whole tokens plus the top channels", () => {
    const f = fitCapture(capture(Array(32).fill(1), 8), 1e-6, 4);
    const s = f.sample!;
    assert.equal(s.x.length, s.yPre.length);
    const whole = new Set(s.token.filter((t) => s.token.filter((u) => u === t).length === 8));
    assert.equal(whole.size, 4);
    assert.ok(s.channel.every((c, i) => whole.has(s.token[i]!) || f.topChannels.includes(c)));
    assert.equal(fitCapture(capture([1, 2, 3], 8), 1e-6).sample, undefined);
  });

  it("names slots and groups depth", () => {
    assert.deepEqual(normSlot("blocks.3.norm2"), { block: 3, slot: "norm2" });
    assert.deepEqual(normSlot("norm"), { block: null, slot: "final" });
    const g = depthGroups(4);
    assert.deepEqual([0, 1, 2, 3].map(g.early), [true, true, false, false]);
    assert.deepEqual([0, 1, 2, 3].map(g.deep), [false, false, true, true]);
    assert.throws(() => depthGroups(1), /depth >= 2/);
    const fits = [0, 1].map((b) => ({ ...fitCapture(capture(Array(8).fill(1), 8), 1e-6), layer: `blocks.${b}.norm1`, block: b }));
    fits[1]!.pre = { ...fits[1]!.pre, deltaR2: 0.5 };
    fits[0]!.pre = { ...fits[0]!.pre, deltaR2: 0.1 };
    assert.deepEqual(earlyVsDeep(fits, 2), { early: 0.1, deep: 0.5 });
  });

  it("verdict follows the rule: paired over seeds, four outcomes", () => {
    const ed = (pairs: [number, number][]) => pairs.map(([early, deep], i) => ({ seed: i, step: 10, early, deep }));
    const learned = (n: number) => Array(n).fill("learned");
    const v = (pairs: [number, number][], classes = learned(pairs.length)) => scurvesVerdict(ed(pairs), [], classes, 4);
    assert.equal(v([[0.01, 0.05], [0.0, 0.03], [0.02, 0.04]]).verdict, "supported");
    // A trend that is not consistent over seeds is not evidence either way (was "not supported" under the old rule).
    const mixed = v([[0.01, 0.05], [0.06, 0.03], [0.02, 0.04]]);
    assert.equal(mixed.verdict, "inconclusive", mixed.reason);
    // Deep maps barely bent (ΔR² far below the threshold in every seed).
    assert.equal(v([[0.001, 0.005], [0.0, 0.003], [0.002, 0.004]]).verdict, "not supported");
    assert.equal(v([[0.01, 0.05]]).verdict, "not testable");
    const reversed = v([[0.05, 0.01], [0.06, 0.03], [0.05, 0.02]]);
    assert.equal(reversed.verdict, "not supported");
    assert.match(reversed.statement, /reversed/);
    // A run that did not learn makes the claim untestable, whatever the fits say.
    const stuck = v([[0.01, 0.05], [0.0, 0.03], [0.02, 0.04]], ["learned", "did not learn", "learned"]);
    assert.equal(stuck.verdict, "not testable");
    assert.match(stuck.reason, /did not learn on 1 of 3/);
    assert.equal(scurvesVerdict(ed([[0.01, 0.05], [0.0, 0.03]]), [], learned(2), 1).verdict, "not testable");
  });
});

describe("scurves: capture on a model", () => {
  before(() => initEngine({ quiet: true }));

  it("fits every LN layer and leaks no tensors; the probe batch is deterministic", () => {
    const ds = toyImages(64, 1, "val");
    const a = probeImages(ds, 8, 3);
    const b = probeImages(ds, 8, 3);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    b.dispose();
    const m = new ViT({ ...TOY_VIT, norm: "layernorm", seed: 1 });
    const cfg = { images: 8, seed: 3, maxRows: 20 };
    captureFits(m, a, cfg, 1e-6, 2); // warm-up (kernels, caches)
    const before = tf.memory().numTensors;
    const fits = captureFits(m, a, cfg, 1e-6, 2);
    assert.equal(tf.memory().numTensors, before, "captureFits must not leave tensors behind");
    assert.equal(fits.length, m.norms().length);
    assert.ok(fits.every((f) => f.rows === 20 || f.slot === "final"));
    assert.ok(fits.every((f) => Number.isFinite(f.pre.r2Tanh) && f.sample));
    a.dispose();
    m.dispose();
  });

  it("rejects a non-LayerNorm run and capture points outside the budget; maps fractions onto logged steps", async () => {
    const sc = SCURVES_SCALES.smoke;
    const refs = scurvesRefs(sc, 20, 5, false);
    const dyt = resolveRun({ ...sc.base, ...refs }, arm("dyt"), 1, { train: { steps: 20, logEvery: 5 } });
    await assert.rejects(runVitTask(dyt, undefined, "x"), /S-curve analysis is of LayerNorm; run arm "dyt"/);
    assert.throws(() => scurvesRefs({ ...sc, captureAt: [0, 1.5] }, 20, 5, false), /captureAt fractions must lie in \[0, 1\]/);
    // Hooks run on logged steps (multiples of logEvery, and the last): index s sees s + 1 updates.
    assert.deepEqual(loggedStepsAt([0.5, 1], 20, 5), [10, 19]);
    assert.deepEqual(loggedStepsAt([1 / 6, 0.5, 1], 600, 2), [100, 300, 599]);
    assert.throws(() => loggedStepsAt([0], 20, 5), /in \(0, 1\]/);
    // The capture parameters are part of the resolved config, hence of the cache key.
    const other = resolveRun({ ...sc.base, ...scurvesRefs({ ...sc, probe: { ...sc.probe, images: 17 } }, 20, 5, false) }, arm("layernorm"), 1);
    const same = resolveRun({ ...sc.base, ...refs }, arm("layernorm"), 1);
    assert.notDeepEqual(other.hooks, same.hooks);
    assert.notEqual(other.prepare, same.prepare);
  });
});

describe("scurves: smoke run through the runner", () => {
  useTempResultsDirs("dyt-scurves-");

  it("tunes LN's lr, captures at init, mid-training and the end (samples on the first seed), and reloads from the cache", async () => {
    const ctx = { scale: "smoke" as const, verbose: false };
    const { records, summary } = await runScurves(ctx);
    assert.equal(records.length, SCURVES_SCALES.smoke.seeds.length);
    const r = records[0]!;
    assert.equal(r.role, "eval");
    const steps = r.config.train.steps;
    assert.deepEqual(r.result.captures.map((c) => c.step), [0, loggedStepsAt([0.5], steps, r.config.train.logEvery)[0]! + 1, steps]);
    assert.ok(r.result.captures[0]!.fits.every((f) => f.sample), "init capture of the first seed keeps plot samples");
    assert.ok(r.result.captures.at(-1)!.fits.every((f) => f.sample), "end capture of the first seed keeps plot samples");
    assert.ok(r.result.captures[1]!.fits.every((f) => !f.sample));
    assert.ok(summary.pick && SCURVES_SCALES.smoke.tuning.lrs.includes(summary.pick.bestLr));
    assert.equal(r.config.train.lr, summary.pick!.bestLr);
    assert.deepEqual(summary.captureSteps, r.result.captures.map((c) => c.step));
    assert.ok(["not testable", "inconclusive", "supported", "not supported"].includes(summary.verdict));
    assert.equal(summary.verdict, "not testable", "one smoke seed cannot estimate noise");
    const again = await runScurves({ ...ctx, cachedOnly: true });
    assert.deepEqual(again.records.map((x) => x.provenance), records.map((x) => x.provenance));
  });
});
