import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { NORM_FREE_SCALES, normFreeEntry, normFreeComparisonTable, normFreeFigures, normFreeTable, lrTuningFigure, tunedTable, runNormFree, summarizeNormFree, type NormFreeScale } from "../lib/experiments/norm-free";
import { arm } from "../lib/experiments/protocol/arms";
import { scaledRules } from "../lib/experiments/protocol/rules";
import { resolveRun } from "../lib/experiments/protocol/task";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeRecord } from "./protocol-records";

const S: NormFreeScale = { ...NORM_FREE_SCALES.smoke, arms: ["layernorm", "dyt", "fixup", "skipinit", "sigma-reparam"], seeds: [1, 2, 3], tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101 } };
/** Tuning records (best lr 4e-3 for every arm) and evaluation records with test accuracy `acc[arm][seed]` (%; null: diverged). */
function claim8Records(acc: Record<string, (number | null)[]>) {
  return Object.entries(acc).flatMap(([id, per]) => [
    ...S.tuning.lrs.map((lr) => fakeRecord({ arm: id, seed: 101, lr, role: "tune", acc: lr === 4e-3 ? 0.8 : 0.7 })),
    ...per.map((a, i) => fakeRecord({ arm: id, seed: i + 1, lr: 4e-3, role: "eval", axes: { lrFrom: "tuned" }, ...(a === null ? { divergeAt: 5 } : { acc: a / 100 }) })),
  ]);
}
const noisy = (m: number) => [m, m + 0.3, m - 0.2];

describe("norm-free experiment: computed verdicts", () => {
  before(() => useEngine("cpu"));

  it("claim 8: DyT must beat Fixup and SkipInit and match σ-Reparam, each a paired comparison of its own", () => {
    const ok = summarizeNormFree(claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: noisy(77), skipinit: noisy(74), "sigma-reparam": noisy(80.2) }), S, "smoke");
    assert.deepEqual(ok.comparisons.map((c) => [c.id, c.prediction, c.outcome]), [["8.fixup", "beats", "supported"], ["8.skipinit", "beats", "supported"], ["8.sigma-reparam", "matches", "supported"]]);
    assert.equal(ok.verdict, "supported");
    const c0 = ok.comparisons[0]!;
    assert.ok(Math.abs(c0.evidence!.test.mean - 3) < 1e-9 && c0.evidence!.test.n === 3, "DyT − Fixup = +3 points, paired over 3 seeds");
    // DyT below Fixup beyond the margin: refuted; DyT 2 points under σ-Reparam on every seed: does not match.
    const worse = summarizeNormFree(claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: noisy(83), skipinit: noisy(74), "sigma-reparam": noisy(82) }), S, "smoke");
    assert.deepEqual(worse.comparisons.map((c) => c.outcome), ["not supported", "supported", "not supported"]);
    assert.equal(worse.verdict, "not supported");
    // σ-Reparam not run: the claim is not testable as a whole.
    const partial = summarizeNormFree(claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: noisy(77), skipinit: noisy(74) }), S, "smoke");
    assert.equal(partial.verdict, "not testable");
    assert.match(partial.reason, /sigma-reparam were not run/);
    // One seed: no noise estimate.
    const one = summarizeNormFree(claim8Records({ layernorm: [80], dyt: [80], fixup: [77], skipinit: [74], "sigma-reparam": [80] }), S, "smoke");
    assert.ok(one.comparisons.every((c) => c.outcome === "not testable" && /1 paired seed/.test(c.reason)));
    // A Fixup seed that diverged: the comparison rests on a failed run, so it is not testable (never scored at chance).
    const div = summarizeNormFree(claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: [77, null, 77], skipinit: noisy(74), "sigma-reparam": noisy(80) }), S, "smoke");
    assert.equal(div.comparisons[0]!.outcome, "not testable");
    assert.match(div.comparisons[0]!.reason, /Fixup: of 3 seeds 1 diverged, 0 did not learn/);
    // No verdict flips when the thresholds move by 1 %.
    for (const f of [0.99, 1.01]) assert.deepEqual(summarizeNormFree(claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: noisy(77), skipinit: noisy(74), "sigma-reparam": noisy(80.2) }), S, "smoke", scaledRules(f)).comparisons.map((c) => c.outcome), ok.comparisons.map((c) => c.outcome));
    // Claims rows: one per comparison with its evidence, so the table's Holm correction applies per comparison.
    const rows = normFreeEntry.claims(ok);
    // Every arm's tuned lr is LN's here, so the shared-recipe rows repeat the tuned runs.
    assert.deepEqual(rows.map((r) => r.id), ["8.fixup", "8.skipinit", "8.sigma-reparam", "8-shared.fixup", "8-shared.skipinit", "8-shared.sigma-reparam"]);
    assert.ok(rows.every((r) => r.evidence && r.detectable && r.verdict === "supported"));
    // Tables and figures build from the summary.
    assert.equal(normFreeTable(ok).length, 5);
    assert.equal(normFreeComparisonTable(ok).length, 3);
    assert.equal(tunedTable(ok).length, 5);
    assert.ok(lrTuningFigure(ok, "smoke").data.length === 5);
  });

  it("a tuning pick at the grid's edge is reported in the claim row", () => {
    const recs = claim8Records({ layernorm: noisy(80), dyt: noisy(80), fixup: noisy(77), skipinit: noisy(74), "sigma-reparam": noisy(80) }).map((r) =>
      r.role === "tune" && r.arm === "dyt" ? fakeRecord({ arm: "dyt", seed: 101, lr: r.config.train.lr, role: "tune", acc: r.config.train.lr === 1.6e-2 ? 0.85 : 0.6 }) : r,
    );
    const s = summarizeNormFree(recs, S, "smoke");
    assert.equal(s.arms.find((a) => a.arm === "dyt")!.pick.atEdge, true);
    assert.match(normFreeEntry.claims(s)[0]!.reason!, /DyT's tuned lr 0.016 is at the grid's edge/);
    assert.match(s.statement, /best lr at the edge of the grid .*DyT 0.016/);
  });

  it("lr tuning picks the best final validation accuracy, never a diverged run, ties to the smaller lr", () => {
    const rec = (lr: number, acc: number, diverged = false) => fakeRecord({ arm: "dyt", seed: 101, lr, role: "tune", ...(diverged ? { divergeAt: 3 } : { acc }) });
    const mid = pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.7), rec(1.6e-2, 0.6)]);
    assert.equal(mid.bestLr, 4e-3);
    assert.equal(mid.atEdge, false);
    assert.equal(pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.7), rec(1.6e-2, 0.8)]).atEdge, true);
    // A diverged run is never picked, and neither is one stuck at chance.
    const t = pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.9, true), rec(8e-3, 0.1)]);
    assert.equal(t.bestLr, 1e-3);
    assert.equal(t.grid[1]!.valAcc, null);
    assert.equal(t.grid[2]!.class, "did not learn");
    assert.equal(pickLr("dyt", [rec(2e-3, 0.6), rec(1e-3, 0.6)]).bestLr, 1e-3);
    assert.throws(() => pickLr("dyt", []), /no tuning runs for arm "dyt"/);
  });

  it("NF with and without AGC are different arms of the same method, with different resolved configs", () => {
    assert.deepEqual(arm("nf-agc").train, { agc: 0.01 });
    assert.equal(arm("nf").train, undefined);
    const base = { model: { dim: 16, depth: 2, heads: 2, patchSize: 7 }, train: {}, data: { trainLimit: 100, testLimit: 100 } };
    const [a, b] = [resolveRun(base, arm("nf"), 1), resolveRun(base, arm("nf-agc"), 1)];
    assert.equal(a.model.method, "nf");
    assert.equal(b.model.method, "nf");
    assert.equal(a.train.agc, 0);
    assert.equal(b.train.agc, 0.01);
  });

  it("rejects a tuning seed that is also an evaluation seed, bad lrs and unknown arms, naming the fix", async () => {
    await assert.rejects(runNormFree({ scale: "smoke", verbose: false }, { tuning: { lrs: [1e-3], seed: 1 } }), /tuning seed 1 is also an evaluation seed; pick a seed outside \[1, 2\]/);
    await assert.rejects(runNormFree({ scale: "smoke", verbose: false }, { tuning: { lrs: [0], seed: 7 } }), /tuning lrs must be positive/);
    await assert.rejects(runNormFree({ scale: "smoke", verbose: false }, { arms: ["groupnorm"] }), /unknown arm "groupnorm"; valid: layernorm, rmsnorm, dyt/);
    await assert.rejects(runNormFree({ scale: "smoke", verbose: false }, { arms: ["dyt", "fixup"] }), /sharedLrArm "layernorm" is not among the arms/);
  });
});

describe("norm-free at smoke scale", () => {
  before(() => useEngine("cpu"));
  useTempResultsDirs("norm-free-");

  it("tunes each arm on the tuning seed, runs the seeds at the tuned and the shared lr, and writes a summary", async () => {
    const { records, summary } = await runNormFree({ scale: "smoke", verbose: false }, { arms: ["layernorm", "dyt", "fixup"] });
    const tune = records.filter((r) => r.role === "tune");
    assert.equal(tune.length, 3 * 2);
    assert.ok(tune.every((r) => r.seed === 101));
    const tuned = records.filter((r) => r.role === "eval" && r.axes.lrFrom === "tuned");
    assert.equal(tuned.length, 3 * 2);
    for (const r of tuned) assert.equal(r.config.train.lr, summary.arms.find((a) => a.arm === r.arm)!.pick.bestLr, `${r.run} runs at its arm's pick`);
    for (const r of records.filter((x) => x.axes.lrFrom === "shared")) assert.equal(r.config.train.lr, summary.sharedLr);
    // 0.25 epoch of 1000 images at batch 32.
    assert.equal(records[0]!.config.train.steps, 8);
    assert.equal(summary.comparisons.length, 1);
    assert.equal(summary.verdict, "not testable");
    assert.ok(fs.existsSync(path.join(process.env.DYT_RESULTS_DIR!, "norm-free", "smoke", "summary.json")));
    const figs = normFreeFigures(records, summary, "smoke");
    assert.ok(figs.loss.data.length > 0 && figs.acc.data.length > 0 && figs.bars.data.length === 2);
    // A second call reuses every record (same resolved configs).
    const again = await runNormFree({ scale: "smoke", verbose: false, cachedOnly: true }, { arms: ["layernorm", "dyt", "fixup"] });
    assert.equal(again.records.length, records.length);
  });
});
