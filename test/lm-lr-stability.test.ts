/**
 * lm-lr-stability: which runs are lm-rmsnorm-dyt's (and that the committed
 * ones are reused, not re-run), the grid-extension rule, the bpb view of the
 * stable range, R-lr (LM) on made-up records, scale checks, and the
 * experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import {
  alpha0VariantArm,
  assertLmLrScale,
  gridExtension,
  LM_LR_STABILITY,
  LM_LR_STABILITY_SCALES,
  lmArmView,
  lmLrFigures,
  lmLrPoints,
  lmLrRunSummary,
  lmLrStabilityEntry,
  lmLrTable,
  runLmLrStability,
  summarizeLmLrStability,
  sweepJob,
  type LmLrGridPoint,
} from "../lib/experiments/lm-lr-stability";
import { LM_RMSNORM_DYT, LM_RMSNORM_DYT_SCALES, lmStudy } from "../lib/experiments/lm-rmsnorm-dyt/spec";
import { tuneJobs, epochSchedule } from "../lib/experiments/protocol/jobs";
import { arm } from "../lib/experiments/protocol/arms";
import { readJson } from "../lib/util/atomic";
import { staleReason, type LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeLm } from "./lm-fakes";

const point = (lr: number, learned: number, meanBpb: number, runs = 1): LmLrGridPoint => ({ lr, runs, learned, diverged: runs - learned, didNotLearn: 0, meanBpb });

/** One made-up run per (arm, lr): bpb per lr, "div" for a diverged run. Unigram 4.5, so learned means bpb <= 4.25. */
function records(grid: Record<string, Record<number, number | "div">>): LmProtocolRecord[] {
  return Object.entries(grid).flatMap(([id, byLr]) =>
    Object.entries(byLr).map(([lr, v]) => (v === "div" ? fakeLm({ arm: id, lr: Number(lr), status: "diverged" }) : fakeLm({ arm: id, lr: Number(lr), bpb: v }))),
  );
}
const S = { ...LM_LR_STABILITY_SCALES.smoke, arms: ["dyt-lm", "rmsnorm", "rezero"] };
const summarize = (rs: LmProtocolRecord[]) => summarizeLmLrStability(rs, S, "smoke");

describe("lm-lr-stability", () => {
  test("a run lm-rmsnorm-dyt's tuning grid has is that study's job (same id and resolved config); other runs are this study's", () => {
    for (const scale of ["smoke", "full"] as const) {
      const s = LM_LR_STABILITY_SCALES[scale];
      const lm = LM_RMSNORM_DYT_SCALES[scale];
      if (lm.lr.kind !== "tuned") throw new Error("lm-rmsnorm-dyt is tuned");
      const theirs = tuneJobs({ experiment: LM_RMSNORM_DYT, scale, base: lm.base }, lmStudy(lm).arms, lm.lr.tuning, { axes: { epochs: lm.epochs }, train: epochSchedule(lm.epochs, lm.base) });
      const shared = lm.lr.tuning.lrs.filter((lr) => s.lrs.includes(lr));
      assert.ok(shared.length > 0, `${scale}: the grids share an lr`);
      for (const id of ["dyt-lm", "rmsnorm"]) {
        for (const lr of shared) {
          const j = sweepJob(s, scale, arm(id), lr);
          const t = theirs.find((x) => x.run === j.run)!;
          assert.equal(j.experiment, LM_RMSNORM_DYT);
          assert.deepEqual(j.resolved, t.resolved);
        }
      }
      const own = sweepJob(s, scale, arm("rezero"), shared[0]!);
      assert.equal(own.experiment, LM_LR_STABILITY);
      assert.equal(own.resolved.model.method, "rezero");
      // The same arm at an lr lm-rmsnorm-dyt did not tune runs here.
      assert.equal(sweepJob(s, scale, arm("rmsnorm"), 3e-1).experiment, LM_LR_STABILITY);
    }
  });

  test("the committed lm-rmsnorm-dyt tuning records are current for this study's full jobs (they are read, not re-run)", () => {
    const s = LM_LR_STABILITY_SCALES.full;
    const dir = path.join(__dirname, "..", "..", "results", LM_RMSNORM_DYT, "full");
    const jobs = ["dyt-lm", "rmsnorm"].flatMap((id) => s.lrs.map((lr) => sweepJob(s, "full", arm(id), lr))).filter((j) => j.experiment === LM_RMSNORM_DYT);
    assert.equal(jobs.length, 10);
    for (const j of jobs) {
      const f = path.join(dir, `${j.run}.json`);
      assert.ok(fs.existsSync(f), `${j.run} is committed`);
      assert.equal(staleReason(readJson<LmProtocolRecord>(f), j), undefined, j.run);
    }
  });

  test("the grid grows upward while its top run learned and downward while its best is the bottom one, within the bounds", () => {
    const bounds: [number, number] = [1e-4, 1];
    assert.deepEqual(gridExtension([point(1e-2, 1, 2.7), point(3e-2, 1, 2.6)], bounds, 0.04), [1e-1]);
    assert.deepEqual(gridExtension([point(1e-2, 1, 2.6), point(3e-2, 0, NaN)], bounds, 0.04), [3e-3]);
    assert.deepEqual(gridExtension([point(1e-2, 1, 2.6), point(3e-2, 1, 2.7)], bounds, 0.04), [1e-1, 3e-3]);
    assert.deepEqual(gridExtension([point(1e-3, 1, 2.9), point(3e-3, 1, 2.6), point(1e-2, 0, NaN)], bounds, 0.04), []);
    assert.deepEqual(gridExtension([point(1e-4, 1, 2.6), point(1, 1, 2.7)], bounds, 0.04), [], "the bounds stop it");
    assert.deepEqual(gridExtension([point(1e-2, 0, NaN), point(1e-1, 0, NaN)], bounds, 0.04), [], "nothing learned: nothing to follow");
  });

  test("the view ranks by lower bpb: best lr, stable range, near-optimal within the tolerance", () => {
    const grid = [point(1e-3, 1, 2.9), point(3e-3, 1, 2.7), point(1e-2, 1, 2.61), point(3e-2, 1, 2.64), point(1e-1, 0, NaN)];
    const v = lmArmView(grid, "strict", 0.04);
    assert.equal(v.bestLr, 1e-2);
    assert.equal(v.bestBpb, 2.61);
    assert.deepEqual([v.stable!.lo, v.stable!.hi, v.stable!.bracketedAbove, v.stable!.bracketedBelow], [1e-3, 3e-2, true, false]);
    assert.deepEqual([v.nearOptimal!.lo, v.nearOptimal!.hi], [1e-2, 3e-2]);
    assert.equal(lmArmView([point(1e-2, 0, NaN)], "strict", 0.04).stable, null);
  });

  test("R-lr (LM): supported, not supported on a lower top lr, not testable when RMSNorm learns up to the grid's top", () => {
    const lrs = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
    const grid = (bpbs: (number | "div")[]) => Object.fromEntries(lrs.map((lr, i) => [lr, bpbs[i]!]));
    const rezero = grid([3.0, 2.9, 2.8, "div", "div"]);
    const sup = summarize(records({ "dyt-lm": grid([2.9, 2.7, 2.61, 2.63, "div"]), rmsnorm: grid([2.9, 2.7, 2.60, 2.62, 4.4]), rezero }));
    assert.equal(sup.verdict, "supported", sup.reason);
    const ns = summarize(records({ "dyt-lm": grid([2.9, 2.7, 2.61, 4.4, 4.4]), rmsnorm: grid([2.9, 2.7, 2.60, 2.62, 4.4]), rezero }));
    assert.equal(ns.verdict, "not supported", ns.reason);
    assert.match(ns.reason, /largest stable lr DyT \(LLaMA recipe\) 1\.0e-2 < RMSNorm 3\.0e-2/);
    const dyt = ns.byArm.find((b) => b.arm === "dyt-lm")!;
    assert.equal(dyt.breaksAt!.lr, 3e-2);
    assert.ok(Math.abs(dyt.breaksAt!.missedBy - (4.4 - 4.25)) < 1e-9, "missed the learned threshold (4.5 - 0.25) by 0.15 bpb");
    const nt = summarize(records({ "dyt-lm": grid([2.9, 2.7, 2.61, 2.63, 4.4]), rmsnorm: grid([2.9, 2.7, 2.60, 2.62, 3.6]), rezero }));
    assert.equal(nt.verdict, "not testable");
    assert.match(nt.reason, /extend the grid upward/);
    // The norm-free arm is described, never decides.
    assert.deepEqual(sup.byArm.map((b) => [b.arm, b.role]), [["dyt-lm", "claim"], ["rmsnorm", "claim"], ["rezero", "norm-free"]]);
    assert.match(sup.statement, /Norm-free \(descriptive\): ReZero: learned at 1\.0e-3\.\.1\.0e-2, best lr 1\.0e-2 \(2\.800 bpb\).*at 3\.0e-2 it diverged/);
    assert.equal(lmLrTable(sup).length, 3);
    assert.equal(lmLrFigures(sup).learned.data.length, 1);
  });

  test("R-lr.α₀ (LM): the α₀ variant is judged against RMSNorm by the same rule, and leaves R-lr (LM) as it was", () => {
    const lrs = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
    const grid = (bpbs: (number | "div")[]) => Object.fromEntries(lrs.map((lr, i) => [lr, bpbs[i]!]));
    const base = records({ "dyt-lm": grid([2.9, 2.7, 2.61, 4.4, 4.4]), rmsnorm: grid([2.9, 2.7, 2.60, 2.62, 4.4]), rezero: grid([3.0, 2.9, 2.8, "div", "div"]) });
    const v = alpha0VariantArm(S, 0.25);
    assert.equal(v.id, "dyt-lm-a0.25");
    assert.deepEqual(v.lm?.alpha0, { alpha0Attn: 0.25, alpha0Ffn: 0.25, alpha0Final: 0.25 });
    assert.equal(v.lm?.embedScale, arm("dyt-lm").lm?.embedScale, "the variant keeps the recipe's embedding scalar");
    const vGrid = [2.9, 2.7, 2.61, 2.63, "div"] as const;
    const variant = lrs.map((lr, i) => (vGrid[i] === "div" ? fakeLm({ arm: v, lr, status: "diverged" }) : fakeLm({ arm: v, lr, bpb: vGrid[i] as number })));
    const without = summarize(base);
    const withV = summarize([...base, ...variant]);
    assert.equal(without.alpha0Variant, undefined, "no variant runs: no variant row");
    assert.equal(withV.statement, without.statement, "R-lr (LM) reads the sweep without the variant");
    assert.equal(withV.verdict, "not supported");
    assert.equal(withV.alpha0Variant!.verdict, "supported", withV.alpha0Variant!.reason);
    assert.deepEqual(withV.byArm.map((b) => [b.arm, b.role]).at(-1), ["dyt-lm-a0.25", "α₀ variant"]);
    const rows = lmLrStabilityEntry.claims(withV);
    assert.deepEqual(rows.map((r) => [r.id, r.verdict]), [["R-lr (LM)", "not supported"], ["R-lr.α₀ (LM)", "supported"]]);
    const narrow = lrs.map((lr, i) => fakeLm({ arm: v, lr, bpb: [2.9, 2.7, 2.61, 4.4, 4.4][i]! }));
    assert.equal(summarize([...base, ...narrow]).alpha0Variant!.verdict, "not supported");
  });

  test("a diverged run is classified, not dropped, and has no bpb", () => {
    const r = lmLrRunSummary(fakeLm({ arm: "rezero", lr: 1e-1, status: "diverged" }));
    assert.equal(r.class, "diverged");
    assert.ok(Number.isNaN(r.testBpb));
    assert.deepEqual(lmLrPoints([r]).map((p) => [p.runs, p.learned, p.diverged]), [[1, 0, 1]]);
  });

  test("bad scales fail before any run, naming the fix", () => {
    const s = LM_LR_STABILITY_SCALES.full;
    assert.throws(() => assertLmLrScale({ ...s, lrs: [2e-3] }), /not on the ladder/);
    assert.throws(() => assertLmLrScale({ ...s, bounds: [1e-2, 1] }), /must contain the grid/);
    assert.throws(() => assertLmLrScale({ ...s, arms: ["dyt-lm"] }), /two claim arms/);
    assert.throws(() => assertLmLrScale({ ...s, arms: ["dyt-lm", "dyt-lm"] }), /listed twice/);
    assert.throws(() => assertLmLrScale({ ...s, arms: ["dyt-lm", "nope"] }), /unknown arm "nope"/);
    assert.throws(() => assertLmLrScale({ ...s, alpha0Variant: 0 }), /alpha0Variant must be a positive/);
    assert.doesNotThrow(() => assertLmLrScale(s));
  });

  describe("end to end", () => {
    useTempResultsDirs("dyt-lm-lr-");
    test("runs at smoke: 3 arms and the α₀ variant x 2 lrs, the two norms at 1e-2 filed under lm-rmsnorm-dyt, verdicts and claims rows; a second run loads", async () => {
      await useEngine("native");
      const { records: rs, summary } = await runLmLrStability({ scale: "smoke", verbose: false });
      assert.equal(rs.length, 8);
      assert.deepEqual(rs.filter((r) => r.arm === "dyt-lm-a0.25").map((r) => r.run).sort(), ["dyt-lm-a0.25-lr1.0e-2-s101", "dyt-lm-a0.25-lr3.0e-1-s101"]);
      assert.deepEqual(rs.filter((r) => r.experiment === LM_RMSNORM_DYT).map((r) => r.run).sort(), ["tune-dyt-lm-lr1.0e-2-s101", "tune-rmsnorm-lr1.0e-2-s101"]);
      assert.ok(OUTCOMES.includes(summary.verdict));
      assert.ok(EXPERIMENTS.includes(lmLrStabilityEntry));
      const [row, vRow] = lmLrStabilityEntry.claims(summary);
      assert.equal(row!.id, "R-lr (LM)");
      assert.equal(row!.verdict, summary.verdict);
      assert.equal(vRow!.id, "R-lr.α₀ (LM)");
      assert.equal(vRow!.verdict, summary.alpha0Variant!.verdict);
      const again = await runLmLrStability({ scale: "smoke", verbose: false, cachedOnly: true });
      assert.equal(again.summary.statement, summary.statement);
    });
  });
});
