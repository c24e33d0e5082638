import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { holm, oneSidedP, pairedTest, studentTQuantile } from "../lib/analysis/paired";
import { NORM_DEFAULTS } from "../lib/norms/factory";
import { arm, deriveArm } from "../lib/experiments/protocol/arms";
import { classifyRun, learnedThreshold, plateaued } from "../lib/experiments/protocol/classify";
import { RULES, scaledRules } from "../lib/experiments/protocol/rules";
import { executeJob, loadCurrent, runJobs, StaleResultError, type Job, type ProtocolRecord } from "../lib/experiments/protocol/runner";
import { resolveRun, stepsForEpochs, type RunBase } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { adjustTable, claimOutcome, decide, pairedEvidence } from "../lib/experiments/protocol/verdict";
import { adjustClaims } from "../lib/experiments/report";
import { MissingResultError, RECORD_EPOCH } from "../lib/experiments/runner";
import { runVitFashion } from "../lib/experiments/vit-fashion/spec";
import { writeJsonAtomic } from "../lib/util/atomic";
import { useEngine, useTempResultsDirs } from "./helpers";

describe("paired statistics", () => {
  test("paired t-test matches scipy (diffs 1,1,2,2: t 5.196, p 0.01385, CI 1.5 +- 3.1824 * 0.2887)", () => {
    const t = pairedTest([1, 2, 3, 4], [0, 1, 1, 2]);
    assert.equal(t.n, 4);
    assert.ok(Math.abs(t.mean - 1.5) < 1e-12);
    assert.ok(Math.abs(t.p - 0.013846832988859045) < 1e-6, `p ${t.p}`);
    const half = 3.1824463052837078 * (Math.sqrt(1 / 3) / 2);
    assert.ok(Math.abs(t.ci[0] - (1.5 - half)) < 1e-6 && Math.abs(t.ci[1] - (1.5 + half)) < 1e-6, `ci ${t.ci}`);
  });
  test("Student t quantiles match scipy", () => {
    assert.ok(Math.abs(studentTQuantile(0.975, 2) - 4.302652729749462) < 1e-6);
    assert.ok(Math.abs(studentTQuantile(0.8, 2) - 1.0606601717798214) < 1e-6);
    assert.ok(Math.abs(studentTQuantile(0.025, 3) + 3.1824463052837078) < 1e-6);
  });
  test("detectable effect = (t_.975 + t_.8) * se, and one seed gives no noise estimate", () => {
    const t = pairedTest([1, 2, 3], [0.5, 1, 3]);
    assert.ok(Math.abs(t.detectable - (4.302652729749462 + 1.0606601717798214) * t.se) < 1e-6);
    const one = pairedTest([1], [0]);
    assert.ok(Number.isNaN(one.se) && Number.isNaN(one.p));
  });
  test("one-sided p-values are complementary and shift with the bound", () => {
    const t = pairedTest([1, 2, 3, 4], [0, 1, 1, 2]);
    assert.ok(Math.abs(oneSidedP(t, 0, "above") + oneSidedP(t, 0, "below") - 1) < 1e-12);
    assert.ok(oneSidedP(t, 0, "above") < oneSidedP(t, 1, "above"));
  });
  test("Holm step-down adjustment", () => {
    const adj = holm([0.01, 0.04, 0.03, 0.005, NaN]);
    const want = [0.03, 0.06, 0.06, 0.02];
    want.forEach((w, i) => assert.ok(Math.abs(adj[i]! - w) < 1e-12, `${i}: ${adj[i]} vs ${w}`));
    assert.ok(Number.isNaN(adj[4]!));
  });
  test("pairedTest refuses unequal lengths and non-finite values with a clear message", () => {
    assert.throws(() => pairedTest([1, 2], [1]), /one value per seed/);
    assert.throws(() => pairedTest([1, NaN], [1, 2]), /diverged runs/);
  });
});

describe("four outcomes", () => {
  test("matches: supported inside the margin, not supported beyond it, inconclusive when wide", () => {
    assert.equal(claimOutcome([], pairedEvidence([80.1, 80.3, 79.9], [80.2, 80.0, 80.1], "matches")).outcome, "supported");
    assert.equal(claimOutcome([], pairedEvidence([75.1, 75.3, 74.9], [80.2, 80.0, 80.1], "matches")).outcome, "not supported");
    assert.equal(claimOutcome([], pairedEvidence([78, 82, 76], [80, 79, 81], "matches")).outcome, "inconclusive");
  });
  test("beats / worse predictions", () => {
    assert.equal(claimOutcome([], pairedEvidence([85, 86, 85.5], [80, 80.5, 80.2], "beats")).outcome, "supported");
    assert.equal(claimOutcome([], pairedEvidence([80, 80.5, 80.2], [80.1, 80.4, 80.2], "beats")).outcome, "not supported");
    assert.equal(claimOutcome([], pairedEvidence([70, 71, 70.5], [80, 80.5, 80.2], "worse")).outcome, "supported");
  });
  test("a failed precondition gives not testable with its reason; one seed is not testable", () => {
    const r = claimOutcome([{ ok: false, reason: "DyT did not learn on 2 of 3 seeds" }], pairedEvidence([80, 81, 82], [80, 81, 82], "matches"));
    assert.deepEqual(r, { outcome: "not testable", reason: "DyT did not learn on 2 of 3 seeds" });
    assert.equal(claimOutcome([], pairedEvidence([80], [80], "matches")).outcome, "not testable");
  });
  test("decide: the prediction wins when both p-values are small; non-finite is inconclusive", () => {
    assert.equal(decide(0.01, 0.01, 0.05), "supported");
    assert.equal(decide(0.2, 0.01, 0.05), "not supported");
    assert.equal(decide(NaN, 0.01, 0.05), "inconclusive");
  });
  test("Holm across the table can turn a marginal row inconclusive and says so", () => {
    const strong = pairedEvidence([85, 86, 85.5, 85.2], [80, 80.5, 80.2, 80.1], "beats");
    const weak = pairedEvidence([80.6, 80.9, 80.1], [80.0, 80.1, 79.9], "beats");
    const rows = [strong, weak].map((e) => ({ ...claimOutcome([], e), evidence: e }));
    assert.equal(rows[1]!.outcome, "supported", `unadjusted p ${weak.pFor}`);
    const many = [...rows, ...Array.from({ length: 6 }, () => ({ ...rows[1]! }))];
    const adj = adjustTable(many);
    assert.equal(adj[0]!.outcome, "supported");
    assert.equal(adj[1]!.outcome, "inconclusive");
    assert.match(adj[1]!.reason, /Holm-adjusted; supported before correction/);
  });
  test("adjustClaims leaves rows without evidence (legacy or not testable) unchanged", () => {
    const rows = adjustClaims([{ id: "x", claim: "c", paper: "p", ours: "o", verdict: "supported", reason: "legacy rule", notebook: "", scale: "full" }]);
    assert.equal(rows[0]!.verdict, "supported");
  });
});

describe("run classification and plateau rule", () => {
  test("a run stuck at chance did not learn (never 'diverged'); diverged is only a diverged status", () => {
    assert.equal(classifyRun({ status: "completed", acc: 0.1, numClasses: 10 }), "did not learn");
    assert.equal(classifyRun({ status: "completed", acc: 0.101, numClasses: 10 }), "did not learn");
    assert.equal(classifyRun({ status: "completed", acc: 0.5, numClasses: 10 }), "learned");
    assert.equal(classifyRun({ status: "diverged", numClasses: 10 }), "diverged");
    assert.equal(classifyRun({ status: "completed", acc: NaN, numClasses: 10 }), "did not learn");
    assert.ok(Math.abs(learnedThreshold(10) - 0.28) < 1e-12);
  });
  test("plateau: gain over the last third below the rule's points", () => {
    const ev = (accs: number[]) => accs.map((acc, i) => ({ step: (i + 1) * 10, acc }));
    assert.equal(plateaued(ev([0.5, 0.6, 0.7, 0.8, 0.85, 0.86, 0.865, 0.868, 0.87, 0.871])).plateaued, true);
    assert.equal(plateaued(ev([0.5, 0.6, 0.7, 0.75, 0.78, 0.8, 0.82, 0.84, 0.86, 0.88])).plateaued, false);
    assert.equal(plateaued(ev([0.5])).plateaued, false);
  });
});

describe("arm registry", () => {
  test("derived arms keep the base's settings, merge options and get standard placement ids", () => {
    const post = deriveArm("dyt", { placement: "post" });
    assert.equal(post.id, "dyt-post");
    assert.equal(post.label, "DyT post");
    const hard = deriveArm("dyt", { id: "hardtanh", label: "hardtanh", normOptions: { squash: "hardtanh" } });
    assert.deepEqual(hard.normOptions, { squash: "hardtanh" });
    assert.equal(arm("nf-agc").train?.agc, 0.01);
    assert.throws(() => arm("nope"), /unknown arm "nope"; valid: layernorm/);
    assert.throws(() => deriveArm("dyt", { normOptions: {} }), /give an id and a label/);
  });
});

describe("runner: resolved-config cache", () => {
  useTempResultsDirs("dyt-protocol-");
    // A tiny model on the cpu engine: the runner's bookkeeping is under test, not learning.
  const base: RunBase = { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { steps: 4, batchSize: 8, warmupSteps: 1, evalEvery: 2, evalLimit: 32, logEvery: 1, checkpointEvery: 2 }, data: { trainLimit: 100, testLimit: 50 } };
  const job = (armId: string, seed: number, run: string): Job => ({ experiment: "protocol-test", scale: "smoke", run, seed, role: "eval", axes: {}, label: armId, resolved: resolveRun(base, arm(armId), seed) });

  test("epochs -> steps, and the resolved config writes every default out", () => {
    assert.equal(stepsForEpochs(30, { trainLimit: 20_000 }, 64), 9375);
    assert.throws(() => stepsForEpochs(0, { trainLimit: 0 }, 64), /positive number of epochs/);
    const r = resolveRun(base, arm("dyt"), 3);
    assert.equal(r.normResolved.alpha0, NORM_DEFAULTS.alpha0);
    assert.equal(r.train.weightDecay, 0.05);
    assert.equal(r.model.initStd, 0.02);
    assert.equal(r.train.seed, 3);
    assert.equal(r.model.seed, 3);
  });

  test("a changed default (DyT alpha0) makes the saved record stale: refused under cachedOnly, re-run otherwise", async () => {
    await useEngine("cpu");
    const j = job("dyt", 1, "dyt-s1");
    const rec = await executeJob(j, {});
    assert.equal(rec.epoch, RECORD_EPOCH);
    assert.ok(loadCurrent(j, { scale: "smoke", cachedOnly: true }), "the record of the same resolved config is reused");
    const saved = NORM_DEFAULTS.alpha0;
    try {
      NORM_DEFAULTS.alpha0 = 0.6;
      const j2 = job("dyt", 1, "dyt-s1");
      assert.throws(() => loadCurrent(j2, { scale: "smoke", cachedOnly: true }), (e: Error) => e instanceof StaleResultError && /normResolved\.alpha0: saved 0\.5, now 0\.6/.test(e.message) && /npm run exp -- protocol-test --scale smoke/.test(e.message));
      assert.equal(loadCurrent(j2, { scale: "smoke", verbose: false }), undefined, "re-run, never reused");
    } finally {
      NORM_DEFAULTS.alpha0 = saved;
    }
  });

  test("a record of an older epoch (before the init fix) is refused", () => {
    const j = job("layernorm", 1, "old-ln-s1");
    const file = path.join(process.env.DYT_RESULTS_DIR!, "protocol-test", "smoke", "old-ln-s1.json");
    writeJsonAtomic(file, { config: j.resolved, result: {} });
    assert.throws(() => loadCurrent(j, { scale: "smoke", cachedOnly: true }), /record epoch 1, current 2/);
    assert.throws(() => loadCurrent(job("layernorm", 1, "missing"), { scale: "smoke", cachedOnly: true }), MissingResultError);
  });

  test("worker processes produce the same losses as an in-process run", async () => {
    await useEngine("cpu");
    process.env.DYT_ENGINE = "cpu";
    try {
      const jobs = [job("layernorm", 2, "w-ln-s2"), job("dyt", 2, "w-dyt-s2")];
      const viaWorkers = await runJobs(jobs, { scale: "smoke", workers: 2, verbose: false });
      const inProc = await runJobs(jobs.map((j) => ({ ...j, run: `p-${j.run}` })), { scale: "smoke", workers: 1, verbose: false });
      viaWorkers.forEach((r, i) => {
        const a = r.result.log.map((l) => l.loss);
        const b = inProc[i]!.result.log.map((l) => l.loss);
        assert.deepEqual(a, b, `${r.run}: ${a} vs ${b}`);
      });
      assert.equal(viaWorkers[0]!.provenance.gitCommit, inProc[0]!.provenance.gitCommit, "workers name the parent's commit");
    } finally {
      delete process.env.DYT_ENGINE;
    }
  });

  test("lr pick: runs that did not learn never win; ties go to the smaller lr; edges are flagged", () => {
    const mk = (lr: number, acc: number, status = "completed") => ({ config: { train: { lr }, model: { numClasses: 10 } }, result: { status, evals: [{ step: 1, loss: 1, acc }] } }) as unknown as ProtocolRecord;
    const p = pickLr("dyt", [mk(1e-3, 0.7), mk(2e-3, 0.8), mk(4e-3, 0.8), mk(8e-3, 0.1)]);
    assert.equal(p.bestLr, 2e-3);
    assert.equal(p.atEdge, false);
    assert.equal(pickLr("dyt", [mk(1e-3, 0.9), mk(2e-3, 0.1)]).atEdge, true);
    assert.equal(pickLr("dyt", [mk(1e-3, 0.1), mk(2e-3, 0, "diverged")]).noneLearned, true);
  });
});

describe("provenance", () => {
  test("a full-scale run from a dirty tree is refused unless --allow-dirty", () => {
    const script = `const r = require(${JSON.stringify(path.resolve(__dirname, "../lib/experiments/protocol/runner.js"))});
      try { r.assertCleanForScale("full", {}); console.log("ran"); } catch (e) { console.log("refused: " + e.message); }
      r.assertCleanForScale("full", { allowDirty: true }); r.assertCleanForScale("quick", {}); console.log("allowed");`;
    const env = { ...process.env, DYT_CODE_VERSION: JSON.stringify({ gitCommit: "abc", gitDirty: true, processStartedAt: new Date().toISOString() }) };
    const out = execFileSync(process.execPath, ["-e", script], { env, encoding: "utf8" });
    assert.match(out, /refused: refusing a full-scale run from a dirty tree.*--allow-dirty/);
    assert.match(out, /allowed/);
  });
});

describe("robustness of committed verdicts", () => {
  test("no vit-fashion full verdict flips when every threshold moves by 1 %", async () => {
    const dir = path.resolve(__dirname, "../../results/vit-fashion/full");
    const summary = path.join(dir, "summary.json");
    if (!fs.existsSync(summary)) return; // nothing committed to check (a fresh lab)
    // Summarising saves a summary: work on a copy so the committed one is never rewritten.
    const saved = process.env.DYT_RESULTS_DIR;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-robust-"));
    fs.cpSync(dir, path.join(tmp, "vit-fashion", "full"), { recursive: true });
    process.env.DYT_RESULTS_DIR = tmp;
    try {
      const outcomes = async (factor: number) => {
        const { summary: s } = await runVitFashion({ scale: "full", cachedOnly: true, verbose: false }, {}, scaledRules(factor, RULES));
        return [s.verdict, ...s.rungs.map((r) => `${r.epochs}:${r.outcome}:${r.allPlateaued}`), s.shared?.outcome ?? ""];
      };
      const base = await outcomes(1);
      assert.deepEqual(await outcomes(0.99), base);
      assert.deepEqual(await outcomes(1.01), base);
    } finally {
      if (saved !== undefined) process.env.DYT_RESULTS_DIR = saved;
      else delete process.env.DYT_RESULTS_DIR;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
