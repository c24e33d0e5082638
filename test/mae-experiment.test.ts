/**
 * The "image-mae" task of the protocol runner (an MAE pretrained without
 * labels, then probed and fine-tuned) and the mae-ln-dyt experiment:
 * resolved configs and refusals, the learned rule (fine-tuned accuracy; on
 * validation for lr tuning, never the test split), reconstructions, both
 * claims on hand-built arms, and the experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { arm } from "../lib/experiments/protocol/arms";
import { maeScore } from "../lib/experiments/protocol/classify";
import { describeBase } from "../lib/experiments/protocol/jobs";
import { reconImages, reconstructions } from "../lib/experiments/protocol/mae-task";
import type { MaeProtocolRecord } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { compareMaeFinetune, compareMaeProbe, maeAccuracyFigure, maeHeldOutFigure, maeLnDytEntry, maeReconFigure, maeTable, maeTuningFigure, MAE_SCALES, runMaeLnDyt, type MaeArmRuns } from "../lib/experiments/mae-ln-dyt";
import { MAE } from "../lib/models/mae";
import { resultsDir } from "../lib/util/paths";
import { useEngine, useTempResultsDirs } from "./helpers";
import { toyImages } from "./fixtures";

const BASE = MAE_SCALES.smoke.base;

describe("image-mae task: resolved config", () => {
  test("the arm fills every norm of encoder and decoder; defaults are written out; wrong arms and fine-tuning grids are refused", () => {
    const d = resolveRun(BASE, arm("dyt"), 2);
    assert.equal(d.task, "image-mae");
    assert.equal(d.model.norm, "dyt");
    assert.equal(d.model.seed, 2);
    assert.equal(d.model.maskRatio, 0.75);
    assert.deepEqual(d.probe, { trainLimit: 128, steps: 30, lr: 0.05, l2: 1e-3, batchSize: 64, init: true });
    assert.deepEqual(d.finetune.lrs, [1e-3, 4e-3]);
    assert.throws(() => resolveRun(BASE, arm("dyt-lm"), 1), /language-model arm/);
    assert.throws(() => resolveRun(BASE, arm("dyt-dit"), 1), /MAE runs take norm arms/);
    assert.throws(() => resolveRun({ ...BASE, finetune: { ...BASE.finetune, lrs: [] } }, arm("dyt"), 1), /finetune.lrs must be positive/);
    assert.match(describeBase(MAE_SCALES.full.base, MAE_SCALES.full.epochs), /75 % masked, per-patch normalised targets; pretrained on 55,000 Fashion-MNIST images for 10 epoch\(s\) \(8594 steps, batch 64\)/);
  });
});

function fakeRecord(o: { status?: "completed" | "diverged"; testAcc?: number; valAccs?: (number | null)[]; loss?: number }): MaeProtocolRecord {
  return {
    config: resolveRun(BASE, arm("layernorm"), 1),
    result: {
      status: o.status ?? "completed",
      log: [],
      evals: [{ step: 4, loss: 0.5, acc: 0.5 }],
      msPerStep: 1,
      trainWallTimeSec: 1,
      params: 1,
      ...(o.testAcc !== undefined ? { test: { loss: 1, acc: o.testAcc } } : {}),
      ...(o.loss !== undefined ? { pretrainTest: { loss: o.loss, acc: 0.5 } } : {}),
      ...(o.valAccs ? { finetune: { grid: o.valAccs.map((v, i) => ({ lr: i + 1, valAcc: v, status: v === null ? "diverged" : "completed" })), bestLr: 1, test: { loss: 1, acc: o.testAcc ?? NaN }, steps: 4 } } : {}),
    },
  } as unknown as MaeProtocolRecord;
}

describe("MAE runs: the learned rule", () => {
  test("learned by the fine-tuned accuracy (>= 28 %): validation's best grid accuracy for tuning, the test accuracy for claims", () => {
    assert.equal(maeScore(fakeRecord({ testAcc: 0.5, valAccs: [0.1, 0.3], loss: 0.4 }), "test").class, "learned");
    assert.equal(maeScore(fakeRecord({ testAcc: 0.2, valAccs: [0.1, 0.3], loss: 0.4 }), "test").class, "did not learn");
    const v = maeScore(fakeRecord({ testAcc: 0.9, valAccs: [0.1, null, 0.2], loss: 0.4 }), "val");
    assert.equal(v.class, "did not learn", "tuning never reads the test accuracy");
    assert.equal(v.acc, 0.2);
    assert.equal(v.loss, 0.5);
    assert.equal(maeScore(fakeRecord({ status: "diverged" }), "val").class, "diverged");
    assert.equal(maeScore({ ...fakeRecord({}), result: { ...fakeRecord({}).result, status: "interrupted" } } as MaeProtocolRecord, "test").class, "did not learn");
    // lr tuning: the lowest validation reconstruction loss among learned runs.
    const g = [fakeRecord({ testAcc: 0.5, valAccs: [0.5], loss: 0.4 }), fakeRecord({ testAcc: 0.5, valAccs: [0.1], loss: 0.4 })];
    (g[1]!.config.train as { lr: number }).lr = 0.5;
    const pick = pickLr("layernorm", g);
    assert.deepEqual(pick.grid.map((x) => x.class), ["learned", "did not learn"]);
  });
});

function fakeArm(armId: string, accs: number[], probeAccs: number[]): MaeArmRuns {
  return {
    arm: armId,
    label: armId,
    lr: 1e-3,
    seeds: accs.map((_, i) => i + 1),
    accs,
    classes: accs.map((a) => (a >= 28 ? "learned" : "did not learn")),
    probeAccs,
    probeInitAccs: probeAccs.map(() => 50),
    probeClasses: probeAccs.map((a) => (a >= 28 ? "learned" : "did not learn")),
    lateGain: accs.map(() => 0),
    plateaued: accs.map(() => true),
    lrNote: "",
    params: 1,
    msPerStep: 1,
    reconLosses: accs.map(() => 0.3),
    finetuneLrs: accs.map(() => 1e-3),
  };
}

describe("MAE claims", () => {
  test("MAE-ft and MAE-probe: 'matches' within 1 point, paired; not testable when a run did not learn", () => {
    const ln = fakeArm("layernorm", [85, 86, 85.5, 85.2, 85.8], [80, 81, 80.5, 80.2, 80.8]);
    const same = fakeArm("dyt", [85.1, 86.1, 85.4, 85.3, 85.7], [80.1, 80.9, 80.6, 80.2, 80.7]);
    const worse = fakeArm("dyt", [80, 81, 80.5, 80.2, 80.8], [70, 71, 70.5, 70.2, 70.8]);
    assert.equal(compareMaeFinetune(same, ln).outcome, "supported");
    assert.equal(compareMaeFinetune(worse, ln).outcome, "not supported");
    assert.equal(compareMaeProbe(same, ln).outcome, "supported");
    assert.equal(compareMaeProbe(worse, ln).outcome, "not supported");
    const stuck = fakeArm("dyt", [10, 11, 12], [80, 81, 80]);
    assert.equal(compareMaeFinetune(stuck, fakeArm("layernorm", [85, 86, 85], [80, 81, 80])).outcome, "not testable");
    const probeStuck = fakeArm("dyt", [85, 86, 85], [10, 11, 12]);
    assert.match(compareMaeProbe(probeStuck, fakeArm("layernorm", [85, 86, 85], [80, 81, 80])).reason, /probe: 0 of 3 seed/);
  });
});

describe("MAE reconstructions", () => {
  test("original, masked input and output per image: visible patches are copied, hidden ones predicted", async () => {
    await useEngine("cpu");
    const ds = toyImages(4, 3, "test");
    const m = new MAE({ encoder: { imageSize: 8, channels: 1, numClasses: 4, patchSize: 2, dim: 8, depth: 1, heads: 2 }, decoderDim: 8, decoderHeads: 2, seed: 1 });
    const imgs = reconstructions(m, ds, 2, 9);
    assert.equal(imgs.length, 2);
    const [orig, masked, rec] = imgs[0]!;
    let same = 0;
    let hiddenSeen = 0;
    // Hidden pixels show the image's minimum in the masked input (skip the pixel that is the minimum itself).
    const lo = Math.min(...orig!);
    for (let i = 0; i < 64; i++) {
      if (orig![i] === lo) continue;
      if (masked![i] === orig![i]) {
        same++;
        assert.equal(rec![i], orig![i], "a visible pixel is the original");
      } else hiddenSeen++;
    }
    assert.ok(same >= 15 && hiddenSeen >= 47, `visible pixels ${same}, hidden ${hiddenSeen}`);
    const before0 = tf.memory().numTensors;
    reconstructions(m, ds, 2, 9);
    assert.equal(tf.memory().numTensors, before0);
    m.dispose();
  });
});

describe("mae-ln-dyt experiment end to end (smoke)", () => {
  useTempResultsDirs("dyt-mae-");
  test("tuning and evaluation runs, probes and fine-tunings, a summary with both claims, figures, a table and two claims rows; a second run loads every record", async () => {
    await useEngine("cpu");
    assert.ok(EXPERIMENTS.includes(maeLnDytEntry));
    const out = await runMaeLnDyt({ scale: "smoke", verbose: false });
    assert.equal(out.records.filter((r) => r.role === "tune").length, 4);
    assert.equal(out.records.filter((r) => r.role === "eval").length, 4);
    for (const r of out.records) {
      assert.equal(r.result.status, "completed");
      assert.equal(r.result.finetune!.grid.length, 2);
      assert.ok(r.result.probe!.init, "the probe at initialisation is recorded");
      assert.equal(reconImages(r.result.recon!).length, 2);
      assert.ok(Number.isFinite(r.result.pretrainTest!.loss));
    }
    const s = out.summary;
    assert.deepEqual(s.arms.map((a) => a.arm), ["dyt", "layernorm"]);
    assert.match(s.verdict, /^MAE-ft: .*; MAE-probe: /);
    const rows = maeLnDytEntry.claims(s);
    assert.deepEqual(rows.map((r) => r.id), ["MAE-ft", "MAE-probe"]);
    assert.ok(fs.existsSync(path.join(resultsDir(), "mae-ln-dyt", "smoke", "summary.json")));
    for (const f of [maeHeldOutFigure(out.records, s), maeTuningFigure(s), maeAccuracyFigure(s), maeReconFigure(out.records.find((r) => r.role === "eval")!)]) assert.ok(f.data.length > 0);
    assert.equal(maeTable(s).length, 2);
    const again = await runMaeLnDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, s);
  });
});
