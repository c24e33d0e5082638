/**
 * lm-to-failure (issue 12, experiment 6): the ladders' rungs and jobs (the
 * first rung is lm-rmsnorm-dyt's own runs), the rung rule and R-to-failure
 * on made-up runs (every outcome), and the climb end to end at smoke: a
 * ladder stops at its first break, and a second run loads; the re-tuned
 * depth rung (its jobs, DyT's choice among α₀ candidates, its verdict).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { resolveArm } from "../lib/experiments/protocol/arms";
import { RULES } from "../lib/experiments/protocol/rules";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import type { LmArmRuns } from "../lib/experiments/lm-rmsnorm-dyt";
import { chooseDytCandidate, gapLadderFigure, ladderRungs, LM_TO_FAILURE_SCALES, lmToFailureEntry, retunedEvalJob, retunedVerdict, retuneDytArms, retuneRung, retuneTable, retuneTuneJobs, rungJob, rungTable, rungVerdict, runLmToFailure, toFailureVerdict, type LadderResult, type RungResult } from "../lib/experiments/lm-to-failure";
import type { LrPick } from "../lib/experiments/protocol/tuning";
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

describe("lm-to-failure: the re-tuned depth rung", () => {
  const s = LM_TO_FAILURE_SCALES.full;
  const [dyt, norm] = [resolveArm("dyt-lm"), resolveArm("rmsnorm")] as const;
  const lrs = { "dyt-lm": { lr: 1e-2, note: "tuned" }, rmsnorm: { lr: 1e-2, note: "tuned" } };

  test("full: RMSNorm over 3 lrs, DyT over 3 lrs x α₀ {recipe (1 at width 64), 0.25}, at depth 4 on the tuning seed", () => {
    assert.equal(retuneRung(s, "full").id, "d4");
    const jobs = retuneTuneJobs(s, "full", [dyt, norm]);
    assert.equal(jobs.length, 9);
    assert.ok(jobs.every((j) => j.role === "tune" && j.seed === 101 && j.resolved.model.depth === 4 && j.experiment === "lm-to-failure"));
    assert.deepEqual([...new Set(jobs.map((j) => j.resolved.arm))], ["rmsnorm", "dyt-lm", "dyt-lm-a0.25"]);
    assert.deepEqual([...new Set(jobs.filter((j) => j.resolved.model.norm === "dyt").map((j) => `${j.resolved.model.alpha0Attn}/${j.resolved.model.alpha0Ffn}/${j.resolved.model.alpha0Final}`))], ["1/1/1", "0.25/0.25/0.25"]);
    assert.equal(jobs[0]!.run, "tune-rmsnorm-d4-lr3.0e-3-s101");
    assert.equal(new Set(jobs.map((j) => j.run)).size, 9, "run ids are unique");
    assert.equal(retuneDytArms(dyt, [0.25])[1]!.lm?.embedScale, true, "the α₀ arm keeps the recipe's embedding scalar");
    assert.throws(() => retuneRung({ ...s, retune: { ...s.retune!, depth: 2 } }, "full"), /not a rung of the depth ladder above its first/);
    assert.throws(() => retuneRung({ ...s, retune: { ...s.retune!, depth: 6 } }, "full"), /pick one of those/);
  });

  test("a pick equal to the ladder's setting reads the ladder's run; any other pick is its own run at the same depth and budget", () => {
    const same = retunedEvalJob(s, "full", dyt, 2, 1e-2, lrs);
    assert.equal(same.run, "dyt-lm-d4-s2");
    assert.equal(same.run, rungJob("full", retuneRung(s, "full"), dyt, 2, 1e-2, lrs).run);
    const other = retunedEvalJob(s, "full", dyt, 2, 3e-3, lrs);
    assert.equal(other.run, "dyt-lm-d4-lr3.0e-3-s2");
    assert.equal(other.resolved.train.steps, same.resolved.train.steps);
    assert.equal(other.resolved.model.depth, 4);
    const alpha = retunedEvalJob(s, "full", retuneDytArms(dyt, [0.25])[1]!, 1, 1e-2, lrs);
    assert.equal(alpha.run, "dyt-lm-a0.25-d4-lr1.0e-2-s1", "a derived α₀ arm never reads the ladder's run");
  });

  test("DyT's candidate: lowest validation bpb among those that learned, ties to the earlier (the recipe's α₀); none when none learned", () => {
    const pick = (arm: string, bpb: number | null): LrPick => ({ arm, grid: [{ lr: 1e-2, valAcc: null, class: bpb === null ? "diverged" : "learned", valBpb: bpb }], bestLr: 1e-2, atEdge: false, noneLearned: bpb === null });
    assert.equal(chooseDytCandidate([pick("a", 2.7), pick("b", 2.6)])!.arm, "b");
    assert.equal(chooseDytCandidate([pick("a", 2.6), pick("b", 2.6)])!.arm, "a");
    assert.equal(chooseDytCandidate([pick("a", null), pick("b", 2.9)])!.arm, "b");
    assert.equal(chooseDytCandidate([pick("a", null), pick("b", null)]), undefined);
  });

  test("the row's outcome follows the rung's", () => {
    const r = (outcome: RungResult["outcome"]) => ({ outcome, reason: "why" }) as RungResult;
    assert.deepEqual((["holds", "breaks", "inconclusive", "not testable"] as const).map((o) => retunedVerdict(r(o)).verdict), ["supported", "not supported", "inconclusive", "not testable"]);
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
    assert.equal(hold.records.length, 24 + 6 + 6, "4 rungs (the first shared by both ladders) x 3 seeds x 2 arms; the re-tuned rung's 6 tuning runs and 3 seeds x 2 arms");
    const rt = hold.summary.retuned!;
    assert.equal(rt.picks.length, 3);
    assert.deepEqual(rt.picks.map((p) => p.arm), ["rmsnorm", "dyt-lm", "dyt-lm-a0.25"]);
    assert.equal(rt.rung?.outcome, "holds", rt.reason);
    assert.equal(rt.verdict, "supported");
    assert.match(rt.statement, /Depth 2 re-tuned/);
    // The first rung is lm-rmsnorm-dyt's own runs on its seeds (smoke: 1, 2), this experiment's on seed 3.
    assert.deepEqual(hold.records.filter((r) => r.experiment === "lm-rmsnorm-dyt").map((r) => r.run).sort(), ["dyt-lm-s1", "dyt-lm-s2", "rmsnorm-s1", "rmsnorm-s2"]);
    const stop = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, { ...learnAll, lmMatchMarginBpb: -100 });
    assert.deepEqual(stop.summary.ladders.map((l) => [l.brokeAt, l.skipped]), [["x2", ["x4"]], ["d2", []]]);
    assert.equal(stop.summary.verdict, "not supported");
    assert.equal(stop.summary.retuned?.verdict, "not supported", "the re-tuned rung is judged by the same rule");
    const plain = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, learnAll);
    assert.ok(OUTCOMES.includes(plain.summary.verdict));
    assert.equal(gapLadderFigure(plain.summary).data.length, 6, "two traces per ladder and two for the re-tuned rung");
    assert.equal(rungTable(plain.summary).length, 6);
    const grid = retuneTable(plain.summary);
    assert.equal(grid.length, 6, "3 candidates x 2 lrs");
    assert.equal(grid.filter((r) => r.picked === "pick").length, 2, "one pick per norm");
    const [row, retunedRow] = lmToFailureEntry.claims(plain.summary);
    assert.equal(row!.id, "R-to-failure (LM)");
    assert.equal(row!.verdict, plain.summary.verdict);
    assert.equal(retunedRow!.id, "R-to-failure.retuned (LM)");
    assert.equal(retunedRow!.verdict, plain.summary.retuned!.verdict);
  });
});
