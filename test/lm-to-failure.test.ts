/**
 * lm-to-failure (issue 12, experiment 6): the ladders' rungs and jobs (the
 * first rung is lm-rmsnorm-dyt's own runs), the rung rule and R-to-failure
 * on made-up runs (every outcome), and the climb end to end at smoke: a
 * ladder stops at its first break, and a second run loads; the re-tuned
 * depth rung (its jobs, DyT's choice among α₀ candidates, its verdict); the
 * width ladder (amendment 2026-12-05: its rungs and jobs, DyT's α₀ and init
 * std per width from the recipe, its own row, the climb, and "not yet run"
 * when only saved results are loaded); the width ladder re-tuned (second
 * amendment 2026-12-05: its jobs, the reuse of the ladder's runs, its row's
 * outcomes, its smoke run and "not yet run"); the committed full records stay
 * current (nothing cached is re-run) and their cached-only rebuild keeps its
 * outcomes.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveArm } from "../lib/experiments/protocol/arms";
import { RULES } from "../lib/experiments/protocol/rules";
import { staleReason, type Job, type LmProtocolRecord } from "../lib/experiments/protocol/runner";
import type { LmResolvedRun } from "../lib/experiments/protocol/lm-task";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import type { LmArmRuns } from "../lib/experiments/lm-rmsnorm-dyt";
import { chooseDytCandidate, depthRetuneAt, gapLadderFigure, ladderRungs, LM_TO_FAILURE_SCALES, lmToFailureEntry, retunedEvalJob, retunedVerdict, retuneDytArms, retuneRung, retuneTable, retuneTuneJobs, rungJob, rungTable, rungVerdict, runLmToFailure, toFailureVerdict, widthRecipes, widthRecipeTable, widthRetunedVerdict, widthRetuneAts, widthRetuneTable, widthVerdict, type LadderResult, type LmToFailureSummary, type RungResult } from "../lib/experiments/lm-to-failure";
import { lrId, type LrPick } from "../lib/experiments/protocol/tuning";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { paperLlamaAlpha0, widthMatchedInitStd } from "../lib/models/llama";
import { useEngine, useTempResultsDirs } from "./helpers";

const RESULTS = path.resolve(__dirname, "../../results");

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

describe("lm-to-failure: the width ladder (amendment 2026-12-05)", () => {
  const [dyt, norm] = [resolveArm("dyt-lm"), resolveArm("rmsnorm")] as const;
  const lrs = { "dyt-lm": { lr: 1e-2, note: "tuned" }, rmsnorm: { lr: 1e-2, note: "tuned" } };

  test("rungs: full 64, 128, 256, quick 64, 128, smoke 16, 32 (the smoke LM's width and twice it), at lm-rmsnorm-dyt's depth and budget; bad widths are refused", () => {
    const s = LM_TO_FAILURE_SCALES.full;
    assert.deepEqual(ladderRungs(s, "full", "width").map((r) => [r.id, r.budget, r.depth, r.width]), [["base", 1, 2, 64], ["w128", 1, 2, 128], ["w256", 1, 2, 256]]);
    assert.deepEqual(ladderRungs(LM_TO_FAILURE_SCALES.quick, "quick", "width").map((r) => [r.id, r.depth, r.width]), [["base", 2, 64], ["w128", 2, 128]]);
    assert.deepEqual(ladderRungs(LM_TO_FAILURE_SCALES.smoke, "smoke", "width").map((r) => [r.id, r.depth, r.width]), [["base", 1, 16], ["w32", 1, 32]]);
    assert.ok(ladderRungs(s, "full", "depth").every((r) => r.width === 64), "the other ladders stay at width 64");
    assert.throws(() => ladderRungs({ ...s, widths: [128, 256] }, "full", "width"), /must start at lm-rmsnorm-dyt's width 64/);
    assert.throws(() => ladderRungs({ ...s, widths: [64, 256, 128] }, "full", "width"), /widths must be positive and ascending/);
    assert.throws(() => ladderRungs({ ...s, widths: [64, 100] }, "full", "width"), /width 100 does not split into 4 heads of an even head dim/);
  });

  test("the first rung reuses lm-rmsnorm-dyt's runs; a width rung is this experiment's run at that width, depth, heads, budget and lr unchanged", () => {
    const s = LM_TO_FAILURE_SCALES.full;
    const [w0, w128, w256] = ladderRungs(s, "full", "width");
    const base = rungJob("full", w0!, dyt, 1, 1e-2, lrs);
    assert.equal(base.experiment, "lm-rmsnorm-dyt");
    assert.equal(base.run, "dyt-lm-s1");
    assert.deepEqual(base.resolved, rungJob("full", ladderRungs(s, "full", "steps")[0]!, dyt, 1, 1e-2, lrs).resolved, "the same run as the other ladders' first rung");
    for (const [r, w] of [[w128!, 128], [w256!, 256]] as const) {
      for (const a of [dyt, norm]) {
        const j = rungJob("full", r, a, 2, 1e-2, lrs);
        assert.equal(j.experiment, "lm-to-failure");
        assert.equal(j.run, `${a.id}-w${w}-s2`);
        assert.equal(j.resolved.model.dim, w, "the width is in the resolved model config");
        assert.equal(j.resolved.model.depth, 2);
        assert.equal(j.resolved.model.heads, 4, "heads unchanged");
        assert.equal(j.resolved.train.steps, base.resolved.train.steps, "budget unchanged");
        assert.equal(j.resolved.train.lr, 1e-2);
        assert.equal(j.resolved.model.initStd, widthMatchedInitStd(w), "the init std the recipe resolves for the width");
        assert.equal(j.axes.width, w);
        assert.equal(j.axes.ladder, "width");
      }
    }
    assert.notEqual(rungJob("full", w128!, dyt, 1, 1e-2, lrs).resolved.model.initStd, base.resolved.model.initStd, "the init std follows the width");
    assert.equal(rungJob("full", w256!, dyt, 1, 1e-2, lrs).resolved.model.ffnHidden, 688, "SwiGLU width 8d/3 at width 256");
    assert.equal(rungJob("full", w256!, norm, 1, 1e-2, lrs).resolved.model.alpha0Attn, undefined, "RMSNorm has no α₀");
  });

  test("DyT's α₀ per width is the recipe's (1/1/1 at 64, 128, 256; the paper's smaller values on widths past 1024), init std 1.28/√width", () => {
    const s = LM_TO_FAILURE_SCALES.full;
    const rec = widthRecipes(s, "full", dyt);
    assert.deepEqual(rec.map((r) => [r.rung, r.width, r.heads, r.alpha0]), [["base", 64, 4, [1, 1, 1]], ["w128", 128, 4, [1, 1, 1]], ["w256", 256, 4, [1, 1, 1]]]);
    assert.deepEqual(rec.map((r) => Number(r.initStd.toFixed(4))), [0.16, 0.1131, 0.08]);
    const [, w256] = ladderRungs(s, "full", "width").slice(1);
    const j = rungJob("full", w256!, dyt, 1, 1e-2, lrs).resolved.model;
    assert.deepEqual([j.alpha0Attn, j.alpha0Ffn, j.alpha0Final], Object.values(paperLlamaAlpha0(256)));
    assert.equal(j.embedScale, true, "the recipe's embedding scalar");
    // Wide enough that the paper's table gives other values: the ladder's α₀ comes from the recipe, not a constant.
    const wide = widthRecipes({ ...s, widths: [64, 2048, 4096] }, "full", dyt);
    assert.deepEqual(wide.map((r) => r.alpha0), [[1, 1, 1], [1, 0.5, 0.5], [0.8, 0.2, 0.2]]);
    assert.deepEqual(widthRecipes(s, "full", norm).map((r) => r.alpha0), [undefined, undefined, undefined]);
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

describe("lm-to-failure: the width ladder re-tuned (amendment 2026-12-05, after the width ladder)", () => {
  const s = LM_TO_FAILURE_SCALES.full;
  const [dyt, norm] = [resolveArm("dyt-lm"), resolveArm("rmsnorm")] as const;
  const lrs = { "dyt-lm": { lr: 1e-2, note: "tuned" }, rmsnorm: { lr: 1e-2, note: "tuned" } };

  test("rungs: every width rung above the first (full w128, w256; quick w128; smoke w32), lrs 3e-3, 1e-2, 3e-2 at full, seed 101, no α₀ candidates", () => {
    assert.deepEqual(widthRetuneAts(s, "full").map((at) => [at.rung.id, at.rung.width, at.lrs, at.alpha0s, at.seed]), [["w128", 128, [3e-3, 1e-2, 3e-2], [], 101], ["w256", 256, [3e-3, 1e-2, 3e-2], [], 101]]);
    assert.deepEqual(widthRetuneAts(LM_TO_FAILURE_SCALES.quick, "quick").map((at) => at.rung.id), ["w128"]);
    assert.deepEqual(widthRetuneAts(LM_TO_FAILURE_SCALES.smoke, "smoke").map((at) => at.rung.id), ["w32"]);
    assert.throws(() => widthRetuneAts({ ...s, widthRetune: undefined }, "full"), /no re-tuned width rungs/);
    assert.deepEqual(retuneDytArms(dyt, []), [dyt], "DyT's only candidate is the recipe itself");
  });

  test("tuning: RMSNorm and DyT (the recipe's α₀ for the width) over 3 lrs per width on seed 101, 12 runs at full, ids that no width-ladder run has", () => {
    const jobs = widthRetuneAts(s, "full").flatMap((at) => retuneTuneJobs(s, "full", [dyt, norm], at));
    assert.equal(jobs.length, 12);
    assert.deepEqual(jobs.map((j) => j.run), ["128", "256"].flatMap((w) => ["rmsnorm", "dyt-lm"].flatMap((a) => ["3.0e-3", "1.0e-2", "3.0e-2"].map((lr) => `tune-${a}-w${w}-lr${lr}-s101`))));
    assert.ok(jobs.every((j) => j.role === "tune" && j.seed === 101 && j.experiment === "lm-to-failure" && j.resolved.model.depth === 2 && j.resolved.model.heads === 4));
    const ladder = ladderRungs(s, "full", "width").slice(1);
    for (const j of jobs) {
      const r = ladder.find((x) => x.width === j.resolved.model.dim)!;
      const own = rungJob("full", r, j.resolved.arm === "dyt-lm" ? dyt : norm, 1, 1e-2, lrs);
      assert.equal(j.resolved.train.steps, own.resolved.train.steps, "the ladder's budget");
      assert.equal(j.resolved.model.initStd, own.resolved.model.initStd, "the recipe's init std for the width");
      assert.equal(j.resolved.model.alpha0Attn, own.resolved.model.alpha0Attn, "DyT at the recipe's α₀ for the width (1 at 128 and 256)");
      assert.equal(j.axes.width, r.width);
    }
    const ladderIds = ladder.flatMap((r) => s.seeds.flatMap((seed) => [dyt, norm].map((a) => rungJob("full", r, a, seed, 1e-2, lrs).run)));
    assert.ok(jobs.every((j) => !ladderIds.includes(j.run)));
    // The re-tuned depth rung's jobs are what they were (the default rung).
    assert.deepEqual(retuneTuneJobs(s, "full", [dyt, norm]).map((j) => j.run), retuneTuneJobs(s, "full", [dyt, norm], depthRetuneAt(s, "full")).map((j) => j.run));
  });

  test("evaluation: a pick of the ladder's lr (1e-2) reads the width ladder's run; any other pick is its own run at the width, ids distinct from the ladder's", () => {
    for (const at of widthRetuneAts(s, "full")) {
      for (const a of [dyt, norm]) {
        const same = retunedEvalJob(s, "full", a, 2, 1e-2, lrs, at.rung);
        assert.equal(same.run, `${a.id}-${at.rung.id}-s2`);
        assert.deepEqual(same, rungJob("full", at.rung, a, 2, 1e-2, lrs), "the width ladder's own job");
        for (const [lr, id] of [[3e-3, "3.0e-3"], [3e-2, "3.0e-2"]] as const) {
          const other = retunedEvalJob(s, "full", a, 2, lr, lrs, at.rung);
          assert.equal(other.run, `${a.id}-${at.rung.id}-lr${id}-s2`);
          assert.equal(other.role, "eval");
          assert.equal(other.resolved.train.lr, lr);
          assert.equal(other.resolved.model.dim, at.rung.width);
          assert.equal(other.resolved.train.steps, same.resolved.train.steps);
          assert.notEqual(other.run, same.run);
        }
      }
    }
    assert.equal(retunedEvalJob(s, "full", dyt, 1, 1e-2, lrs).run, "dyt-lm-d4-s1", "without a rung: the re-tuned depth rung, as before");
  });

  test("DyT's candidate is its own pick (one candidate): it when it learned, none when no lr did", () => {
    const pick = (bpbs: (number | null)[]): LrPick => {
      const grid = bpbs.map((b, i) => ({ lr: [3e-3, 1e-2, 3e-2][i]!, valAcc: null, class: b === null ? ("diverged" as const) : ("learned" as const), valBpb: b }));
      const learned = grid.filter((g) => g.valBpb !== null);
      const best = learned.reduce((x, g) => (g.valBpb! < x.valBpb! ? g : x), learned[0] ?? grid[0]!);
      return { arm: "dyt-lm", grid, bestLr: best.lr, atEdge: best.lr !== 1e-2, noneLearned: learned.length === 0 };
    };
    assert.equal(chooseDytCandidate([pick([2.6, 2.5, 2.7])])?.bestLr, 1e-2);
    assert.equal(chooseDytCandidate([pick([null, null, 2.9])])?.bestLr, 3e-2);
    assert.equal(chooseDytCandidate([pick([null, null, null])]), undefined);
  });

  test("R-to-failure, width re-tuned (LM): supported when every rung holds, not supported at a break (named), inconclusive or not testable otherwise, not testable while not yet run", () => {
    const first = { outcome: "holds", reason: "both learned" } as RungResult;
    const r = (id: string, verdict: "supported" | "not supported" | "inconclusive" | "not testable") => ({ id, verdict, reason: `${verdict} here` });
    const v = (rungs: ReturnType<typeof r>[], notRun: string[] = [], f: RungResult = first) => widthRetunedVerdict({ first: f, rungs, notRun }, "full");
    const all = v([r("w128", "supported"), r("w256", "supported")]);
    assert.deepEqual(all, { outcome: "supported", reason: "every re-tuned width rung held (w128, w256)" });
    const broke = v([r("w128", "supported"), r("w256", "not supported")]);
    assert.equal(broke.outcome, "not supported");
    assert.match(broke.reason, /^w256 re-tuned broke \(not supported here\)$/);
    assert.equal(v([r("w128", "not supported")], ["w256"]).outcome, "not supported", "a break stands whatever is not yet run");
    const open = v([r("w128", "inconclusive"), r("w256", "supported")]);
    assert.equal(open.outcome, "inconclusive");
    assert.match(open.reason, /^w128 re-tuned: inconclusive \(inconclusive here\)$/);
    assert.equal(v([r("w128", "not testable"), r("w256", "supported")]).outcome, "inconclusive", "a rung where RMSNorm failed leaves the row open");
    assert.equal(v([r("w128", "not testable"), r("w256", "not testable")]).outcome, "not testable");
    const pending = v([r("w128", "supported")], ["w256"]);
    assert.equal(pending.outcome, "not testable");
    assert.match(pending.reason, /not yet run: no saved full runs for re-tuned width rung\(s\) w256 \(run `npm run exp -- lm-to-failure --scale full`\)/);
    assert.match(v([r("w128", "supported")], [], { outcome: "not testable", reason: "RMSNorm failed" } as RungResult).reason, /^the first rung: RMSNorm failed$/);
    assert.equal(widthRetunedVerdict(undefined, "full").outcome, "not testable");
    assert.match(widthRetunedVerdict(undefined, "full").reason, /have not been run/);
    // Each rung's outcome follows its rung rule, as the re-tuned depth rung's.
    assert.deepEqual((["holds", "breaks", "inconclusive", "not testable"] as const).map((o) => retunedVerdict({ outcome: o, reason: "" } as RungResult).verdict), ["supported", "not supported", "inconclusive", "not testable"]);
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
      ({ rung: { ladder: "steps", index: id === "base" ? 0 : 1, budget: 1, depth: 2, width: 64, id }, steps: 1, arms: [base.d, base.n], seeds: [], gap: [], widening: [], outcome, reason: outcome }) as RungResult;
    const ladder = (l: LadderResult["ladder"], ...rs: RungResult[]): LadderResult => {
      const broke = rs.find((r) => r.outcome === "breaks");
      return { ladder: l, rungs: rs, ...(broke ? { brokeAt: broke.rung.id } : {}), skipped: [] };
    };
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "holds")), ladder("depth", rung("base", "holds"), rung("d4", "holds"))]).outcome, "supported");
    const broke = toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "holds")), ladder("depth", rung("base", "holds"), rung("d4", "breaks"))]);
    assert.equal(broke.outcome, "not supported");
    assert.match(broke.reason, /depth ladder broke at d4/);
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "inconclusive")), ladder("depth", rung("base", "holds"))]).outcome, "inconclusive");
    assert.equal(toFailureVerdict([ladder("steps", rung("base", "not testable"))]).outcome, "not testable");
    // The width ladder never enters R-to-failure (LM): it has its own row.
    const withWidth = toFailureVerdict([ladder("steps", rung("base", "holds"), rung("x2", "holds")), ladder("depth", rung("base", "holds"), rung("d4", "holds")), ladder("width", rung("base", "holds"), rung("w128", "breaks"))]);
    assert.equal(withWidth.outcome, "supported", withWidth.reason);
    assert.doesNotMatch(withWidth.reason, /w128/);
  });

  test("R-to-failure, width (LM): supported when every width rung holds, not supported at a break (named), inconclusive otherwise, not testable at the first rung or while rungs are not yet run", () => {
    const rung = (id: string, outcome: RungResult["outcome"]): RungResult =>
      ({ rung: { ladder: "width", index: id === "base" ? 0 : 1, budget: 1, depth: 2, width: 64, id }, steps: 1, arms: [base.d, base.n], seeds: [], gap: [], widening: [], outcome, reason: `${outcome} here` }) as RungResult;
    const width = (rs: RungResult[], notRun: string[] = []): LadderResult => {
      const broke = rs.find((r) => r.outcome === "breaks");
      return { ladder: "width", rungs: rs, ...(broke ? { brokeAt: broke.rung.id } : {}), skipped: [], ...(notRun.length ? { notRun } : {}) };
    };
    const v = (rs: RungResult[], notRun: string[] = []) => widthVerdict(width(rs, notRun), "full");
    assert.equal(v([rung("base", "holds"), rung("w128", "holds"), rung("w256", "holds")]).outcome, "supported");
    const broke = v([rung("base", "holds"), rung("w128", "holds"), rung("w256", "breaks")]);
    assert.equal(broke.outcome, "not supported");
    assert.match(broke.reason, /width ladder broke at w256 \(breaks here\)/);
    assert.equal(v([rung("base", "holds"), rung("w128", "inconclusive"), rung("w256", "holds")]).outcome, "inconclusive");
    assert.equal(v([rung("base", "holds"), rung("w128", "not testable")]).outcome, "inconclusive", "a rung above the first where RMSNorm failed leaves the row open, as in R-to-failure (LM)");
    const first = v([rung("base", "not testable"), rung("w128", "holds")]);
    assert.equal(first.outcome, "not testable");
    assert.match(first.reason, /the first rung/);
    const pending = v([rung("base", "holds"), rung("w128", "holds")], ["w256"]);
    assert.equal(pending.outcome, "not testable", "not yet run: no verdict yet");
    assert.match(pending.reason, /not yet run: no saved full runs for width rung\(s\) w256 \(run `npm run exp -- lm-to-failure --scale full`\)/);
    assert.equal(v([rung("base", "holds"), rung("w128", "breaks")], []).outcome, "not supported", "a break stands whatever lies above it");
    assert.match(widthVerdict(undefined, "full").reason, /has not been run/);
    assert.equal(widthVerdict(undefined, "full").outcome, "not testable");
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
    assert.deepEqual(hold.summary.ladders.map((l) => l.ladder), ["steps", "depth", "width"]);
    assert.deepEqual(hold.summary.ladders.map((l) => l.rungs.map((r) => r.outcome)), [["holds", "holds", "holds"], ["holds", "holds"], ["holds", "holds"]]);
    assert.equal(hold.summary.verdict, "supported");
    assert.equal(hold.records.length, 30 + 6 + 6 + 4 + 6, "5 rungs (the first shared by every ladder) x 3 seeds x 2 arms; the re-tuned depth rung's 6 tuning runs and 3 seeds x 2 arms; the re-tuned width rung's 4 tuning runs and 3 seeds x 2 arms");
    // The width rung: this experiment's runs at width 32, DyT at the recipe's α₀ and init std for width 32.
    // The ladder's own (the re-tuned width rung's runs read them again where its pick is the ladder's lr).
    const w32 = hold.records.filter((r) => /^(dyt-lm|rmsnorm)-w32-s\d+$/.test(r.run));
    assert.deepEqual([...new Set(w32.map((r) => r.run))].sort(), ["dyt-lm-w32-s1", "dyt-lm-w32-s2", "dyt-lm-w32-s3", "rmsnorm-w32-s1", "rmsnorm-w32-s2", "rmsnorm-w32-s3"]);
    assert.ok(w32.every((r) => r.experiment === "lm-to-failure" && r.config.model.dim === 32 && r.config.model.heads === 2 && r.config.model.initStd === widthMatchedInitStd(32)));
    assert.ok(w32.filter((r) => r.arm === "dyt-lm").every((r) => r.config.model.alpha0Attn === paperLlamaAlpha0(32).alpha0Attn && r.config.model.alpha0Ffn === paperLlamaAlpha0(32).alpha0Ffn));
    const hw = hold.summary.width!;
    assert.equal(hw.verdict, "supported", hw.reason);
    assert.deepEqual(hw.notRun, []);
    assert.match(hw.statement, /Width ladder \(amendment 2026-12-05; widths 16, 32 .*w32 \(16 steps, depth 1, width 32\).*R-to-failure, width \(LM\): supported/);
    assert.doesNotMatch(hold.summary.statement, /Width ladder|w32/, "the R-to-failure (LM) statement covers the steps and depth ladders only");
    const rt = hold.summary.retuned!;
    assert.equal(rt.picks.length, 3);
    assert.deepEqual(rt.picks.map((p) => p.arm), ["rmsnorm", "dyt-lm", "dyt-lm-a0.25"]);
    assert.equal(rt.rung?.outcome, "holds", rt.reason);
    assert.equal(rt.verdict, "supported");
    assert.match(rt.statement, /Depth 2 re-tuned/);
    // The re-tuned width rung (w32): both norms tuned again over 2 lrs, DyT at the recipe's α₀ only; a pick of the
    // ladder's lr reads the width ladder's runs, any other is this amendment's own run.
    const wr = hold.summary.widthRetuned!;
    assert.deepEqual([wr.widths, wr.notRun, wr.rungs.length], [[32], [], 1]);
    const w = wr.rungs[0]!;
    assert.deepEqual([w.width, w.picks.map((p) => p.arm)], [32, ["rmsnorm", "dyt-lm"]]);
    assert.deepEqual(hold.records.filter((r) => r.run.startsWith("tune-") && r.run.includes("-w32-")).map((r) => r.run).sort(), ["tune-dyt-lm-w32-lr1.0e-2-s101", "tune-dyt-lm-w32-lr3.0e-3-s101", "tune-rmsnorm-w32-lr1.0e-2-s101", "tune-rmsnorm-w32-lr3.0e-3-s101"]);
    const ladderLr = (arm: string) => hold.summary.ladders[0]!.rungs[0]!.arms.find((a) => a.arm === arm)!.lr;
    for (const [arm, pick] of [["dyt-lm", w.dyt!], ["rmsnorm", w.norm!]] as const) {
      const evalIds = w.rung!.arms.find((a) => a.arm === arm)!;
      assert.deepEqual(evalIds.seeds, [1, 2, 3]);
      const own = pick.lr === ladderLr(arm) ? `${arm}-w32-s1` : `${arm}-w32-lr${lrId(pick.lr)}-s1`;
      assert.ok(hold.records.some((r) => r.run === own && r.role === "eval"), `${arm}'s pick ${pick.lr} runs as ${own}`);
    }
    assert.equal(w.rung?.outcome, "holds", w.reason);
    assert.equal(wr.verdict, "supported", wr.reason);
    assert.match(wr.statement, /^Width ladder re-tuned \(amendment 2026-12-05.*Width 32 re-tuned \(seed 101; lrs 0.003, 0.01; DyT α₀ 1\).*w32-retuned \(16 steps, depth 1, width 32\).*R-to-failure, width re-tuned \(LM\): supported/);
    // The first rung is lm-rmsnorm-dyt's own runs on its seeds (smoke: 1, 2), this experiment's on seed 3.
    assert.deepEqual(hold.records.filter((r) => r.experiment === "lm-rmsnorm-dyt").map((r) => r.run).sort(), ["dyt-lm-s1", "dyt-lm-s2", "rmsnorm-s1", "rmsnorm-s2"]);
    const stop = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, { ...learnAll, lmMatchMarginBpb: -100 });
    assert.deepEqual(stop.summary.ladders.map((l) => [l.brokeAt, l.skipped]), [["x2", ["x4"]], ["d2", []], ["w32", []]]);
    assert.equal(stop.summary.verdict, "not supported");
    assert.equal(stop.summary.width?.verdict, "not supported");
    assert.match(stop.summary.width!.reason, /the width ladder broke at w32/);
    assert.doesNotMatch(stop.summary.reason, /width/, "R-to-failure (LM) names the steps and depth breaks only");
    assert.equal(stop.summary.retuned?.verdict, "not supported", "the re-tuned rung is judged by the same rule");
    assert.equal(stop.summary.widthRetuned?.verdict, "not supported", "the re-tuned width rung too, though the width ladder broke below it (no climb-stop)");
    assert.match(stop.summary.widthRetuned!.reason, /^w32 re-tuned broke/);
    const plain = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4] }, learnAll);
    assert.ok(OUTCOMES.includes(plain.summary.verdict));
    assert.equal(gapLadderFigure(plain.summary).data.length, 10, "two traces per ladder (steps, depth, width) and two per re-tuned rung (depth 2, width 32)");
    assert.ok(gapLadderFigure(plain.summary).data.some((t) => (t.x ?? []).includes("w32 (width 32)")), "the width panel");
    assert.ok(gapLadderFigure(plain.summary).data.some((t) => (t.x ?? []).includes("w32-retuned (width 32, re-tuned)") && t.xaxis === "x3"), "the re-tuned width rung in the width panel");
    const table = rungTable(plain.summary);
    assert.equal(table.length, 9, "3 steps + 2 depth + 2 width rungs and the re-tuned depth and width rungs");
    assert.deepEqual(table.filter((r) => r.ladder === "width, re-tuned").map((r) => [r.rung, r.width]), [["w32-retuned", 32]]);
    const wgrid = widthRetuneTable(plain.summary);
    assert.deepEqual(wgrid.map((r) => [r.width, r.arm]), [32, 32, 32, 32].map((x, i) => [x, i < 2 ? "rmsnorm" : "dyt-lm"]), "2 norms x 2 lrs at width 32");
    assert.equal(wgrid.filter((r) => r.picked === "pick").length, 2, "one pick per norm");
    assert.deepEqual(table.filter((r) => r.ladder === "width").map((r) => [r.rung, r.width]), [["base", 16], ["w32", 32]]);
    const grid = retuneTable(plain.summary);
    assert.equal(grid.length, 6, "3 candidates x 2 lrs");
    assert.equal(grid.filter((r) => r.picked === "pick").length, 2, "one pick per norm");
    const [row, retunedRow, widthRow, widthRetunedRow] = lmToFailureEntry.claims(plain.summary);
    assert.equal(row!.id, "R-to-failure (LM)");
    assert.equal(row!.verdict, plain.summary.verdict);
    assert.equal(retunedRow!.id, "R-to-failure.retuned (LM)");
    assert.equal(retunedRow!.verdict, plain.summary.retuned!.verdict);
    assert.equal(widthRow!.id, "R-to-failure, width (LM)");
    assert.equal(widthRow!.verdict, plain.summary.width!.verdict);
    assert.equal(widthRetunedRow!.id, "R-to-failure, width re-tuned (LM)");
    assert.equal(widthRetunedRow!.verdict, plain.summary.widthRetuned!.verdict);
    assert.doesNotMatch(row!.ours, /Width ladder/);

    // Loading saved results only, with a width rung never run: that rung is "not yet run" and the width row
    // not testable, while every other rung and row is what it was.
    const pending = await runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4], widths: [16, 32, 64] }, { ...learnAll, lmMatchMarginBpb: 100 });
    const pw = pending.summary.ladders.find((l) => l.ladder === "width")!;
    assert.deepEqual([pw.rungs.map((r) => r.rung.id), pw.notRun, pw.skipped], [["base", "w32"], ["w64"], []]);
    assert.equal(pending.summary.width!.verdict, "not testable");
    assert.match(pending.summary.width!.reason, /not yet run: no saved smoke runs for width rung\(s\) w64/);
    assert.equal(pending.summary.verdict, hold.summary.verdict);
    assert.equal(pending.summary.statement, hold.summary.statement, "R-to-failure (LM) is untouched by the width ladder");
    assert.deepEqual(pending.summary.ladders.slice(0, 2), hold.summary.ladders.slice(0, 2));
    assert.deepEqual(rungTable(pending.summary).filter((r) => r.outcome === "not yet run").map((r) => [r.ladder, r.rung, r.width]), [["width", "w64", 64], ["width, re-tuned", "w64", 64]]);
    const pwr = pending.summary.widthRetuned!;
    assert.deepEqual([pwr.widths, pwr.rungs.map((r) => r.width), pwr.notRun], [[32, 64], [32], ["w64"]]);
    assert.equal(pwr.verdict, "not testable");
    assert.match(pwr.reason, /not yet run: no saved smoke runs for re-tuned width rung\(s\) w64/);
    assert.match(pwr.statement, /Not yet run: w64\./);
    assert.deepEqual(pending.summary.retuned, hold.summary.retuned, "the re-tuned depth rung is untouched");
    assert.deepEqual(widthRecipeTable(pending.summary).map((r) => [r.rung, r.outcome]), [["base", "holds"], ["w32", "holds"], ["w64", "not yet run"]]);
    const pendingRow = lmToFailureEntry.claims(pending.summary).find((r) => r.id === "R-to-failure, width (LM)")!;
    assert.equal(pendingRow.verdict, "not testable");
    assert.match(pendingRow.reason!, /not yet run/);
    // A missing run on the other ladders still fails as before (no silent partial verdict for R-to-failure (LM)).
    await assert.rejects(runLmToFailure({ ...ctx, cachedOnly: true }, { steps: [1, 2, 4, 8] }, { ...learnAll, lmMatchMarginBpb: 100 }), /no saved smoke result for run dyt-lm-x8-s1/);
  });
});

describe("lm-to-failure: the committed full results and the width amendment", () => {
  const committed = path.join(RESULTS, "lm-to-failure", "full");
  const has = fs.existsSync(path.join(committed, "summary.json")) && fs.existsSync(path.join(RESULTS, "lm-rmsnorm-dyt", "full"));
  // The width ladder's own runs, not the re-tuned width rungs' ("tune-…-w128-…", "…-w128-lr…").
  const WIDTH_LADDER_RUN = /^(dyt-lm|rmsnorm)-w(128|256)-s\d+\.json$/;
  // Every run of the width amendments: the ladder's and the re-tuned rungs'.
  const WIDTH_RUN = /-w(128|256)-/;

  test("every committed full record is still a current record of a job (the amendment re-runs nothing cached)", { skip: !has && "no committed full results" }, () => {
    const s = LM_TO_FAILURE_SCALES.full;
    const [dyt, norm] = [resolveArm("dyt-lm"), resolveArm("rmsnorm")] as const;
    const lrs = { "dyt-lm": { lr: 1e-2, note: "tuned" }, rmsnorm: { lr: 1e-2, note: "tuned" } };
    const a025 = retuneDytArms(dyt, s.retune!.alpha0s)[1]!;
    const jobs: Job<LmResolvedRun>[] = [
      ...(["steps", "depth", "width"] as const).flatMap((l) => ladderRungs(s, "full", l).flatMap((r) => s.seeds.flatMap((seed) => [dyt, norm].map((a) => rungJob("full", r, a, seed, 1e-2, lrs))))),
      ...retuneTuneJobs(s, "full", [dyt, norm]),
      ...s.seeds.map((seed) => retunedEvalJob(s, "full", a025, seed, 3e-2, lrs)),
      // The re-tuned width rungs (amendment 2026-12-05, after the width ladder): whichever lr each norm picks.
      ...widthRetuneAts(s, "full").flatMap((at) => [...retuneTuneJobs(s, "full", [dyt, norm], at), ...s.seeds.flatMap((seed) => [dyt, norm].flatMap((a) => at.lrs.map((lr) => retunedEvalJob(s, "full", a, seed, lr, lrs, at.rung))))]),
    ];
    const files = fs.readdirSync(committed).filter((f) => f.endsWith(".json") && f !== "summary.json");
    assert.ok(files.length >= 24, `${files.length} committed records`);
    for (const f of files) {
      const rec = JSON.parse(fs.readFileSync(path.join(committed, f), "utf8")) as LmProtocolRecord;
      const job = jobs.find((j) => j.experiment === "lm-to-failure" && j.run === rec.run);
      assert.ok(job, `${f}: no job of the experiment has run id ${rec.run}`);
      assert.equal(staleReason(rec, job), undefined, `${f} would be re-run`);
    }
    // The shared first rung: lm-rmsnorm-dyt's own records.
    for (const j of jobs.filter((x) => x.experiment === "lm-rmsnorm-dyt")) {
      const rec = JSON.parse(fs.readFileSync(path.join(RESULTS, "lm-rmsnorm-dyt", "full", `${j.run}.json`), "utf8")) as LmProtocolRecord;
      assert.equal(staleReason(rec, j), undefined, `lm-rmsnorm-dyt ${j.run} would be re-run`);
    }
    assert.equal(files.filter((f) => WIDTH_LADDER_RUN.test(f)).length, 12, "the width ladder's 12 runs (2 rungs x 3 seeds x 2 arms), each a current record of its job");
  });

  test("cached only at full: without the width runs the earlier rows keep their outcomes and statements and the width row is not yet run; with them, the committed width row", { skip: !has && "no committed full results" }, async () => {
    await useEngine("native");
    const old = JSON.parse(fs.readFileSync(path.join(committed, "summary.json"), "utf8")) as LmToFailureSummary;
    // Summarising saves the summary and figures: work on copies so the committed ones are never rewritten.
    const saved = process.env.DYT_RESULTS_DIR;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-lm-to-failure-full-"));
    // Without any width run (as before they were made), to check the amendments left every earlier row alone.
    const widthRun = (src: string) => WIDTH_RUN.test(path.basename(src));
    for (const e of ["lm-to-failure", "lm-rmsnorm-dyt"]) fs.cpSync(path.join(RESULTS, e, "full"), path.join(tmp, e, "full"), { recursive: true, filter: (src) => path.basename(src) !== "figures" && !widthRun(src) });
    process.env.DYT_RESULTS_DIR = tmp;
    try {
      const { summary } = await runLmToFailure({ scale: "full", cachedOnly: true, verbose: false });
      assert.equal(summary.verdict, old.verdict);
      assert.equal(summary.reason, old.reason);
      assert.equal(summary.statement, old.statement);
      assert.equal(summary.setup, old.setup);
      const twoLadders = (x: LmToFailureSummary) => x.ladders.slice(0, 2).map((l) => [l.ladder, l.rungs.map((r) => r.outcome), l.brokeAt, l.skipped]);
      assert.deepEqual(twoLadders(summary), twoLadders(old));
      assert.equal(summary.retuned?.verdict, old.retuned?.verdict);
      assert.equal(summary.retuned?.statement, old.retuned?.statement);
      const w = summary.ladders[2]!;
      assert.deepEqual([w.ladder, w.rungs.map((r) => r.rung.id), w.notRun], ["width", ["base"], ["w128", "w256"]]);
      assert.equal(summary.width!.verdict, "not testable");
      assert.match(summary.width!.reason, /not yet run: no saved full runs for width rung\(s\) w128, w256/);
      const rows = lmToFailureEntry.claims(summary);
      assert.deepEqual(rows.map((r) => `${r.id}: ${r.verdict}`), [`R-to-failure (LM): ${old.verdict}`, `R-to-failure.retuned (LM): ${old.retuned!.verdict}`, "R-to-failure, width (LM): not testable", "R-to-failure, width re-tuned (LM): not testable"]);
      assert.ok(fs.readdirSync(path.join(tmp, "lm-to-failure", "full")).every((f) => !WIDTH_RUN.test(f)), "nothing was trained");
      // With the committed width-ladder runs: the committed width row, word for word.
      for (const f of fs.readdirSync(committed).filter((x) => WIDTH_LADDER_RUN.test(x))) fs.copyFileSync(path.join(committed, f), path.join(tmp, "lm-to-failure", "full", f));
      const full = (await runLmToFailure({ scale: "full", cachedOnly: true, verbose: false })).summary;
      assert.deepEqual([full.width!.verdict, full.width!.reason, full.width!.statement], [old.width!.verdict, old.width!.reason, old.width!.statement]);
      assert.equal(full.statement, old.statement);
      assert.deepEqual([full.retuned?.verdict, full.retuned?.statement], [old.retuned?.verdict, old.retuned?.statement]);
      // Without the re-tuned width rungs' runs, their row says "not yet run" (nothing is trained); with the committed
      // ones, the committed row word for word.
      assert.deepEqual([full.widthRetuned!.notRun, full.widthRetuned!.verdict], [["w128", "w256"], "not testable"]);
      assert.match(full.widthRetuned!.reason, /not yet run: no saved full runs for re-tuned width rung\(s\) w128, w256/);
      const retunedRuns = fs.readdirSync(committed).filter((f) => WIDTH_RUN.test(f) && !WIDTH_LADDER_RUN.test(f));
      if (retunedRuns.length && old.widthRetuned) {
        for (const f of retunedRuns) fs.copyFileSync(path.join(committed, f), path.join(tmp, "lm-to-failure", "full", f));
        const all = (await runLmToFailure({ scale: "full", cachedOnly: true, verbose: false })).summary;
        assert.deepEqual([all.widthRetuned!.verdict, all.widthRetuned!.statement], [old.widthRetuned.verdict, old.widthRetuned.statement]);
      }
    } finally {
      if (saved !== undefined) process.env.DYT_RESULTS_DIR = saved;
      else delete process.env.DYT_RESULTS_DIR;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
