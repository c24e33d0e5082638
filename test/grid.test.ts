import { describe, it, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  compareValues,
  compareVariants,
  resolveRunConfig,
  runGrid,
  summarizeVariants,
  type GridRecord,
  type GridRunConfig,
} from "../lib/experiments/grid";
import { summarizeSquash, squashVariant, type AlphaMode } from "../lib/experiments/squash";
import { summarizeAlpha0, bestLr, alpha0Variant, ALPHA0_SCALES, type Alpha0Config } from "../lib/experiments/alpha0";
import { GAIN_BIAS_PREPARES, summarizeGainBias, GAIN_BIAS_VARIANTS, TANH_ESTIMATOR_SCALE } from "../lib/experiments/gain-bias";
import { captureNorms } from "../lib/hooks/capture";
import { ViT } from "../lib/models/vit";
import type { Squasher } from "../lib/norms/types";
import { Rng } from "../lib/util/rng";
import { assertClose, useEngine, useTempResultsDirs } from "./helpers";

/** A fake run record: test accuracy `acc` (%), or diverged at `divergedAt`; evals at every `every` steps rising linearly to acc. */
function rec(variant: string, seed: number, acc: number | undefined, opts: { steps?: number; tags?: GridRunConfig["tags"]; learnAlpha?: boolean; norm?: "dyt" | "layernorm"; divergedAt?: number; lr?: number } = {}): GridRecord {
  const steps = opts.steps ?? 100;
  const evals = [];
  const final = acc ?? 10;
  const end = opts.divergedAt ?? steps;
  for (let s = 20; s <= end; s += 20) evals.push({ step: s, loss: 1, acc: (10 + ((final - 10) * s) / steps) / 100 });
  const config: GridRunConfig = {
    variant,
    label: variant,
    norm: opts.norm ?? "dyt",
    model: { normOptions: { learnAlpha: opts.learnAlpha ?? true } },
    train: { steps, lr: opts.lr ?? 1e-3 },
    trainLimit: 0,
    testLimit: 0,
    tags: opts.tags ?? {},
  };
  return {
    experiment: "t",
    scale: "smoke",
    run: `${variant}-s${seed}`,
    seed,
    config,
    result: {
      status: acc === undefined ? "diverged" : "completed",
      diverged: acc === undefined ? { step: opts.divergedAt ?? 7, reason: "test" } : undefined,
      log: [],
      evals,
      test: acc === undefined ? undefined : { loss: 1, acc: acc / 100 },
      params: 1,
      msPerStep: 1,
      trainWallTimeSec: 1,
    },
    provenance: {} as GridRecord["provenance"],
    wallTimeSec: 1,
  };
}

/** Three seeds around `mean` with a spread of about `sd`. */
const seeds3 = (variant: string, mean: number, sd = 0.2, extra: Parameters<typeof rec>[3] = {}) => [1, 2, 3].map((s, i) => rec(variant, s, mean + sd * (i - 1), extra));

describe("grid summaries and noise-aware comparisons", () => {
  it("summarizes accuracy, divergence, early accuracy and steps-to-reach per variant", () => {
    const rs = [rec("a", 1, 80), rec("a", 2, 82), rec("a", 3, undefined, { divergedAt: 30 })];
    const [s] = summarizeVariants(rs, { earlyFrac: 0.4, reachAcc: 50 });
    assert.deepEqual(s!.accs, [80, 82]);
    assert.equal(s!.testAcc.mean, 81);
    assert.equal(s!.diverged, 1);
    assert.deepEqual(s!.divergedSteps, [30]);
    // early step 40: the first eval at >= 40 of every run that got there (the diverged one stopped at 30)
    assert.equal(s!.earlyAcc.step, 40);
    assert.equal(s!.earlyAccs.length, 2);
    assertClose([s!.earlyAcc.mean], [10 + ((81 - 10) * 40) / 100]);
    // val acc rises linearly to the final value: run 1 is at 10 + 70 * 0.6 = 52 % at step 60 (46 % at 40), run 2 at 53.2 %
    assert.equal(s!.stepsToReach.reached, 2);
    assert.equal(s!.stepsToReach.mean, 60);
  });

  it("separates clear differences from seed noise, and ranks all-diverged variants last", () => {
    const vs = summarizeVariants([...seeds3("hi", 85), ...seeds3("lo", 80), ...seeds3("near", 85.1), rec("dead", 1, undefined), rec("dead", 2, undefined), rec("one", 1, 84)]);
    assert.equal(compareVariants(vs, "hi", "lo").outcome, "a>b");
    assert.equal(compareVariants(vs, "lo", "hi").outcome, "a<b");
    assert.equal(compareVariants(vs, "hi", "near").outcome, "tie");
    assert.equal(compareVariants(vs, "lo", "dead").outcome, "a>b");
    assert.equal(compareVariants(vs, "dead", "lo").outcome, "a<b");
    assert.equal(compareVariants(vs, "hi", "missing").outcome, "untestable");
    assert.equal(compareValues("x", [1], "y", [2]).outcome, "untestable");
    // one seed against three borrows the other side's variance (withinNoise)
    assert.notEqual(compareVariants(vs, "one", "lo").outcome, "untestable");
  });

  it("merges norm options into the model config and rejects unsafe variant names", () => {
    const cfg = resolveRunConfig({ model: { dim: 32, normOptions: { eps: 1e-5 } }, train: { steps: 10 }, trainLimit: 0, testLimit: 0 }, { name: "x", label: "x", norm: "dyt", normOptions: { alpha0: 2 } });
    assert.deepEqual(cfg.model.normOptions, { eps: 1e-5, alpha0: 2 });
    assert.throws(() => resolveRunConfig({ model: {}, train: { steps: 1 }, trainLimit: 0, testLimit: 0 }, { name: "a/b", label: "", norm: "dyt" }), /file-safe/);
  });
});

describe("squash verdicts", () => {
  const grid = (acc: Partial<Record<string, number | undefined>>) =>
    Object.entries(acc).flatMap(([k, m]) => {
      const [sq, mode] = k.split(":") as [Squasher, AlphaMode];
      const name = squashVariant(sq, mode).name;
      return m === undefined ? [1, 2, 3].map((s) => rec(name, s, undefined)) : seeds3(name, m);
    });

  it("supports the ordering, identity divergence and removing-alpha only when the data show them beyond noise", () => {
    const s = summarizeSquash("full", grid({ "tanh:learned": 85, "hardtanh:learned": 83, "sigmoid:learned": 80, "identity:learned": undefined, "identity:fixed1": undefined, "tanh:fixed1": 82, "hardtanh:fixed1": 80, "sigmoid:fixed1": 77 }));
    assert.equal(s.ordering.verdict, "supported");
    assert.equal(s.identity.verdict, "supported");
    assert.equal(s.removeAlpha.verdict, "supported");
    assert.equal(s.scaleAlone.verdict, "supported");
    assert.equal(s.verdict, "supported");
  });

  it("rejects an ordering that is reversed or within noise, and identity that trains", () => {
    const s = summarizeSquash("full", grid({ "tanh:learned": 83, "hardtanh:learned": 85, "sigmoid:learned": 80, "identity:learned": 84, "tanh:fixed1": 83.1, "hardtanh:fixed1": 80, "sigmoid:fixed1": 77 }));
    assert.equal(s.ordering.verdict, "not supported");
    assert.equal(s.identity.verdict, "not supported");
    assert.equal(s.removeAlpha.verdict, "not supported", "tanh learned vs frozen is within noise");
    assert.equal(s.scaleAlone.verdict, "not supported");
    assert.equal(s.verdict, "not supported");
  });
});

describe("gain-bias verdicts", () => {
  it("computes each part's contribution from the runs", () => {
    const rs = [
      ...seeds3("dyt-gamma-beta", 85),
      ...seeds3("dyt-gamma", 85.1),
      ...seeds3("dyt-beta", 80),
      ...seeds3("dyt-none", 79),
      ...seeds3("ln-gamma-beta", 86, 0.2, { norm: "layernorm" }),
      ...seeds3("ln-gamma", 86, 0.2, { norm: "layernorm" }),
      ...seeds3("ln-beta", 86, 0.2, { norm: "layernorm" }),
      ...seeds3("ln-none", 86, 0.2, { norm: "layernorm" }),
      ...seeds3("tanh-estimator", 60, 0.2, { learnAlpha: false }),
      ...seeds3("dyt-calibrated-fixed", 85, 0.2, { learnAlpha: false }),
    ];
    const s = summarizeGainBias("full", rs);
    assert.equal(s.dytGamma.verdict, "supported");
    assert.equal(s.dytBeta.verdict, "not supported");
    assert.equal(s.ln.verdict, "not supported");
    assert.equal(s.tanhEstimator.verdict, "supported");
    assert.equal(s.calibrated.verdict, "not supported");
    assert.equal(s.verdict, "not supported");
  });
});

describe("alpha0 verdicts", () => {
  const cfg: Alpha0Config = { ...ALPHA0_SCALES.full, sizes: [{ name: "w32", model: {} }, { name: "w64", model: {} }], alpha0s: [0.5, 2], lrs: [1e-3, 8e-3], earlyFrac: 0.2 };
  const cell = (size: string, lr: number, a: number, mean: number | undefined, sd = 0.2) => {
    const v = alpha0Variant({ name: size, model: {} }, lr, a);
    return [1, 2, 3].map((s, i) => rec(v.name, s, mean === undefined ? undefined : mean + sd * (i - 1), { tags: v.tags, lr, divergedAt: 5 }));
  };

  it("picks the best lr (diverged = chance), marks diverged cells, and judges flatness at the best lr", () => {
    const rs = [
      ...cell("w32", 1e-3, 0.5, 80), ...cell("w32", 1e-3, 2, 80.1),
      ...cell("w32", 8e-3, 0.5, 86), ...cell("w32", 8e-3, 2, undefined),
      ...cell("w64", 1e-3, 0.5, 84), ...cell("w64", 1e-3, 2, 78),
      ...cell("w64", 8e-3, 0.5, 70), ...cell("w64", 8e-3, 2, 70),
    ];
    // w32: lr 8e-3 scores (86 + 10)/2 = 48 < lr 1e-3's 80.05
    assert.equal(bestLr(rs, "w32", cfg.lrs, cfg.alpha0s), 1e-3);
    const s = summarizeAlpha0("full", rs, cfg);
    const w32 = s.bySize.find((b) => b.size === "w32")!;
    const w64 = s.bySize.find((b) => b.size === "w64")!;
    assert.deepEqual(w32.diverged, [[0, 0], [0, 3]]);
    assert.ok(Number.isNaN(w32.acc[1]![1]!));
    assert.equal(w64.bestLr, 1e-3);
    assert.equal(w64.bestAlpha0, 0.5);
    // w32 is flat at its best lr, w64 is not (6 points, beyond noise): claim 7 not supported overall
    assert.equal(s.insensitive.verdict, "not supported");
    assert.match(s.insensitive.statement, /w32 at lr 0.001, 300 steps: range 0.10/);
    assert.ok(s.divergedCells.some((c) => c.includes("w32") && c.includes("3/3")));
    // best alpha0: w32 2 (80.1 vs 80, a tie), w64 0.5: smaller for the larger model, and beyond noise on w64
    assert.equal(s.width.verdict, "supported");
    assert.equal(s.long, undefined);

    // Long-budget runs (tags.budget) decide claim 7 when present, and never enter the grid or the lr choice.
    const long = { size: "w64", steps: 500, warmupSteps: 5, evalEvery: 100, alpha0s: [0.5, 2], seeds: [1, 2, 3] };
    const longRecs = [0.5, 2].flatMap((a) => {
      const v = alpha0Variant({ name: "w64", model: {} }, 8e-3, a, long);
      return [1, 2, 3].map((seed, i) => rec(v.name, seed, 90 + 0.2 * (i - 1) + (a === 2 ? 0.05 : 0), { tags: v.tags, steps: 500 }));
    });
    const s2 = summarizeAlpha0("full", [...rs, ...longRecs], { ...cfg, long });
    assert.equal(bestLr([...rs, ...longRecs], "w64", cfg.lrs, cfg.alpha0s), 1e-3);
    assert.equal(s2.long?.steps, 500);
    assert.equal(s2.insensitiveShort.verdict, "not supported");
    assert.equal(s2.insensitive.verdict, "supported");
    assert.deepEqual(s2.bySize.find((b) => b.size === "w64")!.runs, [[3, 3], [3, 3]]);
  });
});

describe("gain-bias calibration (tanh-estimator) on a real model", () => {
  before(() => useEngine("cpu"));

  it("sets alpha = 0.01/sigma per layer in forward order, freezes alpha/gamma/beta, and reproduces 0.5(tanh(0.01(x-mu)/sigma)+1)", () => {
    const v = GAIN_BIAS_VARIANTS.find((x) => x.name === "tanh-estimator")!;
    const model = new ViT({ dim: 16, depth: 1, heads: 2, patchSize: 7, norm: "dyt", normOptions: v.normOptions, seed: 3 });
    const rng = new Rng(1);
    const x = tf.tensor4d(Float32Array.from({ length: 8 * 28 * 28 }, () => rng.normal()), [8, 28, 28, 1]);
    try {
      const before = tf.memory().numTensors;
      const out = GAIN_BIAS_PREPARES["tanh-estimator"]!(model, x) as { layers: Record<string, { alpha: number; inputStd: number; inputMean: number }> };
      assert.equal(tf.memory().numTensors, before, "calibration leaks no tensors");
      const caps = captureNorms(model, x, { maxRows: 64 });
      assert.equal(Object.keys(out.layers).length, model.norms().length);
      for (const c of caps) {
        const l = out.layers[c.layer]!;
        // After calibrating every layer, the statistics it saw are still the inputs' (later layers do not feed earlier ones).
        assertClose([c.inputStd], [l.inputStd], 1e-4, 1e-7, `${c.layer} input std`);
        assertClose([l.alpha], [TANH_ESTIMATOR_SCALE / l.inputStd], 1e-6, 0, `${c.layer} alpha`);
        const want = Array.from(c.input, (xi) => 0.5 * (Math.tanh((TANH_ESTIMATOR_SCALE * (xi - l.inputMean)) / l.inputStd) + 1));
        assertClose(c.output, want, 1e-4, 1e-6, `${c.layer} output`);
      }
      for (const n of model.norms()) for (const p of n.params) assert.equal(p.variable.trainable, false, `${p.name} must be frozen`);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe("runGrid end to end (tiny)", () => {
  before(() => useEngine("cpu"));
  useTempResultsDirs("grid-");

  it("trains each variant x seed once, caches by config, and records a diverged run with its step", async () => {
    const base = { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { steps: 6, batchSize: 16, warmupSteps: 1, evalEvery: 3, evalLimit: 50, logEvery: 2, checkpointEvery: 0, lr: 1e-3 }, trainLimit: 200, testLimit: 50 };
    const variants = [
      { name: "ok", label: "ok", norm: "dyt" as const },
      // An absurd lr on an un-normalized model blows the loss past the cap: recorded as diverged, not thrown.
      { name: "boom", label: "boom", norm: "identity" as const, train: { lr: 1e4, clipNorm: 0 } },
    ];
    const ctx = { scale: "smoke" as const, verbose: false };
    const a = await runGrid("grid-test", ctx, base, variants, [1]);
    assert.equal(a.length, 2);
    assert.equal(a[0]!.result.status, "completed");
    assert.ok(a[0]!.result.test && a[0]!.result.finalAlpha);
    assert.equal(a[1]!.result.status, "diverged");
    assert.ok(typeof a[1]!.result.diverged!.step === "number");
    const b = await runGrid("grid-test", ctx, base, variants, [1]);
    assert.equal(b[0]!.provenance.startedAt, a[0]!.provenance.startedAt, "second call loads the cached record");
    await assert.rejects(runGrid("grid-test", ctx, base, [...variants, variants[0]!], [1]), /duplicate variant/);
  });
});
