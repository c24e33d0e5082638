/**
 * Language-model runs on the protocol runner: the resolved-config cache,
 * staleness on a changed LM default, run classification in bits per byte,
 * lr picking on validation bpb, the lm-rmsnorm-dyt experiment end to end at
 * smoke, and no tensor leak across the LM task's steps.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { arm } from "../lib/experiments/protocol/arms";
import { classifyLmRun, lmPlateaued } from "../lib/experiments/protocol/classify";
import { recordClass } from "../lib/experiments/protocol/compare";
import { armJob, epochSchedule } from "../lib/experiments/protocol/jobs";
import { runLmTask } from "../lib/experiments/protocol/lm-task";
import { RULES } from "../lib/experiments/protocol/rules";
import { loadCurrent, recordFile, runJobs, StaleResultError } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { heldOutFigure, lmArmTable, lmRmsnormDytEntry, lmTuningFigure, runLmRmsnormDyt, trainLossFigure } from "../lib/experiments/lm-rmsnorm-dyt";
import { LLAMA_DEFAULTS, paperLlamaAlpha0 } from "../lib/models/llama";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeLm, LM_TEST_BASE as BASE } from "./lm-fakes";

const spec = { experiment: "lm-protocol-test", scale: "smoke" as const, base: BASE };

describe("LM runs: resolved config", () => {
  test("the task discriminator and every default are written out; the DyT arm brings the paper's LLaMA recipe", () => {
    const d = resolveRun(BASE, arm("dyt-lm"), 3);
    assert.equal(d.task, "lm-text");
    assert.deepEqual(d.data, { dataset: "text", corpora: ["kjv", "brown", "sotu", "moby-dick"], seqLen: 16, trainTokens: 4097, testLimit: 8 });
    assert.equal(d.model.maxSeqLen, 16);
    assert.equal(d.model.ropeTheta, LLAMA_DEFAULTS.ropeTheta);
    assert.equal(d.model.seed, 3);
    assert.equal(d.train.seed, 3);
    assert.deepEqual([d.model.alpha0Attn, d.model.alpha0Ffn, d.model.alpha0Final], [1, 1, 1]);
    assert.equal(d.model.embedScale, true);
    assert.equal(d.normResolved.bias, false, "DyT keeps gamma and drops beta");
    const r = resolveRun(BASE, arm("rmsnorm"), 3);
    assert.equal(r.model.norm, "rmsnorm");
    assert.equal(r.model.embedScale, false);
    assert.equal(r.model.alpha0Attn, undefined);
    assert.deepEqual(paperLlamaAlpha0(4096), { alpha0Attn: 0.8, alpha0Ffn: 0.2, alpha0Final: 0.2 });
    assert.deepEqual(paperLlamaAlpha0(2048), { alpha0Attn: 1, alpha0Ffn: 0.5, alpha0Final: 0.5 });
    assert.throws(() => resolveRun({ model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: {}, data: { trainLimit: 10, testLimit: 10 } }, arm("dyt-lm"), 1), /language-model arm/);
  });

  test("a budget in epochs is over the windows of the train split", () => {
    // 4097 tokens = 256 windows of 16 (+1): one epoch at batch 4 is 64 steps.
    assert.equal(epochSchedule(1, BASE).steps, 64);
    assert.equal(epochSchedule(0.5, BASE).steps, 32);
  });
});

describe("LM runs on the runner", () => {
  useTempResultsDirs("dyt-lm-protocol-");

  test("an LM job runs through runJobs, is cached on its resolved config, and a second call loads it", async () => {
    await useEngine("native");
    const job = armJob(spec, arm("rmsnorm"), 1, { run: "rmsnorm-s1", role: "eval", lr: 3e-3 });
    const [rec] = await runJobs([job], { scale: "smoke", verbose: false });
    assert.equal(rec!.config.task, "lm-text");
    assert.equal(rec!.result.status, "completed");
    assert.equal(rec!.result.evals.length, 2);
    assert.ok(rec!.result.evals.every((e) => Number.isFinite(e.bpb)), "validation bpb at every eval");
    assert.ok(Number.isFinite(rec!.result.test!.bpb));
    const b = rec!.result.baselines;
    assert.ok(b.test.unigramBpb > 3 && b.test.unigramBpb < b.test.uniformBpb && b.test.uniformBpb > 7.9, `baselines ${JSON.stringify(b)}`);
    const mtime = fs.statSync(recordFile(job)).mtimeMs;
    const [again] = await runJobs([job], { scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again!.result.log, rec!.result.log);
    assert.equal(fs.statSync(recordFile(job)).mtimeMs, mtime, "loaded, not retrained");
  });

  test("a changed LM default (LLaMA ropeTheta) makes the record stale: refused under cachedOnly, re-run otherwise", () => {
    const job = () => armJob(spec, arm("rmsnorm"), 1, { run: "rmsnorm-s1", role: "eval", lr: 3e-3 });
    assert.ok(loadCurrent(job(), { scale: "smoke", cachedOnly: true }), "the same resolved config is reused");
    const saved = LLAMA_DEFAULTS.ropeTheta;
    try {
      LLAMA_DEFAULTS.ropeTheta = saved * 2;
      assert.throws(
        () => loadCurrent(job(), { scale: "smoke", cachedOnly: true }),
        (e: Error) => e instanceof StaleResultError && new RegExp(`model\\.ropeTheta: saved ${saved}, now ${saved * 2}`).test(e.message) && /npm run exp -- lm-protocol-test --scale smoke/.test(e.message),
      );
      assert.equal(loadCurrent(job(), { scale: "smoke", verbose: false }), undefined, "re-run, never reused");
    } finally {
      LLAMA_DEFAULTS.ropeTheta = saved;
    }
  });

  test("no tensor leaks across the LM task's steps (the trainer's leak guard is on) nor after the run", async () => {
    await useEngine("native");
    const r = resolveRun(BASE, arm("dyt-lm"), 2, { lr: 3e-3 });
    const before = tf.memory().numTensors;
    const res = await runLmTask(r, undefined, "leak-check");
    assert.equal(res.status, "completed");
    assert.ok(res.finalAlpha && Object.keys(res.finalAlpha).length === 3, "DyT alpha of the 3 norms recorded");
    assert.equal(tf.memory().numTensors, before);
  });
});

describe("LM run classification and lr picking", () => {
  test("diverged / did not learn / learned, in bits per byte against the unigram baseline", () => {
    const u = 4.5;
    assert.equal(classifyLmRun({ status: "diverged", unigramBpb: u }), "diverged");
    assert.equal(classifyLmRun({ status: "completed", bpb: NaN, unigramBpb: u }), "diverged");
    assert.equal(classifyLmRun({ status: "completed", bpb: Infinity, unigramBpb: u }), "diverged");
    assert.equal(classifyLmRun({ status: "interrupted", unigramBpb: u }), "did not learn");
    assert.equal(classifyLmRun({ status: "completed", bpb: 4.4, unigramBpb: u }), "did not learn", "0.1 below the unigram rate is not enough");
    assert.equal(classifyLmRun({ status: "completed", bpb: u - RULES.lmLearnedBelowUnigramBpb, unigramBpb: u }), "learned");
    assert.equal(classifyLmRun({ status: "completed", bpb: 2.5, unigramBpb: u }), "learned");
    assert.equal(recordClass(fakeLm({ bpb: 2.5 })), "learned");
    assert.equal(recordClass(fakeLm({ bpb: 4.4 })), "did not learn");
    assert.equal(recordClass(fakeLm({ status: "diverged" })), "diverged");
  });

  test("plateau on validation bpb: a fall below lmPlateauBpb over the last third", () => {
    // The reference is the first eval at or after two thirds of the last step (step 4 of 6).
    assert.equal(lmPlateaued([{ step: 2, bpb: 3.5 }, { step: 4, bpb: 3.0 }, { step: 6, bpb: 2.99 }]).plateaued, true);
    assert.equal(lmPlateaued([{ step: 2, bpb: 3.5 }, { step: 4, bpb: 3.0 }, { step: 6, bpb: 2.8 }]).plateaued, false);
    assert.ok(Math.abs(lmPlateaued([{ step: 2, bpb: 3.5 }, { step: 4, bpb: 3.0 }, { step: 6, bpb: 2.8 }]).gainBpb - 0.2) < 1e-12);
    assert.equal(lmPlateaued([{ step: 3, bpb: 3.0 }, { step: 6, bpb: 2.99 }]).plateaued, false, "no eval inside the last third before the last");
  });

  test("pickLr picks the lowest validation bpb; runs that diverged or did not learn never win; ties go to the smaller lr", () => {
    const p = pickLr("rmsnorm", [fakeLm({ lr: 1e-3, bpb: 3.0 }), fakeLm({ lr: 3e-3, bpb: 2.6 }), fakeLm({ lr: 1e-2, bpb: 2.7 }), fakeLm({ lr: 3e-2, status: "diverged" })]);
    assert.equal(p.bestLr, 3e-3);
    assert.equal(p.atEdge, false);
    assert.deepEqual(p.grid.map((g) => g.valBpb), [3.0, 2.6, 2.7, null]);
    assert.deepEqual(p.grid.map((g) => g.class), ["learned", "learned", "learned", "diverged"]);
    assert.equal(pickLr("rmsnorm", [fakeLm({ lr: 1e-3, bpb: 2.6 }), fakeLm({ lr: 3e-3, bpb: 2.6 })]).bestLr, 1e-3);
    assert.equal(pickLr("rmsnorm", [fakeLm({ lr: 1e-3, bpb: 4.4 }), fakeLm({ lr: 3e-3, bpb: 3.9 })]).bestLr, 3e-3, "only the run that learned can win");
    assert.equal(pickLr("rmsnorm", [fakeLm({ lr: 1e-3, bpb: 4.4 }), fakeLm({ lr: 3e-3, status: "diverged" })]).noneLearned, true);
  });
});

describe("lm-rmsnorm-dyt experiment", () => {
  useTempResultsDirs("dyt-lm-exp-");

  test("runs end to end at smoke: a verdict among the four outcomes, figures, a claims row LM-1; a second run loads", async () => {
    await useEngine("native");
    const { records, summary } = await runLmRmsnormDyt({ scale: "smoke", verbose: false });
    assert.ok(OUTCOMES.includes(summary.verdict), summary.verdict);
    assert.equal(records.filter((r) => r.role === "tune").length, 4, "2 lrs x 2 arms on the tuning seed");
    assert.deepEqual(summary.arms.map((a) => a.seeds), [[1, 2], [1, 2]]);
    assert.deepEqual(summary.arms.map((a) => a.arm), ["dyt-lm", "rmsnorm"]);
    assert.ok(summary.arms.every((a) => a.bpbs.every(Number.isFinite)));
    assert.ok(summary.baselines.unigramBpb < summary.baselines.uniformBpb);
    assert.ok(summary.statement.includes("bpb"));
    for (const f of [trainLossFigure(records, summary), heldOutFigure(records, summary), lmTuningFigure(summary)]) assert.ok(f.data.length > 0);
    assert.equal(lmArmTable(summary).length, 2);
    const [row] = lmRmsnormDytEntry.claims(summary);
    assert.equal(row!.id, "LM-1");
    assert.equal(row!.verdict, summary.verdict);
    assert.match(row!.paper, /LLaMA 7B/);
    const again = await runLmRmsnormDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.equal(again.summary.verdict, summary.verdict);
  });
});
