/**
 * The "image-diffusion" task of the protocol runner (a class-conditional DiT
 * denoising Fashion-MNIST, its samples scored by a Fréchet distance in a ViT
 * classifier's features) and the dit-ln-dyt experiment: resolved configs and
 * cache keys (the arm sets adaLN-Zero), the learned rule (samples recognised
 * as their class), the FD claim's verdicts on hand-built arms, and the
 * experiment end to end at smoke with its figures and claims rows.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { arm } from "../lib/experiments/protocol/arms";
import { ditPlateaued, ditScore } from "../lib/experiments/protocol/classify";
import { describeBase } from "../lib/experiments/protocol/jobs";
import { RULES, scaledRules } from "../lib/experiments/protocol/rules";
import type { DitProtocolRecord } from "../lib/experiments/protocol/runner";
import { gridImages } from "../lib/experiments/protocol/dit-task";
import { fdClassifier, fdClassifierFiles, forgetFdClassifiers } from "../lib/experiments/protocol/fd-classifier";
import { resolveRun } from "../lib/experiments/protocol/task";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { runDitSizing } from "../lib/experiments/dit-ln-dyt/sizing";
import { compareDitFd, ditFdFigure, ditHeldOutFigure, ditLnDytEntry, ditSamplesFigure, ditTable, ditTuningFigure, DIT_SCALES, runDitLnDyt, type DitArmRuns } from "../lib/experiments/dit-ln-dyt";
import { resultsDir } from "../lib/util/paths";
import { useEngine, useTempResultsDirs } from "./helpers";

const BASE = DIT_SCALES.smoke.base;

describe("image-diffusion task: resolved config", () => {
  test("the arm sets the norm and adaLN-Zero (LayerNorm keeps DiT's default, on); every default is written out; wrong arms and sample sizes are refused", () => {
    const ln = resolveRun(BASE, arm("layernorm"), 1);
    const dyt = resolveRun(BASE, arm("dyt-dit"), 1);
    const dytZero = resolveRun(BASE, arm("dyt-dit-zero"), 1);
    assert.equal(ln.task, "image-diffusion");
    assert.equal(ln.model.adaLNZero, true);
    assert.equal(dyt.model.adaLNZero, false);
    assert.equal(dytZero.model.adaLNZero, true);
    assert.equal(dyt.model.norm, "dyt");
    assert.deepEqual(dyt.normResolved, { layout: "channels-last", gain: false, bias: false, alpha0: 0.5, learnAlpha: true, squash: "tanh" });
    assert.deepEqual(ln.diffusion, { T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    assert.equal(ln.train.seed, 1);
    assert.equal(ln.sample.seed, BASE.sample.seed, "the sampling seed is the base's, the same for every run");
    assert.notDeepEqual(JSON.stringify(dyt), JSON.stringify(dytZero), "the two DyT arms are different cache keys");
    assert.throws(() => resolveRun(BASE, arm("dyt-lm"), 1), /language-model arm/);
    assert.throws(() => resolveRun(BASE, arm("fixup"), 1), /residual method/);
    assert.throws(() => resolveRun({ ...BASE, sample: { ...BASE.sample, n: 25 } }, arm("layernorm"), 1), /sample.n must be a multiple of the 10 classes/);
    assert.throws(() => resolveRun({ ...BASE, model: { ...BASE.model, imageSize: 32, patchSize: 4 } }, arm("layernorm"), 1), /does not fit Fashion-MNIST/);
    assert.match(describeBase(DIT_SCALES.full.base, DIT_SCALES.full.epochs), /DiT width 64, depth 4, 4 heads, 4×4 patches; Fashion-MNIST, 55,000 training images; 2 epoch\(s\) \(1719 steps, batch 64\)/);
  });
});

/** A hand-built DiT record: what ditScore reads. */
function fakeRecord(o: { status?: "completed" | "diverged" | "interrupted"; sampleAcc?: number; loss?: number; evals?: { step: number; loss: number }[] }): DitProtocolRecord {
  const config = resolveRun(BASE, arm("layernorm"), 1);
  const evals = (o.evals ?? [{ step: 4, loss: o.loss ?? 0.1 }]).map((e) => ({ ...e, acc: 1 - e.loss }));
  return {
    config,
    result: {
      status: o.status ?? "completed",
      log: [],
      evals,
      test: o.loss !== undefined ? { loss: o.loss, acc: 1 - o.loss } : undefined,
      msPerStep: 1,
      trainWallTimeSec: 1,
      params: 1,
      ...(o.sampleAcc !== undefined ? { samples: { fd: 1, fdFloor: 0.1, sampleAcc: o.sampleAcc, n: 20, classifier: { testAcc: 0.9, checksum: "x", featureDim: 16 }, grid: { perClass: 0, classes: 10, size: 28, channels: 1, pixels: "" } } } : {}),
    },
  } as unknown as DitProtocolRecord;
}

describe("DiT runs: the learned rule and the plateau", () => {
  test("a run learned when >= 28 % of its samples are recognised as their class; no samples or a diverged run never learned", () => {
    assert.equal(ditScore(fakeRecord({ sampleAcc: 0.28, loss: 0.1 }), "test").class, "learned");
    assert.equal(ditScore(fakeRecord({ sampleAcc: 0.27, loss: 0.05 }), "test").class, "did not learn", "a low loss alone is not learning");
    assert.equal(ditScore(fakeRecord({ status: "interrupted" }), "test").class, "did not learn");
    assert.equal(ditScore(fakeRecord({ status: "diverged" }), "val").class, "diverged");
    assert.equal(ditScore(fakeRecord({ sampleAcc: 0.5, loss: NaN }), "test").class, "diverged");
    assert.equal(ditScore(fakeRecord({ sampleAcc: 0.5, loss: 0.2, evals: [{ step: 4, loss: 0.3 }] }), "val").loss, 0.3);
  });

  test("plateau: a relative fall of the validation loss below 1 % over the last third", () => {
    assert.deepEqual(ditPlateaued([{ step: 10, loss: 0.2 }, { step: 20, loss: 0.1 }, { step: 30, loss: 0.0995 }]), { plateaued: true, gainRelative: (0.1 - 0.0995) / 0.1 });
    assert.equal(ditPlateaued([{ step: 10, loss: 0.2 }, { step: 20, loss: 0.1 }, { step: 30, loss: 0.09 }]).plateaued, false);
    assert.equal(ditPlateaued([{ step: 30, loss: 0.09 }]).plateaued, false);
  });
});

function fakeArm(arm: string, fds: number[], learned = true): DitArmRuns {
  return {
    arm,
    label: arm,
    lr: 1e-3,
    seeds: fds.map((_, i) => i + 1),
    accs: fds.map(() => (learned ? 60 : 10)),
    classes: fds.map(() => (learned ? "learned" : "did not learn")),
    lrNote: "",
    fds,
    logFds: fds.map(Math.log),
    fdFloors: fds.map(() => 0.5),
    losses: fds.map(() => 0.1),
    lateGain: fds.map(() => 0),
    plateaued: fds.map(() => true),
    msPerStep: 1,
  };
}

describe("DIT claims: DyT matches LayerNorm on ln FD (at most 1.10x)", () => {
  test("equal FDs support the claim, FDs 1.5x LayerNorm's refute it, a stuck arm makes it not testable; the margin follows the rules", () => {
    const ln = fakeArm("layernorm", [10, 12, 11, 10.5, 11.5]);
    const same = compareDitFd(fakeArm("dyt", [10.1, 11.9, 11.05, 10.4, 11.6]), ln);
    assert.equal(same.outcome, "supported");
    assert.ok(Math.abs(same.evidence!.margin - Math.log(1.1)) < 1e-12);
    assert.equal(same.evidence!.units, "ln FD");
    assert.equal(compareDitFd(fakeArm("dyt", [15, 18.2, 16.4, 15.6, 17.4]), ln).outcome, "not supported");
    const stuck = compareDitFd(fakeArm("dyt", [50, 50, 50], false), fakeArm("layernorm", [10, 12, 11]));
    assert.equal(stuck.outcome, "not testable");
    assert.match(stuck.reason, /did not learn/);
    // Moving the thresholds by 1 % moves the ratio's excess: 1.10 -> 1.101.
    assert.ok(Math.abs(scaledRules(1.01).ditMatchFdRatio - 1.101) < 1e-12);
    assert.equal(RULES.ditMatchFdRatio, 1.1);
  });
});

describe("dit-ln-dyt experiment end to end (smoke)", () => {
  useTempResultsDirs("dyt-dit-");
  test("tuning and evaluation runs, a summary with both claims, figures, a table and two claims rows; a second run loads every record", async () => {
    await useEngine("cpu");
    assert.ok(EXPERIMENTS.includes(ditLnDytEntry));
    const out = await runDitLnDyt({ scale: "smoke", verbose: false });
    // 3 arms x 2 tuning lrs + 3 arms x 2 seeds.
    assert.equal(out.records.filter((r) => r.role === "tune").length, 6);
    assert.equal(out.records.filter((r) => r.role === "eval").length, 6);
    const s = out.summary;
    assert.deepEqual(s.arms.map((a) => a.arm), ["layernorm", "dyt-dit", "dyt-dit-zero"]);
    assert.deepEqual(s.claims.map((c) => c.id), ["DIT-1", "DIT-2"]);
    for (const r of out.records.filter((x) => x.result.status === "completed")) {
      const sc = r.result.samples!;
      assert.ok(Number.isFinite(sc.fd) && sc.fd >= 0 && sc.fdFloor >= 0 && sc.sampleAcc >= 0 && sc.sampleAcc <= 1);
      assert.equal(sc.n, 20);
      const g = gridImages(sc.grid);
      assert.equal(g.length, 10);
      assert.equal(g[0]!.length, 1);
      assert.equal(g[0]![0]!.length, 784);
    }
    // Smoke runs do not learn: every claim says so rather than compare.
    for (const c of s.claims) assert.equal(c.verdict, "not testable");
    assert.match(s.statement, /FD floor \(real training vs real test images, same n\)/);
    const rows = ditLnDytEntry.claims(s);
    assert.equal(rows.length, 2);
    assert.match(rows[0]!.id, /^DIT-1 \(DyT \(no adaLN-Zero\)\)/);
    assert.ok(fs.existsSync(path.join(resultsDir(), "dit-ln-dyt", "smoke", "summary.json")));
    for (const f of [ditHeldOutFigure(out.records, s), ditFdFigure(s), ditTuningFigure(s), ditSamplesFigure(out.records.find((r) => r.role === "eval")!)]) assert.ok(f.data.length > 0);
    assert.equal(ditTable(s).length, 3);
    const again = await runDitLnDyt({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, s);
    // The classifier's weights were stored under results/fd-classifier/smoke/; a fresh process loads them, the same checksum.
    const spec = DIT_SCALES.smoke.base.sample.classifier;
    const files = fdClassifierFiles(spec);
    assert.match(path.relative(resultsDir(), files.weights), /^fd-classifier[\/]smoke[\/][0-9a-f]{16}\.bin$/);
    const meta = JSON.parse(fs.readFileSync(files.meta, "utf8")) as { checksum: string; testAcc: number };
    forgetFdClassifiers();
    const loaded = await fdClassifier(spec, () => undefined);
    assert.equal(loaded.checksum, meta.checksum);
    assert.equal(loaded.testAcc, meta.testAcc);
    assert.equal(out.records.find((r) => r.result.samples)!.result.samples!.classifier.checksum, meta.checksum);
    // Corrupt weights are named, with the fix.
    forgetFdClassifiers();
    const bytes = fs.readFileSync(files.weights);
    bytes[0] = bytes[0]! ^ 0xff;
    fs.writeFileSync(files.weights, bytes);
    await assert.rejects(fdClassifier(spec, () => undefined), /does not load \(weights checksum [0-9a-f]+, the JSON says [0-9a-f]+\).*delete/);
    forgetFdClassifiers();
    fs.rmSync(files.weights);
    fs.rmSync(files.meta);
  });

  test("the budget probe (--sizing): LayerNorm only, samples scored at each quarter, saved as they come; a finished probe reloads", async () => {
    await useEngine("cpu");
    const { summary } = await runDitSizing({ scale: "smoke", verbose: false });
    assert.equal(summary.arm, "layernorm");
    assert.equal(summary.seed, 101, "the tuning seed, never an evaluation seed");
    assert.deepEqual(summary.points.map((p) => p.step), [8, 16, 24, 32]);
    assert.deepEqual(summary.points.map((p) => p.epoch), [2, 4, 6, 8]);
    for (const p of summary.points) assert.equal(p.learned, p.sampleAcc >= summary.learnedAcc);
    assert.equal(summary.firstLearnedEpoch, summary.points.find((p) => p.learned)?.epoch ?? null);
    const again = await runDitSizing({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary.points, summary.points);
  });
});
