/**
 * The "image-classify" task of the protocol runner (ConvNeXt, MLP-Mixer,
 * ResNet on Fashion-MNIST / Emoji32) and the vision-families experiment:
 * resolved configs (every default written out, the ViT and LM tasks
 * untouched), staleness on a changed default, no tensor leak per family,
 * exact resume through the task, the claim-9 rule, and the experiment end
 * to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { arm, deriveArm } from "../lib/experiments/protocol/arms";
import { armJob, epochSchedule } from "../lib/experiments/protocol/jobs";
import { buildImageModel, IMAGE_DATASETS, IMAGE_FAMILY_DEFAULTS, imageSplits, runImageTask, type ImageResolvedRun, type ImageRunBase } from "../lib/experiments/protocol/image-task";
import { loadCurrent, recordFile, runJobs, staleReason, StaleResultError } from "../lib/experiments/protocol/runner";
import { RECORD_EPOCH } from "../lib/experiments/runner";
import { resolveRun, type RunBase } from "../lib/experiments/protocol/task";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { compareFamily, familyArmTable, familyCurvesFigure, familyLossFigure, runVisionFamilies, verdictTable, visionFamiliesEntry, visionTuningFigure, type FamilyArm } from "../lib/experiments/vision-families";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { loadEmoji32 } from "../lib/data/emoji";
import { NORM_DEFAULTS } from "../lib/norms/factory";
import { train } from "../lib/train/trainer";
import { useEngine, useTempResultsDirs } from "./helpers";

const TRAIN = { steps: 6, batchSize: 8, warmupSteps: 1, evalEvery: 3, evalLimit: 16, evalBatchSize: 16, logEvery: 1, checkpointEvery: 3 };
const DATA = { dataset: "fashion-mnist" as const, trainLimit: 64, testLimit: 32 };
/** Tiny models: the runner's bookkeeping is under test, not learning. */
const BASES: Record<"convnext" | "mixer" | "resnet", ImageRunBase> = {
  convnext: { task: "image-classify", family: "convnext", model: { dims: [8, 16], depths: [1, 1] }, train: TRAIN, data: DATA },
  mixer: { task: "image-classify", family: "mixer", model: { dim: 16, depth: 1, patchSize: 7 }, train: TRAIN, data: DATA },
  resnet: { task: "image-classify", family: "resnet", model: { widths: [4, 8], blocksPerStage: [1, 1] }, train: TRAIN, data: DATA },
};
const spec = (family: keyof typeof BASES) => ({ experiment: "vision-task-test", scale: "smoke" as const, base: BASES[family] });

describe("image-classify task: resolved config", () => {
  test("family, data set dims, norm options and training config are written out; arms from the one registry", () => {
    const c = resolveRun(BASES.convnext, arm("dyt"), 3) as Extract<ImageResolvedRun, { family: "convnext" }>;
    assert.equal(c.task, "image-classify");
    assert.equal(c.family, "convnext");
    assert.deepEqual(c.data, DATA);
    assert.deepEqual([c.model.imageSize, c.model.channels, c.model.numClasses], [28, 1, 10]);
    assert.equal(c.model.downsampleLayout, "channels-first", "ConvNeXt's stem / downsampling norms are channels-first");
    assert.equal(c.model.kernelSize, 7);
    assert.equal(c.model.layerScaleInit, 1e-6);
    assert.equal(c.model.seed, 3);
    assert.equal(c.train.seed, 3);
    assert.equal(c.train.weightDecay, 0.05);
    assert.equal(c.normResolved.alpha0, NORM_DEFAULTS.alpha0);
    const r = resolveRun(BASES.resnet, arm("batchnorm"), 1);
    assert.equal(r.model.norm, "batchnorm");
    assert.equal(r.normResolved.momentum, 0.1);
    assert.equal(resolveRun(BASES.resnet, arm("dyt"), 1).model.norm, "dyt");
    const e = resolveRun({ ...BASES.mixer, data: { dataset: "emoji32", trainLimit: 0, testLimit: 0 }, model: { dim: 16, depth: 1, patchSize: 8 } } as ImageRunBase, arm("layernorm"), 1);
    assert.deepEqual([e.model.imageSize, e.model.channels, e.model.numClasses], [32, 3, 9]);
    assert.throws(() => resolveRun(BASES.mixer, arm("dyt-lm"), 1), /language-model arm/);
    assert.throws(() => resolveRun(BASES.mixer, deriveArm("dyt", { placement: "post" }), 1), /only the ViT has/);
    assert.throws(() => resolveRun({ ...BASES.mixer, model: { imageSize: 32 } } as ImageRunBase, arm("dyt"), 1), /does not fit Fashion-MNIST/);
  });

  test("the ViT and LM tasks resolve as before (no family, no new keys)", () => {
    const vit: RunBase = { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: {}, data: { trainLimit: 100, testLimit: 50 } };
    const v = resolveRun(vit, arm("dyt"), 1);
    assert.equal(v.task, "vit-fashion");
    assert.deepEqual(Object.keys(v).sort(), ["arm", "data", "hooks", "model", "normResolved", "task", "train"]);
    assert.deepEqual(v.data, { dataset: "fashion-mnist", trainLimit: 100, testLimit: 50 });
  });

  test("a budget in epochs is over the training images used; Emoji32's train size is the loader's", () => {
    assert.equal(epochSchedule(1, BASES.resnet).steps, 8);
    assert.equal(epochSchedule(1, { ...BASES.resnet, data: { dataset: "emoji32", trainLimit: 0, testLimit: 0 } } as ImageRunBase).steps, Math.ceil(IMAGE_DATASETS.emoji32.trainSize / 8));
    assert.equal(loadEmoji32({ split: "train" }).n, IMAGE_DATASETS.emoji32.trainSize);
  });
});

describe("image-classify task on the runner", () => {
  useTempResultsDirs("dyt-vision-task-");

  test("a job runs through runJobs, is cached on its resolved config; a changed default (DyT alpha0, a ConvNeXt default) makes it stale", async () => {
    await useEngine("native");
    const job = () => armJob(spec("resnet"), arm("dyt"), 1, { run: "dyt-resnet-s1", role: "eval", lr: 3e-3 });
    const [rec] = await runJobs([job()], { scale: "smoke", verbose: false });
    assert.equal(rec!.config.task, "image-classify");
    assert.equal(rec!.result.status, "completed");
    assert.equal(rec!.result.evals.length, 2);
    assert.ok(Number.isFinite(rec!.result.test!.acc));
    assert.equal(Object.keys(rec!.result.finalAlpha ?? {}).length, 6, "stem + 2 per block + the second block's shortcut norm are DyT");
    const mtime = fs.statSync(recordFile(job())).mtimeMs;
    const [again] = await runJobs([job()], { scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again!.result.log, rec!.result.log);
    assert.equal(fs.statSync(recordFile(job())).mtimeMs, mtime, "loaded, not retrained");
    const savedAlpha = NORM_DEFAULTS.alpha0;
    try {
      NORM_DEFAULTS.alpha0 = 0.6;
      assert.throws(
        () => loadCurrent(job(), { scale: "smoke", cachedOnly: true }),
        (e: Error) => e instanceof StaleResultError && /normResolved\.alpha0: saved 0\.5, now 0\.6/.test(e.message) && /npm run exp -- vision-task-test --scale smoke/.test(e.message),
      );
      assert.equal(loadCurrent(job(), { scale: "smoke", verbose: false }), undefined, "re-run, never reused");
    } finally {
      NORM_DEFAULTS.alpha0 = savedAlpha;
    }
    // A family default the base does not set (ConvNeXt's init std) is in the key too.
    const ln = () => armJob(spec("convnext"), arm("layernorm"), 1, { run: "layernorm-convnext-s1", role: "eval", lr: 3e-3 });
    const saved = { epoch: RECORD_EPOCH, config: ln().resolved };
    const cd = IMAGE_FAMILY_DEFAULTS.convnext;
    const savedStd = cd.initStd;
    try {
      cd.initStd = 0.03;
      assert.match(staleReason(saved, ln()) ?? "", /model\.initStd: saved 0\.02, now 0\.03/);
    } finally {
      cd.initStd = savedStd;
    }
    assert.equal(staleReason(saved, ln()), undefined);
  });

  test("no tensor leaks across steps (the trainer's leak guard is on) nor after the run, for every family", async () => {
    await useEngine("native");
    for (const [family, norm] of [["convnext", "dyt"], ["mixer", "dyt"], ["resnet", "batchnorm"], ["resnet", "dyt"]] as const) {
      const r = resolveRun(BASES[family], arm(norm), 2, { lr: 3e-3 });
      const before = tf.memory().numTensors;
      const res = await runImageTask(r, undefined, `leak-${family}-${norm}`);
      assert.equal(res.status, "completed", `${family} ${norm}`);
      assert.ok(res.params > 0);
      assert.equal(tf.memory().numTensors, before, `${family} ${norm}: tensors left after the run`);
    }
  });

  test("exact resume through the task: an interrupted ResNet-BN run (running statistics included) continues to the same losses", async () => {
    await useEngine("native");
    const r = resolveRun(BASES.resnet, arm("batchnorm"), 4, { lr: 3e-3 });
    const full = await runImageTask(r, undefined, "resume-ref");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-vision-resume-"));
    try {
      const d = imageSplits(r.data);
      const m = buildImageModel(r);
      try {
        const part = await train(m, { train: d.train, eval: d.val }, r.train, { runDir: dir, stopAfter: 3, progress: false });
        assert.equal(part.status, "interrupted");
      } finally {
        m.dispose();
      }
      const resumed = await runImageTask(r, dir, "resume");
      assert.deepEqual(resumed.log.map((l) => l.loss), full.log.map((l) => l.loss));
      assert.deepEqual(resumed.test, full.test, "same final model (eval uses BN's running statistics)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const fakeArm = (label: string, accs: number[], classes: FamilyArm["classes"]): FamilyArm => ({
  arm: label.toLowerCase(),
  label,
  lr: 1e-3,
  seeds: accs.map((_, i) => i + 1),
  accs,
  classes,
  lrNote: "tuned",
  lateGain: [],
  plateaued: [],
  params: 1,
  msPerStep: 1,
});

describe("claim 9 rule (DyT cannot replace BatchNorm)", () => {
  test("DyT failing where BN learned supports it; BN failing makes it not testable; otherwise the paired 'worse' test decides", () => {
    const L = "learned" as const;
    const bn = fakeArm("BatchNorm", [85, 86, 84], [L, L, L]);
    const fails = compareFamily(fakeArm("DyT", [10, 70, 71], ["did not learn", L, L]), bn, "worse");
    assert.equal(fails.outcome, "supported");
    assert.match(fails.reason, /DyT: of 3 seeds 0 diverged, 1 did not learn, where BatchNorm learned on all 3/);
    assert.equal(compareFamily(fakeArm("DyT", [70, 71, 72], [L, L, L]), fakeArm("BatchNorm", [10, 86, 84], ["did not learn", L, L]), "worse").outcome, "not testable");
    const worse = compareFamily(fakeArm("DyT", [78, 79, 77.5], [L, L, L]), bn, "worse");
    assert.equal(worse.outcome, "supported");
    assert.ok(worse.evidence && worse.evidence.test.mean < -5);
    assert.equal(compareFamily(fakeArm("DyT", [85.1, 86.0, 84.05], [L, L, L]), bn, "worse").outcome, "not supported", "the data exclude a 1-point gap");
    assert.equal(compareFamily(fakeArm("DyT", [10, 70, 71], ["did not learn", L, L]), bn, "matches").outcome, "not testable", "a 'matches' claim needs both arms learned");
  });
});

describe("vision-families experiment", () => {
  useTempResultsDirs("dyt-vision-exp-");

  test("runs end to end at smoke: three families, verdicts among the four outcomes, figures, tables, claims rows; a second run loads", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(visionFamiliesEntry), "registered");
    const { records, summary } = await runVisionFamilies({ scale: "smoke", verbose: false });
    assert.equal(summary.dataset, "fashion-mnist");
    assert.deepEqual(summary.families.map((f) => f.family), ["convnext", "mixer", "resnet"]);
    assert.deepEqual(summary.families.map((f) => f.arms.map((a) => a.arm)), [["dyt", "layernorm"], ["dyt", "layernorm"], ["dyt", "batchnorm"]]);
    assert.equal(records.filter((r) => r.role === "tune").length, 12, "2 lrs x 2 arms x 3 families on the tuning seed");
    assert.equal(records.filter((r) => r.role === "eval").length, 12, "2 seeds x 2 arms x 3 families");
    assert.ok(records.some((r) => r.run === "dyt-convnext-s1") && records.some((r) => r.run === "tune-batchnorm-resnet-lr4.0e-3-s101"), "family-suffixed run ids");
    for (const f of summary.families) {
      assert.ok(OUTCOMES.includes(f.verdict), f.verdict);
      assert.ok(f.arms.every((a) => a.seeds.length === 2 && a.accs.every(Number.isFinite)), `${f.family}: test accuracy of every seed`);
      assert.ok(f.setup.includes("Fashion-MNIST"));
      assert.ok(familyCurvesFigure(records, summary, f.family).data.length > 0);
      assert.ok(familyLossFigure(records, summary, f.family).data.length > 0);
    }
    assert.ok(summary.families[0]!.arms[0]!.meanFinalAlpha !== undefined, "DyT ConvNeXt alpha recorded");
    assert.equal(visionTuningFigure(summary).data.length, 6);
    assert.equal(familyArmTable(summary).length, 6);
    assert.equal(verdictTable(summary).length, 3);
    const rows = visionFamiliesEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["2.convnext", "2.mixer", "9"]);
    assert.deepEqual(rows.map((r) => r.verdict), summary.families.map((f) => f.verdict));
    assert.match(rows[2]!.paper, /76\.2 -> 68\.9/);
    const again = await runVisionFamilies({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.equal(again.summary.verdict, summary.verdict);
  });
});
