/**
 * The "image-dino" task of the protocol runner (DINO trained without labels,
 * scored by the teacher's k-NN and a linear probe) and the dino-ln-dyt
 * experiment: resolved configs and refusals, the learned rule (k-NN lift
 * over the same network at init, no collapse; validation for lr tuning,
 * never the test split), the collapse check, both claims on hand-built
 * arms, and the experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { arm } from "../lib/experiments/protocol/arms";
import { dinoCollapse, dinoScore } from "../lib/experiments/protocol/classify";
import { describeBase } from "../lib/experiments/protocol/jobs";
import type { DinoProtocolRecord } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { compareDinoKnn, compareDinoProbe, dinoAccuracyFigure, dinoEntropyFigure, dinoKnnFigure, dinoLnDytEntry, dinoTable, dinoTuningFigure, DINO_SCALES, DINO_SIZING_VARIANTS, runDinoLnDyt, runDinoSizing, type DinoArmRuns } from "../lib/experiments/dino-ln-dyt";
import { resultsDir } from "../lib/util/paths";
import { useEngine, useTempResultsDirs } from "./helpers";

const BASE = DINO_SCALES.smoke.base;
const LN_K = Math.log(64);

describe("image-dino task: resolved config", () => {
  test("the arm fills every backbone norm; defaults are written out; wrong arms are refused", () => {
    const d = resolveRun(BASE, arm("dyt"), 2);
    assert.equal(d.task, "image-dino");
    assert.equal(d.model.norm, "dyt");
    assert.equal(d.model.seed, 2);
    assert.equal(d.model.teacherTemp, 0.04);
    assert.deepEqual(d.knn, { k: 20, temperature: 0.07, batchSize: 250, bank: 128 });
    assert.deepEqual(d.probe, { trainLimit: 128, steps: 30, lr: 0.05, l2: 1e-3, batchSize: 64 });
    assert.throws(() => resolveRun(BASE, arm("dyt-lm"), 1), /language-model arm/);
    assert.throws(() => resolveRun(BASE, arm("dyt-dit"), 1), /DINO runs take norm arms/);
    assert.throws(() => resolveRun({ ...BASE, knn: { k: 0 } }, arm("dyt"), 1), /knn needs k >= 1/);
    assert.match(describeBase(DINO_SCALES.full.base, DINO_SCALES.full.epochs), /7×7 patches; .*2 global 28-px views .* \+ 2 local 14-px views .*; trained on 10,000 Fashion-MNIST images without labels for 19 epoch\(s\) \(2969 steps, batch 64\)/);
  });
});

function fakeRecord(o: { status?: "completed" | "diverged" | "interrupted"; valAcc?: number; testAcc?: number; init?: { val: number; test: number }; marginal?: number; perImage?: number; lr?: number }): DinoProtocolRecord {
  const stats = { teacherEntropy: o.perImage ?? 1, marginalEntropy: o.marginal ?? 3, lnOutDim: LN_K };
  const r = {
    config: resolveRun(BASE, arm("layernorm"), 1),
    result: {
      status: o.status ?? "completed",
      log: [],
      evals: [{ step: 4, loss: 2, acc: o.valAcc ?? 0.7, stats }],
      msPerStep: 1,
      trainWallTimeSec: 1,
      params: 1,
      ...(o.testAcc !== undefined ? { test: { loss: 2, acc: o.testAcc } } : {}),
      ...(o.init ? { knnInit: o.init } : {}),
      collapse: stats,
    },
  } as unknown as DinoProtocolRecord;
  if (o.lr !== undefined) (r.config.train as { lr: number }).lr = o.lr;
  return r;
}

describe("DINO runs: the learned rule and the collapse check", () => {
  test("learned when the k-NN accuracy is >= 20 % of the way from the init's to 100 % and the teacher did not collapse; validation for tuning", () => {
    const init = { val: 0.5, test: 0.5 };
    // 20 % of the way from 50 % to 100 %: 60 %.
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.61, init }), "test").class, "learned");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.59, init }), "test").class, "did not learn");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.9, valAcc: 0.55, init }), "val").class, "did not learn", "tuning never reads the test accuracy");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.9, init, marginal: 0.1 }), "test").class, "did not learn");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.9, init, marginal: 0.1 }), "test").collapse, "one prototype");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.9, init }), "test").collapse, undefined);
    assert.equal(dinoScore(fakeRecord({ status: "diverged" }), "val").class, "diverged");
    assert.equal(dinoScore(fakeRecord({ status: "interrupted", testAcc: 0.9 }), "test").class, "did not learn");
    assert.equal(dinoScore(fakeRecord({ testAcc: 0.9 }), "test").class, "did not learn", "no init reference: not learned");
    assert.equal(dinoCollapse({ teacherEntropy: 0.99 * LN_K, marginalEntropy: LN_K, lnOutDim: LN_K }), "uniform");
    assert.equal(dinoCollapse({ teacherEntropy: 0.5, marginalEntropy: 0.04 * LN_K, lnOutDim: LN_K }), "one prototype");
    assert.equal(dinoCollapse({ teacherEntropy: 0.5, marginalEntropy: 0.5 * LN_K, lnOutDim: LN_K }), undefined);
    // lr tuning: the highest validation k-NN accuracy among learned runs.
    const g = [fakeRecord({ valAcc: 0.7, init, lr: 1e-3 }), fakeRecord({ valAcc: 0.8, init, lr: 3e-3 }), fakeRecord({ valAcc: 0.9, init, lr: 1e-2, marginal: 0.01 })];
    const pick = pickLr("layernorm", g);
    assert.deepEqual(pick.grid.map((x) => x.class), ["learned", "learned", "did not learn"]);
    assert.equal(pick.bestLr, 3e-3);
  });
});

function fakeArm(armId: string, accs: number[], probeAccs: number[]): DinoArmRuns {
  return {
    arm: armId,
    label: armId,
    lr: 1e-3,
    seeds: accs.map((_, i) => i + 1),
    accs,
    classes: accs.map((a) => (a >= 60 ? "learned" : "did not learn")),
    probeAccs,
    probeInitAccs: probeAccs.map(() => 50),
    probeClasses: probeAccs.map((a) => (a >= 28 ? "learned" : "did not learn")),
    lateGain: accs.map(() => 0),
    plateaued: accs.map(() => true),
    lrNote: "",
    params: 1,
    msPerStep: 1,
    knnInitAccs: accs.map(() => 50),
    teacherEntropies: accs.map(() => 1),
    marginalEntropies: accs.map(() => 3),
    lnOutDim: LN_K,
    collapsed: accs.map(() => ""),
  };
}

describe("DINO claims", () => {
  test("DINO-knn and DINO-probe: 'matches' within 1 point, paired; not testable when a run did not learn", () => {
    const ln = fakeArm("layernorm", [75, 76, 75.5, 75.2, 75.8], [80, 81, 80.5, 80.2, 80.8]);
    const same = fakeArm("dyt", [75.1, 76.1, 75.4, 75.3, 75.7], [80.1, 80.9, 80.6, 80.2, 80.7]);
    const worse = fakeArm("dyt", [70, 71, 70.5, 70.2, 70.8], [70, 71, 70.5, 70.2, 70.8]);
    assert.equal(compareDinoKnn(same, ln).outcome, "supported");
    assert.equal(compareDinoKnn(worse, ln).outcome, "not supported");
    assert.equal(compareDinoProbe(same, ln).outcome, "supported");
    assert.equal(compareDinoProbe(worse, ln).outcome, "not supported");
    const stuck = fakeArm("dyt", [52, 53, 51], [80, 81, 80]);
    assert.equal(compareDinoKnn(stuck, fakeArm("layernorm", [75, 76, 75], [80, 81, 80])).outcome, "not testable");
  });
});

describe("dino-ln-dyt experiment end to end (smoke)", () => {
  useTempResultsDirs("dyt-dino-");
  test("tuning and evaluation runs, k-NN and probes (and at init), entropies, a summary with both claims, figures, a table and two claims rows; a second run loads every record", async () => {
    await useEngine("cpu");
    assert.ok(EXPERIMENTS.includes(dinoLnDytEntry));
    const out = await runDinoLnDyt({ scale: "smoke", verbose: false });
    assert.equal(out.records.filter((r) => r.role === "tune").length, 4);
    assert.equal(out.records.filter((r) => r.role === "eval").length, 4);
    for (const r of out.records) {
      assert.equal(r.result.status, "completed");
      assert.ok(r.result.probe!.init, "the probe at initialisation is recorded");
      assert.ok(r.result.knnInit!.test >= 0 && r.result.knnInit!.test <= 1);
      assert.ok(Number.isFinite(r.result.collapse!.marginalEntropy));
      assert.ok(r.result.evals.every((e) => e.stats && Number.isFinite(e.stats.teacherEntropy)));
    }
    const s = out.summary;
    assert.deepEqual(s.arms.map((a) => a.arm), ["dyt", "layernorm"]);
    assert.match(s.verdict, /^DINO-knn: .*; DINO-probe: /);
    const rows = dinoLnDytEntry.claims(s);
    assert.deepEqual(rows.map((r) => r.id), ["DINO-knn", "DINO-probe"]);
    assert.ok(fs.existsSync(path.join(resultsDir(), "dino-ln-dyt", "smoke", "summary.json")));
    for (const f of [dinoKnnFigure(out.records, s), dinoEntropyFigure(out.records, s), dinoTuningFigure(s), dinoAccuracyFigure(s)]) assert.ok(f.data.length > 0);
    assert.equal(dinoTable(s).length, 2);
    const again = await runDinoLnDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, s);
  });
});

describe("dino-ln-dyt sizing probe (smoke)", () => {
  useTempResultsDirs("dyt-dino-sizing-");
  test("variants run in order on the tuning seed with LN only, k-NN at each eighth against the init's threshold; the rule adopts the first that learned; a second call loads the records", async () => {
    await useEngine("cpu");
    assert.deepEqual(DINO_SIZING_VARIANTS.map((v) => v.id), ["p7-10k-30ep", "p7-10k-30ep-6local"]);
    const small = { backbone: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, headHidden: 32, headBottleneck: 16, outDim: 64 };
    const variants = [
      { id: "a", why: "test", model: small, trainLimit: 128, epochs: 1, lr: 1e-3 },
      { id: "b", why: "test", model: { ...small, crops: { ...DINO_SCALES.smoke.base.model.crops!, localCrops: 2 } }, trainLimit: 128, epochs: 1, lr: 1e-3 },
    ];
    const { summary } = await runDinoSizing({ scale: "smoke", verbose: false }, { variants });
    assert.ok(summary.runs.length >= 1 && summary.runs.length <= 2);
    const r = summary.runs[0]!;
    assert.equal(r.config.arm, "layernorm");
    assert.equal(r.config.train.seed, 101);
    assert.equal(r.points.length, 4, "4 steps: an eval at each step");
    assert.ok(Math.abs(r.learnedKnn - (r.initValKnn + 0.2 * (100 - r.initValKnn))) < 1e-9);
    for (const p of r.points) assert.equal(p.learned, p.valKnn >= r.learnedKnn && !p.collapse);
    if (r.firstLearnedEpoch !== null) assert.deepEqual(summary.adopted, { id: "a", epochs: 1 });
    else assert.equal(summary.runs.length, 2);
    const again = await runDinoSizing({ scale: "smoke", verbose: false, cachedOnly: true }, { variants });
    assert.deepEqual(again.summary, summary);
    await assert.rejects(runDinoSizing({ scale: "smoke", verbose: false }, { variants, only: "zzz" }), /unknown variant "zzz"; variants: a, b/);
  });
});
