/**
 * lm-to-failure (issue 12, experiment 6): the ladders' rungs and jobs (the
 * first rung is lm-rmsnorm-dyt's own runs), the rung rule and R-to-failure
 * on made-up runs (every outcome), and the climb end to end at smoke: a
 * ladder stops at its first break, and a second run loads.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { resolveArm } from "../lib/experiments/protocol/arms";
import { RULES } from "../lib/experiments/protocol/rules";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import type { LmArmRuns } from "../lib/experiments/lm-rmsnorm-dyt";
import { gapLadderFigure, ladderRungs, LM_TO_FAILURE_SCALES, lmToFailureEntry, rungJob, rungTable, rungVerdict, runLmToFailure, toFailureVerdict, type LadderResult, type RungResult } from "../lib/experiments/lm-to-failure";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { useEngine, useTempResultsDirs } from "./helpers";

const L = "learned";
/** Made-up runs of one arm: test bpb per seed 1..n ("div" = diverged). */
function runs(label: string, bpbs: (number | "div")[]): LmArmRuns {
  return {
    arm: label,
    label,
    lr: 1e-2,
    seeds: bpbs.map((_, i) => i + 1),
    accs: bpbs.map(() => NaN),
    classes: bpbs.map((b) => (b === "div" ? "diverged" : L)),
    bpbs: bpbs.map((b) => (b === "div" ? NaN : b)),
    lateGain: [],
    plateaued: [],
    lrNote: "",
    params: 1,
  };
}

describe("lm-to-failure: rungs and jobs", () => {
  test("full ladders: budget x1, x2, x4 at depth 2 and depth 2, 4, 8 at x1; bad ladders are refused", () => {
    const s = LM_TO_FAILURE_SCALES.full;
    assert.deepEqual(ladderRungs(s, "full", "steps").map((r) => [r.id, r.budget, r.depth]), [["base", 1, 2], ["x2", 2, 2], ["x4", 4, 2]]);
    assert.deepEqual(ladderRungs(s, "full", "depth").map((r) => [r.id, r.budget, r.depth]), [["base", 1, 2], ["d4", 1, 4], ["d8", 1, 8]]);
    assert.throws(() => ladderRungs({ ...s, steps: [2, 4] }, "full", "steps"), /must start at 1/);
    assert.throws(() => ladderRungs({ ...s, depths: [4, 8] }, "full", "depth"), /must start at lm-rmsnorm-dyt's depth 2/);
    assert.throws(() => ladderRungs({ ...s, depths: [2, 8, 4] }, "full", "depth"), /ascending/);
  });

  test("the first rung is lm-rmsnorm-dyt's run; a budget rung doubles the steps, a depth rung the blocks, under this experiment", () => {
    const s = LM_TO_FAILURE_SCALES.full;
    const a = resolveArm("dyt-lm");
    const lrs = { "dyt-lm": { lr: 1e-2, note: "tuned" }, rmsnorm: { lr: 1e-2, note: "tuned" } };
    const [b0, x2] = ladderRungs(s, "full", "steps");
    const [, d4] = ladderRungs(s, "full", "depth");
    const base = rungJob("full", b0!, a, 1, 1e-2, lrs);
    assert.equal(base.experiment, "lm-rmsnorm-dyt");
    assert.equal(base.run, "dyt-lm-s1");
    const j2 = rungJob("full", x2!, a, 1, 1e-2, lrs);
    assert.equal(j2.experiment, "lm-to-failure");
    assert.equal(j2.run, "dyt-lm-x2-s1");
    assert.ok(Math.abs(j2.resolved.train.steps - 2 * base.resolved.train.steps) <= 1, `${j2.resolved.train.steps} vs 2 x ${base.resolved.train.steps}`);
    assert.equal(j2.resolved.model.depth, 2);
    assert.equal(j2.resolved.train.lr, 1e-2);
    const j4 = rungJob("full", d4!, a, 1, 1e-2, lrs);
    assert.equal(j4.resolved.model.depth, 4);
    assert.equal(j4.resolved.train.steps, base.resolved.train.steps);
    assert.equal(j4.run, "dyt-lm-d4-s1");
  });
});

describe("lm-to-failure: rules", () => {
  const base = { d: runs("DyT", [2.67, 2.65, 2.69]), n: runs("RMSNorm", [2.56, 2.55, 2.58]) };
  test("a rung holds when the gap does not widen, breaks when it widens or DyT stops learning, is not testable when RMSNorm fails", () => {
    assert.equal(rungVerdict(base.d, base.n, undefined).outcome, "holds", "the first rung: both learned");
    const same = rungVerdict(runs("DyT", [2.500, 2.481, 2.522]), runs("RMSNorm", [2.390, 2.380, 2.411]), base);
    assert.equal(same.outcome, "holds", same.reason);
    assert.deepEqual(same.widening.map((w) => Math.round(w * 1000)), [0, 1, 1]);
    const wide = rungVerdict(runs("DyT", [2.70, 2.69, 2.73]), runs("RMSNorm", [2.40, 2.41, 2.42]), base);
    assert.equal(wide.outcome, "breaks", wide.reason);
    assert.equal(rungVerdict(runs("DyT", [2.5, "div", 2.5]), runs("RMSNorm", [2.4, 2.4, 2.4]), base).outcome, "breaks");
    assert.equal(rungVerdict(runs("DyT", [2.5, 2.5, 2.5]), runs("RMSNorm", [2.4, "div", 2.4]), base).outcome, "not testable");
    const noisy = rungVerdict(runs("DyT", [2.5, 2.9, 2.4]), runs("RMSNorm", [2.4, 2.4, 2.4]), base);
    assert.equal(noisy.outcome, "inconclusive", noisy.reason);
  });

  test("R-to-failure: supported when every rung holds, not supported at a break, inconclusive otherwise, not testable without a first rung", () => {
    const rung = (id: string, outcome: RungResult["outcome"]): RungResult =>
      ({ rung: { ladder: "steps", index: id === "base" ? 0 : 1, budget: 1, depth: 2, id }, steps: 1, arms: [base.d, base.n], seeds: [], gap: [], widening: [], outcome, reason: outcome }) as RungResult;
    const ladder = (l: "steps" | "depth", ...rs: RungResult[]): LadderResult => {
      const broke = rs.find((r) => r.outcome === "breaks");
      return { ladder: l, rungs: rs, ...(broke ? { brokeAt: broke.rung.id } : {}), skipped: [] };
    };
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "holds")), ladder("depth", rung("base", "holds"), rung("d4", "holds"))]).outcome, "supported");
    const broke = toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "holds")), ladder("depth", rung("base", "holds"), rung("d4", "breaks"))]);
    assert.equal(broke.outcome, "not supported");
    assert.match(broke.reason, /depth ladder broke at d4/);
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "inconclusive")), ladder("depth", rung("base", "holds"))]).outcome, "inconclusive");
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "not testable"))]).outcome, "not testable");
  });
});

describe("lm-to-failure end to end", () => {
  useTempResultsDirs("dyt-lm-to-failure-");

  test("at smoke every rung trains; with a margin no data can meet, each ladder stops at its first rung above the base; a second run loads", async () => {
    await useEngine("native");
    assert.ok(EXPERIMENTS.includes(lmToFailureEntry), "registered");
    // Smoke models do not learn (bpb above unigram): every run counts as learned here, so the rung rule is reached.
    const learnAll = { ...RULES, lmLearnedBelowUnigramBpb: -100 };
    const ctx = { scale: "smoke" as const, verbose: false, seeds: [1, 2, 3] };
    const hold = await runLmToFailure(ctx, { steps: [1, 2, 4] }, { ...learnAll, lmMatchMarginBpb: 100 });
    assert.deepEqual(hold.summary.ladders.map((l) => l.rungs.map((r) => r.outcome)), [["holds", "holds", "holds"], ["holds", "holds"]]);
    assert.equal(hold.summary.verdict, "supported");
    assert.equal(hold.records.length, 24, "4 rungs (the first shared by both ladders) x 3 seeds x 2 arms");
    // The first rung is lm-rmsnorm-dyt's own runs on its seeds (smoke: 1, 2), this experiment's on seed 3.
    assert.deepEqual(hold.records.filter((r) => r.experiment === "lm-rmsnorm-dyt").map((r) => r.run).sort(), ["dyt-lm-s1", "dyt-lm-s2", "rmsnorm-s1", "rmsnorm-s2"]);
    const stop = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, { ...learnAll, lmMatchMarginBpb: -100 });
    assert.deepEqual(stop.summary.ladders.map((l) => [l.brokeAt, l.skipped]), [["x2", ["x4"]], ["d2", []]]);
    assert.equal(stop.summary.verdict, "not supported");
    const plain = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, learnAll);
    assert.ok(OUTCOMES.includes(plain.summary.verdict));
    assert.equal(gapLadderFigure(plain.summary).data.length, 4);
    assert.equal(rungTable(plain.summary).length, 5);
    const [row] = lmToFailureEntry.claims(plain.summary);
    assert.equal(row!.id, "R-to-failure (LM)");
    assert.equal(row!.verdict, plain.summary.verdict);
  });
});
