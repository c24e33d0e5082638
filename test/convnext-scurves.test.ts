/**
 * convnext-scurves (claims 3 and 4 on ConvNeXt): the probe readings of the
 * image task (absent by default, so vision-families' keys are unchanged;
 * present, they are part of the key), the early/deep grouping, both rules on
 * made-up readings (every outcome they can give), the lrs read from
 * vision-families' committed tuning, and the experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { arm } from "../lib/experiments/protocol/arms";
import { resolveRun } from "../lib/experiments/protocol/task";
import { runJobs, type ImageProtocolRecord } from "../lib/experiments/protocol/runner";
import { studyLrs, studyTuneJobs } from "../lib/experiments/protocol/study";
import type { NormReading } from "../lib/experiments/protocol/image-probe";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import {
  alphaInvStdFigure,
  convnextFamily,
  convnextScurvesEntry,
  convnextScurvesJobs,
  CONVNEXT_SCURVES_SCALES,
  earlyDeepLayers,
  lnDeltaFigure,
  lnMapsFigure,
  lnTable,
  runConvnextScurves,
  summarizeDyt,
  summarizeLn,
} from "../lib/experiments/convnext-scurves";
import { familyBase, familyStudy } from "../lib/experiments/vision-families";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { useEngine, useTempResultsDirs } from "./helpers";

const LAYERS = ["stem.norm", "stages.0.0.norm", "downsample.1.norm", "stages.1.0.norm", "downsample.2.norm", "stages.2.0.norm", "norm"];

/** A made-up evaluation record of `arm` on `seed` with an end reading. */
function fakeRec(armId: string, seed: number, end: Partial<NormReading>, acc = 0.8): ImageProtocolRecord {
  const reading = (step: number): NormReading => ({ step, layers: LAYERS, alpha: LAYERS.map(() => NaN), std: LAYERS.map(() => 1), tokenStd: LAYERS.map(() => 1), ...(step ? end : {}) });
  return {
    run: `${armId}-convnext-s${seed}`,
    arm: armId,
    seed,
    role: "eval",
    config: { model: { numClasses: 10 } },
    result: { status: "completed", test: { acc, loss: 0.5 }, readings: [reading(0), reading(300)] },
  } as unknown as ImageProtocolRecord;
}

/** LN fits whose pre-affine ΔR² per layer is `d[i]`. */
function fits(d: number[]): NormReading["fits"] {
  return LAYERS.map((layer, i) => ({ layer, block: null, slot: "other", rows: 1, channels: 1, inputStd: 1, inputAbsMax: 1, topChannels: [], pre: { deltaR2: d[i]!, s: 1, k: 1, maxArg: 1, r2Tanh: 0.9, r2Linear: 0.9 - d[i]! }, post: { deltaR2: d[i]!, s: 1, k: 1, maxArg: 1, r2Tanh: 0.9, r2Linear: 0.9 } })) as unknown as NormReading["fits"];
}

describe("convnext-scurves: readings and keys", () => {
  test("a base without a probe resolves as before (vision-families' keys unchanged); with one, the probe is in the key", () => {
    const { d, f } = convnextFamily("full");
    const base = familyBase(d, f);
    const plain = resolveRun(base, arm("layernorm"), 1);
    assert.ok(!("probe" in plain), "no probe key by default");
    const probe = CONVNEXT_SCURVES_SCALES.full.probe;
    const withProbe = resolveRun({ ...base, probe } as typeof base, arm("layernorm"), 1);
    assert.deepEqual((withProbe as { probe?: unknown }).probe, probe);
    assert.throws(() => resolveRun({ ...base, probe: { ...probe, images: 0 } } as typeof base, arm("layernorm"), 1), /images and maxRows must be positive integers/);
  });

  test("early / deep layers: forward order without the final norm, first and second half", () => {
    assert.deepEqual(earlyDeepLayers(LAYERS), { early: LAYERS.slice(0, 3), deep: LAYERS.slice(3, 6) });
    // Odd count: the middle layer belongs to neither.
    assert.deepEqual(earlyDeepLayers(["a", "b", "c", "d", "e", "norm"]), { early: ["a", "b"], deep: ["d", "e"] });
  });

  test("the full jobs run at vision-families' committed ConvNeXt picks, under this experiment's name, with the probe", async () => {
    const { d, f } = convnextFamily("full");
    const vf = familyStudy(d, f);
    const tune = await runJobs(studyTuneJobs(vf, "full"), { scale: "full", cachedOnly: true, verbose: false });
    const { lrs } = studyLrs(vf, tune);
    assert.deepEqual(Object.keys(lrs).sort(), ["dyt", "layernorm"]);
    const jobs = convnextScurvesJobs("full", CONVNEXT_SCURVES_SCALES.full, [1, 2, 3], lrs);
    assert.equal(jobs.length, 6);
    for (const j of jobs) {
      assert.equal(j.experiment, "convnext-scurves");
      assert.equal(j.resolved.train.lr, lrs[j.resolved.arm]!.lr, j.run);
      assert.deepEqual((j.resolved as { probe?: unknown }).probe, CONVNEXT_SCURVES_SCALES.full.probe);
    }
    assert.deepEqual(jobs.map((j) => j.run).slice(0, 2), ["dyt-convnext-s1", "layernorm-convnext-s1"]);
  });
});

describe("convnext-scurves: rules", () => {
  const LN = "layernorm";
  const DYT = "dyt";
  test("claim 3: deep more bent than early and above 0.01 -> supported; reversed -> not supported; a seed that did not learn -> not testable", () => {
    const deep = (j: number) => [0.001, 0.002 + j * 0.001, 0.001, 0.05 + j * 0.01, 0.06, 0.07 - j * 0.005, 0.2];
    const up = summarizeLn([1, 2, 3].map((s) => fakeRec(LN, s, { fits: fits(deep(s)) })));
    assert.equal(up.verdict, "supported", up.statement);
    assert.equal(up.earlyDeep.length, 3);
    assert.ok(up.earlyDeep.every((e) => e.deep > e.early));
    const down = summarizeLn([1, 2, 3].map((s) => fakeRec(LN, s, { fits: fits(deep(s).map((_, i, a) => a[5 - Math.min(i, 5)]!)) })));
    assert.equal(down.verdict, "not supported", down.statement);
    const failed = summarizeLn([fakeRec(LN, 1, { fits: fits(deep(1)) }), fakeRec(LN, 2, { fits: fits(deep(2)) }, 0.05)]);
    assert.equal(failed.verdict, "not testable");
    assert.match(failed.reason, /did not learn on 1 of 2/);
    // The final norm's large ΔR² does not enter either group.
    assert.equal(up.layers.deep.includes("norm"), false);
  });

  test("claim 4: alpha proportional to 1/std -> supported; alpha against it -> not supported; scattered -> inconclusive; too few seeds -> not testable", () => {
    const std = [0.5, 1, 2, 3, 4, 6, 8];
    const prop = (s: number) => ({ std: std.map((x) => x * (1 + 0.01 * s)), alpha: std.map((x, i) => (1 / x) * (1 + 0.05 * Math.sin(i + s))) });
    const sup = summarizeDyt([1, 2, 3].map((s) => fakeRec(DYT, s, prop(s))));
    assert.equal(sup.verdict, "supported", sup.statement);
    assert.ok(sup.r.mean > 0.9 && Math.abs(sup.logLogSlope - 1) < 0.1, `r ${sup.r.mean}, slope ${sup.logLogSlope}`);
    assert.equal(sup.points.length, 21);
    const anti = summarizeDyt([1, 2, 3].map((s) => fakeRec(DYT, s, { std: prop(s).std, alpha: std.map((x) => x * 0.1) })));
    assert.equal(anti.verdict, "not supported", anti.statement);
    const mixed = [
      { std, alpha: std.map((x) => 1 / x) },
      { std, alpha: std.map((x) => x) },
      { std, alpha: [1, 3, 0.5, 2, 0.7, 1.5, 1] },
    ];
    assert.equal(summarizeDyt(mixed.map((m, i) => fakeRec(DYT, i + 1, m))).verdict, "inconclusive");
    const one = summarizeDyt([fakeRec(DYT, 1, prop(1))]);
    assert.equal(one.verdict, "not testable");
    assert.match(one.reason, /seed\(s\) with a reading/);
  });
});

describe("convnext-scurves experiment", () => {
  useTempResultsDirs("dyt-convnext-scurves-");

  test("runs end to end at smoke: readings at init and end, both rows among the four outcomes, figures, table; a second run loads", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(convnextScurvesEntry), "registered");
    const { records, summary } = await runConvnextScurves({ scale: "smoke", verbose: false });
    assert.equal(records.length, 4, "2 arms x 2 seeds");
    for (const r of records) {
      assert.equal(r.result.readings?.length, 2, `${r.run}: init and end readings`);
      const [init, end] = r.result.readings!;
      assert.equal(init!.step, 0);
      assert.equal(end!.step, r.config.train.steps);
      assert.deepEqual(init!.layers, ["stem.norm", "stages.0.0.norm", "downsample.1.norm", "stages.1.0.norm", "norm"]);
      assert.equal(!!end!.fits, r.arm === "layernorm", "fits for the LN model only");
      if (r.arm === "dyt") assert.ok(end!.alpha.every((a) => a > 0) && init!.alpha.every((a) => a === 0.5), "DyT alphas read (alpha0 0.5 at init)");
      assert.ok(end!.std.every((s) => s > 0));
    }
    // The tuning came from vision-families (its own results dir), not this experiment.
    assert.ok(!records.some((r) => r.role === "tune"));
    assert.ok(OUTCOMES.includes(summary.ln.verdict) && OUTCOMES.includes(summary.dyt.verdict));
    assert.ok(summary.ln.layerStats.some((l) => l.step === 0) && summary.ln.layerStats.some((l) => l.step > 0));
    assert.equal(lnDeltaFigure(summary).data.length, 2);
    assert.ok(alphaInvStdFigure(summary).data.length >= 1);
    assert.equal(lnMapsFigure(records).data.length, 2 * 5, "points and fit per LN layer");
    assert.equal(lnTable(summary).length, 5);
    const rows = convnextScurvesEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["3 (ConvNeXt)", "4 (ConvNeXt)"]);
    assert.deepEqual(rows.map((r) => r.verdict), [summary.ln.verdict, summary.dyt.verdict]);
    // The report calls the entry and reads its rows from what run returns.
    const viaEntry = await convnextScurvesEntry.run({ scale: "smoke", verbose: false, cachedOnly: true }, {});
    assert.deepEqual(convnextScurvesEntry.claims(viaEntry.summary).map((r) => r.verdict), rows.map((r) => r.verdict));
    assert.equal(viaEntry.summary.verdict, `claim 3: ${summary.ln.verdict}; claim 4: ${summary.dyt.verdict}`);
    const again = await runConvnextScurves({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary.ln.earlyDeep, summary.ln.earlyDeep);
  });
});
