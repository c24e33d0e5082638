/**
 * wav2vec-scurves (claim 3 on wav2vec 2.0): the speech task's norm readings
 * (absent by default, so wav2vec-ln-dyt's keys are unchanged; present, part
 * of the key), the claim's layers and early / deep halves, the rule on
 * made-up readings, and the experiment end to end at smoke. Also the
 * study's amendment 2 and the alpha0 probe's jobs (wav2vec-ln-dyt/sizing.ts).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { arm } from "../lib/experiments/protocol/arms";
import { resolveRun } from "../lib/experiments/protocol/task";
import type { SpeechProtocolRecord } from "../lib/experiments/protocol/runner";
import type { NormReading } from "../lib/experiments/protocol/image-probe";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { alpha0ProbeJobs, featureNormProbeJobs, SIZING_LR, WAV2VEC_SCALES, WAV2VEC_SCALES_V1 } from "../lib/experiments/wav2vec-ln-dyt";
import { runWav2VecScurves, summarizeWav2VecScurves, w2vScurveDeltaFigure, w2vScurveLayers, w2vScurveMapsFigure, wav2vecScurvesEntry, wav2vecScurvesJobs, WAV2VEC_SCURVES_SCALES } from "../lib/experiments/wav2vec-scurves";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { Wav2Vec2 } from "../lib/models/wav2vec";
import { useEngine, useTempResultsDirs } from "./helpers";

const CONV = Array.from({ length: 7 }, (_, i) => `feature_extractor.${i}.norm`);
const TRANS = ["layer_norm", "blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "blocks.1.norm2"];
const LAYERS = [...CONV, ...TRANS, "encoder.layer_norm"];

/** LN fits whose pre-affine ΔR² per layer is `d[i]`. */
function fits(d: number[]): NormReading["fits"] {
  return LAYERS.map((layer, i) => ({ layer, rows: 1, channels: 1, pre: { deltaR2: d[i]!, s: 1, k: 1, maxArg: 1, r2Tanh: 0.9, r2Linear: 0.9 - d[i]! } })) as unknown as NormReading["fits"];
}

/** A made-up LN evaluation record on `seed` whose end reading has ΔR² `d`; strictAcc its test strict accuracy. */
function fakeRec(seed: number, d: number[], strictAcc = 0.5): SpeechProtocolRecord {
  const reading = (step: number): NormReading => ({ step, layers: LAYERS, alpha: LAYERS.map(() => NaN), std: LAYERS.map(() => 1), tokenStd: LAYERS.map(() => 1), fits: fits(step ? d : LAYERS.map(() => 0)) });
  return {
    run: `layernorm-s${seed}`,
    arm: "layernorm",
    seed,
    role: "eval",
    config: { model: { numNegatives: 10 } },
    result: { status: "completed", evals: [], test: { loss: 1.3, strictAcc }, readings: [reading(0), reading(1909)] },
  } as unknown as SpeechProtocolRecord;
}

describe("wav2vec-scurves: readings and layers", () => {
  test("a speech base without readings resolves as before (wav2vec-ln-dyt's keys unchanged); with them, they are in the key; bad ones are refused", () => {
    const base = WAV2VEC_SCALES.full.base;
    const plain = resolveRun(base, arm("layernorm"), 1);
    assert.ok(!("readings" in plain), "no readings key by default");
    const readings = WAV2VEC_SCURVES_SCALES.full.readings;
    const withR = resolveRun({ ...base, readings }, arm("layernorm"), 1);
    assert.deepEqual((withR as { readings?: unknown }).readings, readings);
    assert.throws(() => resolveRun({ ...base, readings: { ...readings, windows: 0 } }, arm("layernorm"), 1), /readings\.windows and readings\.maxRows must be positive integers/);
  });

  test("the claim's layers: the feature norm and the block norms in forward order, halves without the middle one; conv encoder and final norm left out", () => {
    assert.deepEqual(w2vScurveLayers(LAYERS), { claim: TRANS, early: ["layer_norm", "blocks.0.norm1"], deep: ["blocks.1.norm1", "blocks.1.norm2"] });
  });

  test("the jobs: LayerNorm on the study's seeds at the given lr and batch, with readings, without the language-ID probe, under this experiment's name", () => {
    // smoke: a job's step count needs the training windows, and only the tiny subset is built in CI
    const jobs = wav2vecScurvesJobs("smoke", [1, 2], 2e-3);
    assert.deepEqual(jobs.map((j) => j.run), ["layernorm-s1", "layernorm-s2"]);
    for (const j of jobs) {
      assert.equal(j.experiment, "wav2vec-scurves");
      assert.equal(j.resolved.train.lr, 2e-3);
      assert.equal(j.resolved.train.batchSize, WAV2VEC_SCALES.smoke.base.train.batchSize);
      assert.equal(j.resolved.probe.enabled, false);
      assert.deepEqual(j.resolved.readings, WAV2VEC_SCURVES_SCALES.smoke.readings);
    }
  });

  test("amendment 2: the study's full scale trains 1 epoch at batch 16; the sizing probes keep 0.2 epoch at batch 8", () => {
    assert.deepEqual([WAV2VEC_SCALES.full.epochs, WAV2VEC_SCALES.full.base.train.batchSize], [1, 16]);
    assert.deepEqual([WAV2VEC_SCALES_V1.full.epochs, WAV2VEC_SCALES_V1.full.base.train.batchSize], [0.2, 8]);
    assert.deepEqual(WAV2VEC_SCALES.smoke, WAV2VEC_SCALES_V1.smoke);
  });

  test("alpha0 probe jobs: DyT at alpha0 1 and 2 in every transformer slot, cosine, the sizing lr, the tuning seed", () => {
    const jobs = alpha0ProbeJobs(WAV2VEC_SCALES.smoke, "smoke");
    assert.deepEqual(jobs.map((j) => j.run), ["alpha0-dyt-a1-cosine-lr2.0e-3-s101", "alpha0-dyt-a2-cosine-lr2.0e-3-s101"]);
    assert.deepEqual(jobs.map((j) => j.resolved.model.normOptions.alpha0), [1, 2]);
    for (const j of jobs) assert.deepEqual([j.seed, j.resolved.model.norm, j.resolved.model.convNorm, j.resolved.train.lr, j.resolved.train.minLrRatio], [101, "dyt", "layernorm", SIZING_LR, 0.01]);
  });

  test("feature-norm probe: DyT in the transformer with LayerNorm kept in the feature norm; the model builds it so", () => {
    const [j] = featureNormProbeJobs(WAV2VEC_SCALES.smoke, "smoke");
    assert.equal(j!.run, "featnorm-dyt-lnfeat-cosine-lr2.0e-3-s101");
    assert.deepEqual([j!.resolved.model.norm, j!.resolved.model.featureNorm, j!.resolved.model.convNorm], ["dyt", "layernorm", "layernorm"]);
    const m = new Wav2Vec2({ ...j!.resolved.model, dim: 16, heads: 2, posConvGroups: 2, depth: 1 });
    try {
      const kinds = Object.fromEntries(m.norms().map((n) => [n.name, n.alpha ? "dyt" : "other"]));
      assert.equal(kinds["layer_norm"], "other", "the feature norm has no alpha: a LayerNorm");
      assert.equal(kinds["blocks.0.norm1"], "dyt");
      assert.equal(kinds["encoder.layer_norm"], "dyt");
    } finally {
      m.dispose();
    }
    // Absent, the key is absent: every earlier record keeps its cache key.
    assert.ok(!("featureNorm" in resolveRun(WAV2VEC_SCALES.smoke.base, arm("dyt"), 1).model));
    assert.throws(() => new Wav2Vec2({ featureNorm: "batchnorm" }), /"batchnorm" is a ResNet slot/);
  });
});

describe("wav2vec-scurves: the rule", () => {
  const pick = [{ arm: "layernorm", bestLr: 2e-3, atEdge: false, noneLearned: false }] as never;
  const lr = { lr: 2e-3, note: "tuned" };
  test("deep bent and above early -> supported; reversed -> not supported; a run at chance -> not testable; the conv and final norms do not count", () => {
    // conv norms and the final norm very bent: they must not enter either group
    const d = (j: number, early: number, deep: number) => [...CONV.map(() => 0.3), early, early + 0.001 * j, 0.02, deep + 0.002 * j, deep - 0.001 * j, 0.4];
    const up = summarizeWav2VecScurves("full", [1, 2, 3].map((s) => fakeRec(s, d(s, 0.001, 0.05))), pick, lr);
    assert.equal(up.verdict, "supported", up.statement);
    assert.ok(up.earlyDeep.every((e) => Math.abs(e.early - (0.001 + 0.0005 * e.seed)) < 1e-12), "early = mean of layer_norm and blocks.0.norm1 only");
    const down = summarizeWav2VecScurves("full", [1, 2, 3].map((s) => fakeRec(s, d(s, 0.05, 0.001))), pick, lr);
    assert.equal(down.verdict, "not supported", down.statement);
    const chance = summarizeWav2VecScurves("full", [fakeRec(1, d(1, 0.001, 0.05)), fakeRec(2, d(2, 0.001, 0.05), 0.1)], pick, lr);
    assert.equal(chance.verdict, "not testable");
    assert.match(chance.reason, /did not learn on 1 of 2/);
  });
});

describe("wav2vec-scurves experiment", () => {
  useTempResultsDirs("dyt-w2v-scurves-");

  test("runs end to end at smoke: readings of every norm at init and end with fits, the row among the four outcomes, figures; a second run loads", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(wav2vecScurvesEntry), "registered");
    const { records, summary } = await runWav2VecScurves({ scale: "smoke", verbose: false });
    assert.equal(records.length, 2, "LayerNorm x 2 seeds");
    for (const r of records) {
      assert.equal(r.result.readings?.length, 2, `${r.run}: init and end readings`);
      const [init, end] = r.result.readings!;
      assert.equal(init!.step, 0);
      assert.equal(end!.step, r.config.train.steps);
      assert.deepEqual(init!.layers, [...CONV, "layer_norm", "blocks.0.norm1", "blocks.0.norm2", "encoder.layer_norm"], "depth 1 at smoke");
      assert.ok(end!.fits && end!.fits.length === init!.layers.length, "fits for every LN");
      assert.equal(r.result.probe, undefined, "no language-ID probe");
    }
    assert.ok(OUTCOMES.includes(summary.verdict));
    assert.deepEqual(summary.layers, { early: ["layer_norm"], deep: ["blocks.0.norm2"] });
    assert.ok(summary.layerStats.some((l) => l.step === 0) && summary.layerStats.some((l) => l.step > 0));
    assert.equal(w2vScurveDeltaFigure(summary).data.length, 2);
    assert.equal(w2vScurveMapsFigure(records).data.length, 2 * 4, "points and fit per transformer LN and the final norm");
    const rows = wav2vecScurvesEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["3 (wav2vec)"]);
    assert.equal(rows[0]!.verdict, summary.verdict);
    const again = await runWav2VecScurves({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, summary);
  });
});
