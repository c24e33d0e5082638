/**
 * The "dna-lm" task of the protocol runner (HyenaDNA pretrained on
 * next-nucleotide prediction, then a linear probe downstream) and the
 * dna-hyena experiment: resolved configs and cache keys, no tensor leak and
 * exact resume through the task, a clear error when the data are missing,
 * the two claims' verdict functions on hand-built arms (every outcome), and
 * the experiment end to end at smoke, rebuilt from its records alone.
 * Data: the DNA cache under DYT_DATA_DIR (lib/data/dna.ts).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { arm, deriveArm } from "../lib/experiments/protocol/arms";
import { DNA_PROBE_DEFAULTS, dnaPretrainTask, dnaTrainWindows, runDnaTask, spreadStarts, type DnaResolvedRun, type DnaRunBase } from "../lib/experiments/protocol/dna-task";
import { armJob, epochSchedule } from "../lib/experiments/protocol/jobs";
import { RULES } from "../lib/experiments/protocol/rules";
import { recordFile, runJobs, staleReason } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { resultPath, RECORD_EPOCH } from "../lib/experiments/runner";
import { EXPERIMENTS } from "../lib/experiments/registry";
import {
  compareDnaDownstream,
  compareDnaPretrain,
  dnaArmTable,
  dnaHeldOutFigure,
  dnaHyenaEntry,
  dnaProbeFigure,
  dnaTrainLossFigure,
  dnaTuningFigure,
  runDnaHyena,
  DNA_HYENA,
  type DnaArmRuns,
} from "../lib/experiments/dna-hyena";
import { DNA_GENOMES } from "../lib/data/dna";
import { HYENA_DEFAULTS, HyenaDNA } from "../lib/models/hyena";
import { NORM_DEFAULTS } from "../lib/norms/factory";
import { train } from "../lib/train/trainer";
import { useEngine, useTempResultsDirs } from "./helpers";
import { assertNotTestableWhenStuck, assertProbeOutcomes, fakePretrainProbeArm, L, type FakeClasses } from "./pretrain-probe-helpers";

/** A tiny HyenaDNA on the first 1,000 bases of each genome: the runner's bookkeeping is under test, not learning. */
const BASE: DnaRunBase = {
  task: "dna-lm",
  model: { dim: 8, depth: 1, filterOrder: 8 },
  train: { steps: 6, batchSize: 4, warmupSteps: 1, evalEvery: 3, evalLimit: 8, evalBatchSize: 8, logEvery: 1, checkpointEvery: 3 },
  data: { seqLen: 16, trainBasesPerGenome: 1000, testLimit: 8 },
  probe: { trainLimit: 32, testLimit: 32, steps: 20, batchSize: 32 },
};

describe("dna-lm task: resolved config", () => {
  test("task, data, probe, model and training are written out; the norm arm fills the slots; wrong arms and models are refused", () => {
    const d = resolveRun(BASE, arm("dyt"), 3);
    assert.equal(d.task, "dna-lm");
    assert.deepEqual(d.data, { dataset: "dna", genomes: DNA_GENOMES.map((g) => g.id), seqLen: 16, trainBasesPerGenome: 1000, testLimit: 8 });
    assert.deepEqual(d.probe, { ...DNA_PROBE_DEFAULTS, trainLimit: 32, testLimit: 32, steps: 20, batchSize: 32 });
    assert.equal(d.probe.task, "coding");
    assert.equal(d.model.maxSeqLen, 200, "the probe's 200 bp coding windows must fit the implicit filter");
    assert.deepEqual([d.model.head, d.model.vocabSize, d.model.bidirectional, d.model.rcEquivariant], ["lm", 5, false, false]);
    assert.deepEqual([d.model.seed, d.train.seed, d.model.norm], [3, 3, "dyt"]);
    assert.equal(d.model.filterSinFreq, HYENA_DEFAULTS.filterSinFreq);
    assert.equal(d.normResolved.alpha0, NORM_DEFAULTS.alpha0);
    assert.equal(resolveRun({ ...BASE, data: { ...BASE.data, seqLen: 256 } }, arm("layernorm"), 1).model.maxSeqLen, 256);
    assert.equal(resolveRun(BASE, arm("layernorm"), 1).model.norm, "layernorm");
    assert.throws(() => resolveRun(BASE, arm("dyt-lm"), 1), /LLaMA language-model arm/);
    assert.throws(() => resolveRun(BASE, deriveArm("dyt", { placement: "post" }), 1), /only the ViT has/);
    assert.throws(() => resolveRun({ ...BASE, model: { ...BASE.model, bidirectional: true } }, arm("dyt"), 1), /needs a causal model.*Caduceus/);
    assert.throws(() => resolveRun({ ...BASE, data: { ...BASE.data, genomes: ["yeast"] } }, arm("dyt"), 1), /unknown genome "yeast"; valid: ecoli/);
    assert.throws(() => resolveRun({ ...BASE, probe: { task: "enhancer" as never } }, arm("dyt"), 1), /unknown probe task "enhancer"/);
  });

  test("the cache key holds every default: a changed Hyena, probe or DyT default makes a saved record stale", () => {
    const job = () => armJob({ experiment: "dna-task-test", scale: "smoke", base: BASE }, arm("dyt"), 1, { run: "dyt-s1", role: "eval", lr: 3e-3 });
    const saved = { epoch: RECORD_EPOCH, config: job().resolved };
    assert.equal(staleReason(saved, job()), undefined);
    const restore = { sin: HYENA_DEFAULTS.filterSinFreq, l2: DNA_PROBE_DEFAULTS.l2, alpha: NORM_DEFAULTS.alpha0 };
    try {
      HYENA_DEFAULTS.filterSinFreq = 2;
      assert.match(staleReason(saved, job()) ?? "", /model\.filterSinFreq: saved 1, now 2/);
      HYENA_DEFAULTS.filterSinFreq = restore.sin;
      DNA_PROBE_DEFAULTS.l2 = 1e-2;
      assert.match(staleReason(saved, job()) ?? "", /probe\.l2: saved 0\.001, now 0\.01/);
      DNA_PROBE_DEFAULTS.l2 = restore.l2;
      NORM_DEFAULTS.alpha0 = 0.6;
      assert.match(staleReason(saved, job()) ?? "", /alpha0: saved 0\.5, now 0\.6/);
    } finally {
      HYENA_DEFAULTS.filterSinFreq = restore.sin;
      DNA_PROBE_DEFAULTS.l2 = restore.l2;
      NORM_DEFAULTS.alpha0 = restore.alpha;
    }
  });

  test("a budget in epochs is over the windows of the train split; evaluation windows are spread over every genome", () => {
    // 1,000 bases per genome: floor(999 / 16) = 62 windows each, 620 in all; one epoch at batch 4 is 155 steps.
    assert.equal(dnaTrainWindows(BASE), 620);
    assert.equal(epochSchedule(1, BASE).steps, 155);
    assert.deepEqual(Array.from(spreadStarts(Int32Array.from([0, 10, 20, 30, 40, 50, 60, 70]), 4)), [10, 30, 50, 70]);
    assert.equal(spreadStarts(Int32Array.from([1, 2]), 0).length, 2);
  });
});

describe("dna-lm task on the runner", () => {
  useTempResultsDirs("dyt-dna-task-");

  test("a job runs through runJobs (test bits per base, baselines, the probe and its init reference) and a second call loads it", async () => {
    await useEngine("native");
    const job = armJob({ experiment: "dna-task-test", scale: "smoke", base: BASE }, arm("layernorm"), 1, { run: "layernorm-s1", role: "eval", lr: 3e-3 });
    const [rec] = await runJobs([job], { scale: "smoke", verbose: false });
    const res = rec!.result;
    assert.equal(rec!.config.task, "dna-lm");
    assert.equal(res.status, "completed");
    assert.equal(res.evals.length, 2);
    assert.ok(res.evals.every((e) => Number.isFinite(e.bpb)), "validation bits per base at every eval");
    assert.ok(res.test!.bpb > 1 && res.test!.bpb < 4, `test ${res.test!.bpb} bits per base`);
    const b = res.baselines.test;
    assert.ok(Math.abs(b.uniformBpb - Math.log2(5)) < 1e-12 && b.unigramBpb > 1.8 && b.unigramBpb < 2.3 && Number.isFinite(b.markovBpb), JSON.stringify(b));
    assert.equal(b.markovOrder, 8);
    const p = res.probe!;
    assert.deepEqual([p.task, p.nTrain, p.nTest, p.featureDim], ["coding", 32, 32, 8]);
    assert.ok(p.testAcc >= 0 && p.testAcc <= 1 && p.init && p.init.testAcc >= 0);
    const mtime = fs.statSync(recordFile(job)).mtimeMs;
    const [again] = await runJobs([job], { scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again!.result.log, res.log);
    assert.equal(fs.statSync(recordFile(job)).mtimeMs, mtime, "loaded, not retrained");
  });

  test("no tensor leaks across the task's steps (the trainer's leak guard is on), nor after training, test and probes", async () => {
    await useEngine("native");
    const r = resolveRun(BASE, arm("dyt"), 2, { lr: 3e-3 });
    const before = tf.memory().numTensors;
    const res = await runDnaTask(r, undefined, "leak-check");
    assert.equal(res.status, "completed");
    assert.equal(Object.keys(res.finalAlpha ?? {}).length, 3, "DyT alpha of the 2 block norms and the final norm");
    assert.equal(tf.memory().numTensors, before);
  });

  test("exact resume through the task: an interrupted run continues to the same losses, test bits and probe", async () => {
    await useEngine("native");
    const r: DnaResolvedRun = resolveRun(BASE, arm("layernorm"), 4, { lr: 3e-3 });
    const full = await runDnaTask(r, undefined, "resume-ref");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dna-resume-"));
    try {
      const m = new HyenaDNA(r.model);
      try {
        const part = await train(m, dnaPretrainTask(r), r.train, { runDir: dir, stopAfter: 3, progress: false });
        assert.equal(part.status, "interrupted");
      } finally {
        m.dispose();
      }
      const resumed = await runDnaTask(r, dir, "resume");
      assert.deepEqual(resumed.log.map((l) => l.loss), full.log.map((l) => l.loss));
      assert.deepEqual(resumed.test, full.test);
      assert.deepEqual(resumed.probe, full.probe);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("missing DNA data: the error names the task and the fix", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dna-missing-"));
    const saved = { data: process.env.DYT_DATA_DIR, fetch: process.env.DYT_DNA_FETCH };
    process.env.DYT_DATA_DIR = tmp;
    process.env.DYT_DNA_FETCH = "0";
    try {
      const r = resolveRun(BASE, arm("dyt"), 1);
      await assert.rejects(runDnaTask(r, undefined, "missing"), (e: Error) => /dna-lm task: cannot load the DNA pretraining splits/.test(e.message) && /is missing/.test(e.message) && /apt-get download/.test(e.message));
    } finally {
      for (const [k, v] of [["DYT_DATA_DIR", saved.data], ["DYT_DNA_FETCH", saved.fetch]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** A hand-built arm: test bits per base and probe accuracies (%) per seed. */
const fakeArm = (label: string, bpbs: number[], probeAccs: number[], o: FakeClasses = {}): DnaArmRuns => fakePretrainProbeArm(label, { bpbs }, probeAccs, { acc: 30, probeInitAcc: 60, ...o });

describe("dna-hyena verdicts on hand-built arms", () => {
  const LN_BITS = [1.95, 1.9505, 1.9498];
  const LN_PROBE = [80.0, 80.9, 79.6] as const;
  test("DNA-pretrain: supported, not supported, inconclusive, not testable (margin rules.dnaMatchMarginBits, in mbit/base)", () => {
    const ln = fakeArm("LayerNorm", LN_BITS, [...LN_PROBE]);
    const dyt = (bpbs: number[], o: FakeClasses = {}) => fakeArm("DyT", bpbs, [...LN_PROBE], o);
    const same = compareDnaPretrain(dyt([1.9501, 1.9504, 1.95]), ln);
    assert.equal(same.outcome, "supported");
    assert.equal(same.evidence!.units, "mbit/base");
    assert.equal(same.evidence!.margin, 1000 * RULES.dnaMatchMarginBits);
    assert.equal(compareDnaPretrain(dyt([1.99, 1.991, 1.9895]), ln).outcome, "not supported", "DyT 0.04 bits worse on every seed");
    assert.equal(compareDnaPretrain(dyt([1.96, 1.948, 1.975]), ln).outcome, "inconclusive");
    assertNotTestableWhenStuck(compareDnaPretrain, dyt([1.998, 1.95, 1.95], { classes: ["did not learn", L, L] }), ln);
    // lower is better: DyT below LN by a lot still "matches"
    assert.equal(compareDnaPretrain(dyt([1.90, 1.901, 1.899]), ln).outcome, "supported");
  });

  test("DNA-downstream: supported, not supported, inconclusive, not testable (a probe at chance, or pretraining that did not learn)", () => {
    assertProbeOutcomes(compareDnaDownstream, (label, probeAccs, o) => fakeArm(label, LN_BITS, probeAccs, o), LN_PROBE, { belowThreshold: 55, thresholdPct: 60 });
    const ln = fakeArm("LayerNorm", LN_BITS, [...LN_PROBE]);
    assert.equal(compareDnaDownstream(fakeArm("DyT", LN_BITS, [80.1, 81.0, 79.5], { classes: [L, "diverged", L] }), ln).outcome, "not testable");
  });
});

describe("dna-hyena experiment", () => {
  useTempResultsDirs("dyt-dna-exp-");

  test("runs end to end at smoke: both claims among the four outcomes, figures, table, claims rows; --cached-only rebuilds the same summary", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(dnaHyenaEntry), "registered");
    const { records, summary } = await runDnaHyena({ scale: "smoke", verbose: false });
    assert.equal(records.filter((r) => r.role === "tune").length, 4, "2 lrs x 2 arms on the tuning seed");
    assert.equal(records.filter((r) => r.role === "eval").length, 4, "2 seeds x 2 arms");
    assert.deepEqual(summary.arms.map((a) => a.arm), ["dyt", "layernorm"]);
    assert.deepEqual(summary.arms.map((a) => a.seeds), [[1, 2], [1, 2]]);
    for (const a of summary.arms) {
      assert.ok([...a.bpbs, ...a.probeAccs, ...a.probeInitAccs].every(Number.isFinite), `${a.label}: every seed's bits, probe and init probe`);
      assert.ok(OUTCOMES.includes(summary.pretrain.verdict) && OUTCOMES.includes(summary.downstream.verdict));
    }
    assert.equal(summary.verdict, `DNA-pretrain: ${summary.pretrain.verdict}; DNA-downstream: ${summary.downstream.verdict}`);
    assert.equal(summary.probeTask, "coding");
    assert.ok(summary.baselines.unigramBpb > 1.8 && summary.baselines.unigramBpb < 2.3);
    assert.match(summary.setup, /HyenaDNA-style decoder width 8, depth 1, filter MLP 8, init std 0\.453, context 32 bases.*8 steps, batch 8.*lr tuned per arm/);
    assert.ok(summary.arms[0]!.meanFinalAlpha !== undefined, "DyT alpha recorded");
    for (const f of [dnaTrainLossFigure(records, summary), dnaHeldOutFigure(records, summary), dnaTuningFigure(summary), dnaProbeFigure(summary)]) assert.ok(f.data.length > 0);
    assert.equal(dnaArmTable(summary).length, 2);
    const rows = dnaHyenaEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["DNA-pretrain", "DNA-downstream"]);
    assert.deepEqual(rows.map((r) => r.verdict), [summary.pretrain.verdict, summary.downstream.verdict]);
    assert.match(rows[0]!.paper, /85\.2 \/ 86\.9/);
    const file = resultPath(DNA_HYENA, "smoke", "summary.json");
    const bytes = fs.readFileSync(file, "utf8");
    const again = await runDnaHyena({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.equal(fs.readFileSync(file, "utf8"), bytes, "the summary rebuilt from the saved records is byte-identical");
    assert.equal(again.summary.verdict, summary.verdict);
  });
});
