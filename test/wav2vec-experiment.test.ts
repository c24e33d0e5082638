/**
 * The "speech-pretrain" task of the protocol runner (a small wav2vec 2.0
 * pretrained self-supervised, then a language-ID probe) and the
 * wav2vec-ln-dyt experiment: resolved configs and cache keys, the learned
 * rule (contrastive accuracy with ties lost: a collapsed codebook is not
 * learned however low its loss), no tensor leak and exact resume through the
 * task, both claims' verdicts on hand-built arms (not testable when an arm
 * did not learn), and the experiment end to end at smoke.
 * Data: the "tiny" speech subset (3 asterisk packages, a few clips per group),
 * built under DYT_DATA_DIR on first use (lib/data/speech.ts).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { arm, deriveArm } from "../lib/experiments/protocol/arms";
import { speechScore } from "../lib/experiments/protocol/classify";
import { armJob, epochSchedule } from "../lib/experiments/protocol/jobs";
import { RULES } from "../lib/experiments/protocol/rules";
import { runJobs, staleReason, type SpeechProtocolRecord } from "../lib/experiments/protocol/runner";
import { RECORDED_SPEECH_TRAIN_WINDOWS, SPEECH_DATA_DEFAULTS, speechSourceOpts, SPEECH_PROBE_DEFAULTS, runSpeechTask, speechRunTask, speechTrainWindows, type SpeechResolvedRun, type SpeechRunBase } from "../lib/experiments/protocol/speech-task";
import { forgetSpeech, speechCacheReady, speechSourceKey } from "../lib/data/speech";
import { resolveRun } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { RECORD_EPOCH } from "../lib/experiments/runner";
import { EXPERIMENTS } from "../lib/experiments/registry";
import {
  compareW2vPretrain,
  compareW2vProbe,
  runWav2VecLnDyt,
  budgetProbeJobs,
  sizingJobs,
  summarizeSizing,
  SIZING_LR,
  w2vAccuracyFigure,
  w2vArmTable,
  w2vHeldOutFigure,
  w2vProbeFigure,
  w2vTrainLossFigure,
  w2vTuningFigure,
  wav2vecLnDytEntry,
  WAV2VEC_SCALES,
  runWav2VecAlpha2,
  type W2vArmRuns,
} from "../lib/experiments/wav2vec-ln-dyt";
import { WAV2VEC_DEFAULTS, Wav2Vec2, contrastiveLoss } from "../lib/models/wav2vec";
import { NORM_DEFAULTS } from "../lib/norms/factory";
import { train } from "../lib/train/trainer";
import { useEngine, useTempResultsDirs } from "./helpers";
import { assertNotTestableWhenStuck, assertProbeOutcomes, fakePretrainProbeArm, L, type FakeClasses } from "./pretrain-probe-helpers";

/** The smoke base: a width-16 model on half-second windows of the tiny subset; the runner's bookkeeping is under test, not learning. */
const BASE: SpeechRunBase = { ...WAV2VEC_SCALES.smoke.base, train: { ...WAV2VEC_SCALES.smoke.base.train, steps: 4, warmupSteps: 1, evalEvery: 2, logEvery: 1, checkpointEvery: 2 } };

describe("speech-pretrain task: resolved config", () => {
  test("task, data, probe, model and training are written out; the arm fills the transformer slots, the base the conv encoder; wrong arms are refused", () => {
    const d = resolveRun(BASE, arm("dyt"), 3);
    assert.equal(d.task, "speech-pretrain");
    assert.deepEqual(d.data, { dataset: "speech", packages: "tiny", maxClipsPerGroup: 8, windowSamples: 8000, testLimit: 8 });
    assert.deepEqual(d.probe, { ...SPEECH_PROBE_DEFAULTS, split: "alternate", perClass: 8, steps: 30, batchSize: 16 });
    assert.deepEqual([d.model.norm, d.model.convNorm, d.model.seed, d.train.seed], ["dyt", "layernorm", 3, 3]);
    assert.equal(d.model.gumbelTemp, WAV2VEC_DEFAULTS.gumbelTemp, "model defaults written out");
    assert.equal(d.model.maskProb, WAV2VEC_DEFAULTS.maskProb);
    assert.equal(d.normResolved.alpha0, 0.5, "the paper's non-LLM alpha0");
    assert.equal(d.train.weightDecay, 0.01);
    assert.equal(resolveRun(BASE, arm("layernorm"), 1).model.norm, "layernorm");
    assert.throws(() => resolveRun(BASE, arm("dyt-lm"), 1), /LLaMA language-model arm/);
    assert.throws(() => resolveRun(BASE, deriveArm("dyt", { placement: "post" }), 1), /only the ViT has/);
    assert.throws(() => resolveRun({ ...BASE, data: { ...BASE.data, packages: "huge" as never } }, arm("dyt"), 1), /unknown subset "huge"/);
    assert.throws(() => resolveRun({ ...BASE, data: { ...BASE.data, windowSamples: 400 } }, arm("dyt"), 1), /distractors need >= 2 \(use longer windows/);
  });

  test("the cache key holds every default: a changed wav2vec, probe or DyT default makes a saved record stale", () => {
    const job = () => armJob({ experiment: "speech-task-test", scale: "smoke", base: BASE }, arm("dyt"), 1, { run: "dyt-s1", role: "eval", lr: 1e-3 });
    const saved = { epoch: RECORD_EPOCH, config: job().resolved };
    assert.equal(staleReason(saved, job()), undefined);
    const restore = { temp: WAV2VEC_DEFAULTS.logitTemp, l2: SPEECH_PROBE_DEFAULTS.l2, alpha: NORM_DEFAULTS.alpha0 };
    try {
      WAV2VEC_DEFAULTS.logitTemp = 0.2;
      assert.match(staleReason(saved, job()) ?? "", /model\.logitTemp: saved 0\.1, now 0\.2/);
      WAV2VEC_DEFAULTS.logitTemp = restore.temp;
      SPEECH_PROBE_DEFAULTS.l2 = 1e-2;
      assert.match(staleReason(saved, job()) ?? "", /probe\.l2: saved 0\.001, now 0\.01/);
      SPEECH_PROBE_DEFAULTS.l2 = restore.l2;
      NORM_DEFAULTS.alpha0 = 0.6;
      assert.match(staleReason(saved, job()) ?? "", /alpha0: saved 0\.5, now 0\.6/);
    } finally {
      WAV2VEC_DEFAULTS.logitTemp = restore.temp;
      SPEECH_PROBE_DEFAULTS.l2 = restore.l2;
      NORM_DEFAULTS.alpha0 = restore.alpha;
    }
  });
});

describe("the learned rule: contrastive accuracy with ties lost", () => {
  test("a collapsed codebook (every distractor equals its target) has fairseq's loss ~0 and accuracy 1, but the tie-counting loss ln(K+1) and strict accuracy 0: not learned", async () => {
    await useEngine("cpu");
    const [B, M, D, K] = [1, 4, 3, 3];
    const q = tf.tensor3d(Array.from({ length: B * M * D }, () => 1), [B, M, D]); // every target the same codeword
    const c = tf.tensor3d(Array.from({ length: B * M * D }, (_, i) => 1 + 0.01 * i), [B, M, D]);
    const negatives = Int32Array.from({ length: B * M * K }, (_, i) => (Math.floor(i / K) + 1 + (i % K)) % M);
    const r = contrastiveLoss(c, q, negatives, K, 0.1);
    try {
      assert.ok(r.loss.dataSync()[0]! < 1e-6, "fairseq's loss falls to 0 with nothing learned");
      assert.ok(Math.abs(r.strictLoss.dataSync()[0]! - Math.log(K + 1)) < 1e-5, `the tie-counting loss is chance, ln(K+1) = ${Math.log(K + 1)}: got ${r.strictLoss.dataSync()[0]}`);
      assert.equal(r.distractorsEqual.dataSync()[0], 1);
      assert.equal(r.acc.dataSync()[0], 1, "fairseq's accuracy leaves identical distractors out");
      assert.equal(r.strictAcc.dataSync()[0], 0, "ties lost");
    } finally {
      tf.dispose([q, r.loss, r.strictLoss, r.acc, r.strictAcc, r.distractorsEqual]);
    }
    // With distinct targets nothing is tied, and the two losses are one.
    const q2 = tf.tensor3d(Array.from({ length: B * M * D }, (_, i) => Math.sin(1 + i * 1.7)), [B, M, D]);
    const r2 = contrastiveLoss(c, q2, negatives, K, 0.1);
    try {
      assert.equal(r2.distractorsEqual.dataSync()[0], 0);
      assert.ok(Math.abs(r2.loss.dataSync()[0]! - r2.strictLoss.dataSync()[0]!) < 1e-6, "no ties: strictLoss = loss");
    } finally {
      tf.dispose([q2, c, r2.loss, r2.strictLoss, r2.acc, r2.strictAcc, r2.distractorsEqual]);
    }
    // The protocol reads strictAcc: loss 0 with strict accuracy 0 is "did not learn"; K = 5 needs >= 1/6 + 0.2 x 5/6 = 33.3 %.
    const rec = (loss: number, strictAcc: number, status = "completed") =>
      ({ config: { model: { numNegatives: 5 } }, result: { status, evals: [{ step: 1, loss, acc: 1, strictAcc }], test: { loss, acc: 1, strictAcc } } }) as unknown as SpeechProtocolRecord;
    assert.equal(speechScore(rec(0.001, 0), "test").class, "did not learn");
    assert.equal(speechScore(rec(1.2, 0.33), "test").class, "did not learn");
    assert.equal(speechScore(rec(1.2, 0.34), "test").class, "learned");
    assert.equal(speechScore(rec(NaN, 0.9, "diverged"), "val").class, "diverged");
    // ... and lr tuning never picks a collapsed run, however low its validation loss.
    const tune = (lr: number, loss: number, strictAcc: number) => ({ ...rec(loss, strictAcc), role: "tune", arm: "dyt", config: { task: "speech-pretrain", model: { numNegatives: 5 }, train: { lr } } }) as unknown as SpeechProtocolRecord;
    const p = pickLr("dyt", [tune(1e-3, 1.5, 0.5), tune(2e-3, 0.01, 0.0)]);
    assert.equal(p.bestLr, 1e-3);
    assert.deepEqual(p.grid.map((g) => g.class), ["learned", "did not learn"]);
  });
});

describe("speech-pretrain task: the recorded train window count", () => {
  test("is the full set's (every package, 1 s windows) under the current recipe and packages, the study's data config", () => {
    const full = { ...SPEECH_DATA_DEFAULTS, ...WAV2VEC_SCALES.full.base.data };
    assert.equal(full.packages, "all");
    assert.equal(full.maxClipsPerGroup, 0);
    const rec = RECORDED_SPEECH_TRAIN_WINDOWS.find((r) => r.windowSamples === full.windowSamples);
    assert.ok(rec, "a count is recorded for 1 s windows");
    // A changed recipe or package changes the key: the record no longer applies and must be re-recorded from a build.
    assert.equal(rec.source, speechSourceKey({ packages: "all" }), "the record names the current full set");
    assert.equal(Math.ceil(rec.train / 16), 1909, "1 epoch at batch 16 is the 1,909 steps amendment 2 registered");
  });

  test("stands in for the set while it is not built (nothing is built), and must equal the set once it is", () => {
    const n = speechTrainWindows(BASE); // builds the tiny subset under the test's data dir if needed
    const d = { ...SPEECH_DATA_DEFAULTS, ...BASE.data };
    const o = speechSourceOpts(d);
    const key = speechSourceKey(o);
    assert.equal(speechTrainWindows(BASE, [{ source: key, windowSamples: d.windowSamples, train: n }]), n);
    assert.throws(() => speechTrainWindows(BASE, [{ source: key, windowSamples: d.windowSamples, train: n + 1 }]), new RegExp(`has ${n} training windows .* but ${n + 1} are recorded for it \\(RECORDED_SPEECH_TRAIN_WINDOWS`));
    const saved = process.env.DYT_DATA_DIR;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-speech-count-"));
    try {
      process.env.DYT_DATA_DIR = empty;
      forgetSpeech();
      assert.equal(speechCacheReady(o), false);
      assert.equal(speechTrainWindows(BASE, [{ source: key, windowSamples: d.windowSamples, train: 12345 }]), 12345);
      assert.deepEqual(fs.readdirSync(empty), [], "nothing was fetched or built");
    } finally {
      if (saved === undefined) delete process.env.DYT_DATA_DIR;
      else process.env.DYT_DATA_DIR = saved;
      forgetSpeech();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("speech-pretrain task on the runner", () => {
  useTempResultsDirs("dyt-speech-task-");

  test("a budget in epochs is over the train windows; a job runs through runJobs (test loss, strict accuracy, codebook state, probe and its init reference)", async () => {
    await useEngine("native");
    const n = speechTrainWindows(BASE);
    assert.ok(n > 8, `${n} train windows`);
    assert.equal(epochSchedule(1, BASE).steps, Math.ceil(n / 4));
    const job = armJob({ experiment: "speech-task-test", scale: "smoke", base: BASE }, arm("layernorm"), 1, { run: "layernorm-s1", role: "eval", lr: 1e-3 });
    const [rec] = await runJobs([job], { scale: "smoke", verbose: false });
    const res = rec!.result;
    assert.equal(res.status, "completed");
    assert.equal(res.evals.length, 2);
    assert.ok(res.evals.every((e) => Number.isFinite(e.loss) && Number.isFinite((e as { strictAcc?: number }).strictAcc)), "validation loss and strict accuracy at every eval");
    const t = res.test!;
    for (const k of ["loss", "fairseqLoss", "acc", "strictAcc", "contrastive", "strictContrastive", "diversity", "perplexity", "distractorsEqual"] as const) assert.ok(Number.isFinite(t[k]), `test ${k}`);
    // The claim's loss is fairseq's total with its contrastive term swapped for the tie-counting one; ties can only raise it.
    assert.ok(Math.abs(t.loss - (t.fairseqLoss - t.contrastive + t.strictContrastive)) < 1e-6, "loss = fairseqLoss − contrastive + strictContrastive");
    assert.ok(t.strictContrastive >= t.contrastive - 1e-6, "counting ties cannot lower the contrastive loss");
    assert.ok(t.strictAcc <= t.acc + 1e-9, "ties lost can only lower the accuracy");
    const p = res.probe!;
    assert.deepEqual([p.split, p.numClasses, p.featureDim], ["alternate", 5, 16]);
    assert.ok(p.nTrain > 0 && p.nTest > 0 && p.init && p.init.testAcc >= 0 && p.testAcc <= 1);
    const [again] = await runJobs([job], { scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again!.result.log, res.log, "loaded, not retrained");
  });

  test("no tensor leaks across the task's steps (the trainer's leak guard is on) nor after test and probes; exact resume through the task", async () => {
    await useEngine("native");
    const r: SpeechResolvedRun = resolveRun(BASE, arm("dyt"), 2, { lr: 1e-3 });
    const before = tf.memory().numTensors;
    const full = await runSpeechTask(r, undefined, "leak-and-resume-ref");
    assert.equal(full.status, "completed");
    assert.equal(tf.memory().numTensors, before);
    assert.equal(Object.keys(full.finalAlpha ?? {}).length, 4, "DyT alpha of the feature norm, the block's 2 norms and the final norm (the conv encoder keeps LayerNorm)");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-speech-resume-"));
    try {
      const m = new Wav2Vec2(r.model);
      try {
        assert.equal((await train(m, speechRunTask(r), r.train, { runDir: dir, stopAfter: 2, progress: false })).status, "interrupted");
      } finally {
        m.dispose();
      }
      const resumed = await runSpeechTask(r, dir, "resume");
      assert.deepEqual(resumed.log.map((l) => l.loss), full.log.map((l) => l.loss));
      assert.deepEqual(resumed.test, full.test);
      assert.deepEqual(resumed.probe, full.probe);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A hand-built arm: test losses (nats) and probe accuracies (%) per seed. */
const fakeArm = (label: string, losses: number[], probeAccs: number[], o: FakeClasses = {}): W2vArmRuns =>
  fakePretrainProbeArm(label, { losses, fairseqLosses: losses, strictAccs: losses.map(() => 60), fairseqAccs: losses.map(() => 61), distractorsEqual: losses.map(() => 0), perplexity: losses.map(() => 40) }, probeAccs, { acc: 60, probeInitAcc: 40, ...o });

describe("wav2vec-ln-dyt verdicts on hand-built arms", () => {
  const LN = [1.95, 1.955, 1.948];
  const LN_PROBE = [60.0, 60.9, 59.6] as const;
  test("W2V-1: supported, not supported, inconclusive; margin rules.speechMatchMarginNats on the negated losses", () => {
    const ln = fakeArm("LayerNorm", LN, [...LN_PROBE]);
    const dyt = (losses: number[]) => fakeArm("DyT", losses, [...LN_PROBE]);
    const same = compareW2vPretrain(dyt([1.951, 1.954, 1.95]), ln);
    assert.equal(same.outcome, "supported");
    assert.deepEqual([same.evidence!.units, same.evidence!.margin], ["nats", RULES.speechMatchMarginNats]);
    assert.equal(compareW2vPretrain(dyt([2.1, 2.11, 2.105]), ln).outcome, "not supported", "DyT 0.15 nats worse on every seed");
    assert.equal(compareW2vPretrain(dyt([2.0, 1.93, 2.06]), ln).outcome, "inconclusive");
    assert.equal(compareW2vPretrain(dyt([1.8, 1.81, 1.79]), ln).outcome, "supported", "lower is better");
  });

  test("not testable, never not supported, when an arm did not learn on some seed (either claim)", () => {
    const ln = fakeArm("LayerNorm", LN, [...LN_PROBE]);
    const stuck = fakeArm("DyT", [2.3, 1.95, 1.95], [...LN_PROBE], { classes: ["did not learn", L, L] });
    for (const compare of [compareW2vPretrain, compareW2vProbe]) assertNotTestableWhenStuck(compare, stuck, ln);
    const lnStuck = compareW2vPretrain(fakeArm("DyT", LN, [...LN_PROBE]), fakeArm("LayerNorm", LN, [...LN_PROBE], { classes: [L, L, "diverged"] }));
    assert.equal(lnStuck.outcome, "not testable");
  });

  test("W2V-probe: supported, not supported, inconclusive; not testable when a probe is below the 5-class threshold (36 %)", () => {
    assertProbeOutcomes(compareW2vProbe, (label, probeAccs, o) => fakeArm(label, LN, probeAccs, o), LN_PROBE, { belowThreshold: 30, thresholdPct: 36 });
  });
});

describe("wav2vec-ln-dyt experiment", () => {
  useTempResultsDirs("dyt-w2v-exp-");

  test("runs end to end at smoke: both arms, both claims among the four outcomes, figures, table, claims rows; --cached-only rebuilds the same summary", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(wav2vecLnDytEntry), "registered");
    const { records, summary } = await runWav2VecLnDyt({ scale: "smoke", verbose: false });
    assert.equal(records.filter((r) => r.role === "tune").length, 4, "2 lrs x 2 arms on the tuning seed");
    assert.equal(records.filter((r) => r.role === "eval").length, 4, "2 seeds x 2 arms");
    assert.deepEqual(summary.arms.map((a) => a.arm), ["dyt", "layernorm"]);
    for (const a of summary.arms) assert.ok([...a.losses, ...a.strictAccs, ...a.distractorsEqual, ...a.perplexity, ...a.probeAccs, ...a.probeInitAccs].every(Number.isFinite), `${a.label}: every seed's scores`);
    assert.ok(OUTCOMES.includes(summary.pretrain.verdict) && OUTCOMES.includes(summary.probe.verdict));
    assert.equal(summary.verdict, `W2V-1: ${summary.pretrain.verdict}; W2V-probe: ${summary.probe.verdict}`);
    assert.ok(Math.abs(summary.chanceLoss - Math.log(6)) < 1e-12);
    assert.match(summary.setup, /wav2vec 2\.0 \(7 convs x 8 channels, layernorm in the conv encoder\), width 16, depth 1.*"tiny" speech subset.*lr tuned per arm on validation pretraining loss/);
    assert.ok(summary.arms[0]!.meanFinalAlpha !== undefined, "DyT alpha recorded");
    const figs = [w2vTrainLossFigure(records, summary), w2vHeldOutFigure(records, summary), w2vAccuracyFigure(records, summary), w2vTuningFigure(summary), w2vProbeFigure(summary)];
    for (const f of figs) assert.ok(f.data.length > 0);
    assert.equal(w2vArmTable(summary).length, 2);
    const rows = wav2vecLnDytEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["W2V-1", "W2V-probe"]);
    assert.deepEqual(rows.map((r) => r.verdict), [summary.pretrain.verdict, summary.probe.verdict]);
    assert.match(rows[0]!.paper, /1\.95 \/ 1\.95/);
    const again = await runWav2VecLnDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, summary, "the summary rebuilt from the saved records is the same");
  });

  test("amendment 3: DyT at alpha0 2 against the same LayerNorm runs, loaded not re-run; the entry returns both comparisons' rows", async () => {
    await useEngine("native");
    const main = await runWav2VecLnDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    const a2 = await runWav2VecAlpha2({ scale: "smoke", verbose: false });
    assert.deepEqual(a2.summary.arms.map((a) => a.arm), ["dyt-a2", "layernorm"]);
    const ln = (rs: typeof a2.records) => rs.filter((r) => r.arm === "layernorm").map((r) => [r.run, r.provenance.startedAt]);
    assert.deepEqual(ln(a2.records), ln(main.records), "the LayerNorm records are the main study's");
    for (const r of a2.records.filter((x) => x.arm === "dyt-a2")) assert.equal(r.config.model.normOptions.alpha0, 2, r.run);
    const out = await wav2vecLnDytEntry.run({ scale: "smoke", verbose: false, cachedOnly: true }, {});
    const rows = wav2vecLnDytEntry.claims(out.summary);
    assert.deepEqual(rows.map((r) => r.id), ["W2V-1", "W2V-probe", "W2V-1 (α₀ 2)", "W2V-probe (α₀ 2)"]);
    assert.deepEqual(rows.slice(2).map((r) => r.verdict), [a2.summary.pretrain.verdict, a2.summary.probe.verdict]);
    assert.match(rows[2]!.claim, /^DyT \(α₀ 2\) matches LayerNorm/);
  });
});

describe("wav2vec-ln-dyt schedule sizing", () => {
  test("jobs: each arm under cosine and warmup + constant, the full budget, the tuning seed, one lr", () => {
    const s = WAV2VEC_SCALES.smoke;
    const jobs = sizingJobs(s, "smoke");
    assert.deepEqual(jobs.map((j) => j.run), ["size-dyt-cosine-lr2.0e-3-s101", "size-dyt-constant-lr2.0e-3-s101", "size-layernorm-cosine-lr2.0e-3-s101", "size-layernorm-constant-lr2.0e-3-s101"]);
    const steps = epochSchedule(s.epochs, s.base).steps;
    for (const j of jobs) {
      assert.equal(j.seed, 101);
      assert.equal(j.resolved.train.lr, SIZING_LR);
      assert.equal(j.resolved.train.steps, steps);
      assert.equal(j.resolved.train.minLrRatio, j.axes.schedule === "constant" ? 1 : 0.01);
    }
  });

  test("budget probe jobs: each arm under warmup + constant for 0.5 epoch (2.5x the smoke budget's steps), tuning seed", () => {
    const s = WAV2VEC_SCALES.smoke;
    const jobs = budgetProbeJobs(s, "smoke");
    assert.deepEqual(jobs.map((j) => j.run), ["budget-dyt-constant-0.5ep-lr2.0e-3-s101", "budget-layernorm-constant-0.5ep-lr2.0e-3-s101"]);
    for (const j of jobs) assert.deepEqual([j.seed, j.resolved.train.minLrRatio, j.resolved.train.steps], [101, 1, epochSchedule(0.5, s.base).steps]);
  });

  test("the decision rule: warmup + constant only when an arm learns under it and not under cosine", () => {
    const rec = (arm: string, schedule: string, strictAcc: number) =>
      ({ arm, seed: 101, axes: { schedule }, config: { model: { numNegatives: 5 }, train: { steps: 100 } }, result: { status: "completed", msPerStep: 1, evals: [{ step: 50, loss: 1.7, acc: 0.5, strictAcc: 0.1 }, { step: 100, loss: 1.5, acc: 0.6, strictAcc }] } }) as unknown as SpeechProtocolRecord;
    const s = WAV2VEC_SCALES.smoke;
    const both = summarizeSizing([rec("dyt", "cosine", 0.5), rec("dyt", "constant", 0.5), rec("layernorm", "cosine", 0.5), rec("layernorm", "constant", 0.5)], s);
    assert.equal(both.schedule, "cosine");
    assert.match(both.why, /no arm learned only under constant lr/);
    assert.equal(both.runs[0]!.firstLearnedStep, 100, "33.3 % threshold first passed at the last eval");
    const dytOnlyConstant = summarizeSizing([rec("dyt", "cosine", 0.2), rec("dyt", "constant", 0.5), rec("layernorm", "cosine", 0.5), rec("layernorm", "constant", 0.5)], s);
    assert.equal(dytOnlyConstant.schedule, "constant");
    assert.match(dytOnlyConstant.why, /^DyT learned only under constant lr/);
    assert.equal(dytOnlyConstant.runs[0]!.firstLearnedStep, undefined);
    const neither = summarizeSizing([rec("dyt", "cosine", 0.2), rec("dyt", "constant", 0.2), rec("layernorm", "cosine", 0.5), rec("layernorm", "constant", 0.5)], s);
    assert.equal(neither.schedule, "cosine", "an arm that learns under neither schedule does not move the study");
  });
});
