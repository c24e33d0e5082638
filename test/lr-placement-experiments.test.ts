import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { classifyRun } from "../lib/experiments/protocol/classify";
import { scaledRules } from "../lib/experiments/protocol/rules";
import { LR_STABILITY_SCALES, lrStabilityEntry, lrStabilityFigures, lrStabilityTable, runLrStability, summarizeLrStability, type LrStabilityScale } from "../lib/experiments/lr-stability";
import { PLACEMENT_SCALES, placementComparisonTable, placementEntry, placementFigure, placementTable, runPlacement, summarizePlacement, type PlacementScale } from "../lib/experiments/placement";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeRecord } from "./protocol-records";

const L: LrStabilityScale = { ...LR_STABILITY_SCALES.smoke, baseLr: 1e-4, exponents: [0, 1, 2, 3, 4, 5], seeds: [1, 2] };
const LRS = [1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3, 3.2e-3];
/** A run at chance whose tail loss sits just under ln 10 (2.3019): the old divergence rule called it stable. */
const stuck = (arm: string, lr: number, seed: number) => fakeRecord({ arm, lr, seed, acc: 0.1, losses: Array(40).fill(2.3019) });
/**
 * One arm's sweep: test accuracy (%) per grid lr and seed; "div" diverged, "chance" stuck at chance.
 */
function sweep(arm: string, perLr: (number | "div" | "chance")[][]) {
  return perLr.flatMap((seeds, i) =>
    seeds.map((v, s) => (v === "div" ? fakeRecord({ arm, lr: LRS[i]!, seed: s + 1, divergeAt: 5 }) : v === "chance" ? stuck(arm, LRS[i]!, s + 1) : fakeRecord({ arm, lr: LRS[i]!, seed: s + 1, acc: v / 100 }))),
  );
}
const both = (x: number | "div" | "chance") => [x, x];
/** Learns at the first 4 lrs (peak 80 % at the 2nd and 3rd), diverges above. */
const LN = sweep("layernorm", [both(70), both(80), both(80), both(70), both("div"), both("div")]);

const P: PlacementScale = { ...PLACEMENT_SCALES.smoke, placements: ["pre", "post"], depths: [2, 6], seeds: [1, 2, 3] };
/** Placement records: test accuracy (%) per seed for each (norm, placement, depth); null = diverged. */
function cellRecs(accs: Record<string, (number | null)[]>) {
  return Object.entries(accs).flatMap(([key, per]) => {
    const [norm, placement, d] = key.split("|");
    return per.map((a, i) => fakeRecord({ arm: `${norm}-${placement}`, seed: i + 1, depth: Number(d), ...(a === null ? { divergeAt: 4 } : { acc: a / 100 }) }));
  });
}
const grid = (ln: (n: number) => (number | null)[], dy: (n: number) => (number | null)[]) =>
  Object.fromEntries(["pre", "post"].flatMap((p) => [2, 6].flatMap((d) => [[`layernorm|${p}|${d}`, ln(d)], [`dyt|${p}|${d}`, dy(d)]])));
const near = (m: number) => [m, m + 0.2, m - 0.1];

describe("lr-stability: one run classification and a written rule", () => {
  it("a run at chance is 'did not learn', never 'diverged', and stays so when the threshold moves by 1 %", () => {
    const r = stuck("dyt", 1e-3, 1);
    for (const f of [0.99, 1, 1.01]) assert.equal(classifyRun({ status: r.result.status, acc: r.result.test!.acc, numClasses: 10 }, scaledRules(f)), "did not learn");
    const s = summarizeLrStability([r], { ...L, arms: ["dyt"] }, "smoke");
    assert.deepEqual([s.runs[0]!.class, s.byArm[0]!.grid[0]!.diverged, s.byArm[0]!.grid[0]!.didNotLearn], ["did not learn", 0, 1]);
  });

  it("supported iff DyT's stable range reaches as high as LN's and its near-optimal interval is no narrower (one grid step)", () => {
    const same = summarizeLrStability([...LN, ...sweep("dyt", [both(70), both(80), both(80), both(70), both("div"), both("div")])], L, "smoke");
    assert.equal(same.verdict, "supported", same.reason);
    // DyT stops learning two grid steps earlier.
    const early = summarizeLrStability([...LN, ...sweep("dyt", [both(70), both(80), both("div"), both("div"), both("div"), both("div")])], L, "smoke");
    assert.equal(early.verdict, "not supported", early.reason);
    assert.match(early.reason, /largest stable lr DyT 2.0e-4 < LayerNorm 8.0e-4/);
    // A narrower near-optimal interval (one peak lr instead of two, the rest > 2 points lower): still within one grid step.
    assert.equal(summarizeLrStability([...LN, ...sweep("dyt", [both(70), both(80), both(75), both(70), both("div"), both("div")])], L, "smoke").verdict, "supported");
    assert.equal(summarizeLrStability(LN, L, "smoke").verdict, "not testable");
  });

  it("the knife edge no longer flips: DyT runs stuck at chance (tail loss 2.3019) are not stable, for thresholds moved by ±1 %", () => {
    const dyt = sweep("dyt", [both(70), both(80), both(80), both(70), both("chance"), both("chance")]);
    const lnTop = sweep("layernorm", [both(70), both(80), both(80), both(70), both(72), both("div")]);
    for (const f of [0.99, 1, 1.01]) {
      const s = summarizeLrStability([...lnTop, ...dyt], L, "smoke", scaledRules(f));
      assert.equal(s.verdict, "not supported", `factor ${f}: ${s.reason}`);
      assert.equal(s.byArm.find((b) => b.arm === "dyt")!.strict.stable!.hi, 8e-4);
    }
  });

  it("a grid that does not bracket an arm's stable range is not testable, with the reason", () => {
    const rising = (arm: string) => sweep(arm, [both(60), both(65), both(70), both(75), both(78), both(80)]);
    const s = summarizeLrStability([...rising("layernorm"), ...rising("dyt")], L, "smoke");
    assert.equal(s.verdict, "not testable");
    assert.match(s.reason, /does not bracket DyT's stable range from above .*extend the grid upward/);
    const few = summarizeLrStability([...LN, ...sweep("dyt", [both(70), both(80), both(80)])].filter((r) => r.config.train.lr < 8e-4), L, "smoke");
    assert.equal(few.verdict, "not testable");
  });

  it("seeds that disagree at the deciding lr give 'inconclusive' (strict and lenient readings differ)", () => {
    const dyt = sweep("dyt", [both(70), both(80), both(80), [70, "div"], both("div"), both("div")]);
    const s = summarizeLrStability([...LN, ...dyt], L, "smoke");
    assert.equal(s.verdict, "inconclusive", s.reason);
    assert.match(s.reason, /add seeds/);
    const rows = lrStabilityEntry.claims(s);
    assert.equal(rows[0]!.verdict, "inconclusive");
    assert.equal(rows[0]!.evidence, undefined, "a rule of its own: outside the Holm family");
    assert.equal(lrStabilityTable(s).length, 2);
    const f = lrStabilityFigures(s);
    assert.ok([f.accuracy, f.loss, f.learned, f.gradNorm].every((x) => x.data.length > 0));
  });
});

describe("placement: paired evidence per cell, four outcomes", () => {
  it("supported when DyT matches LN in every (placement, depth) cell; not supported when it falls behind in one", () => {
    const ok = summarizePlacement(cellRecs(grid(() => near(80), () => near(80.1))), P, "smoke");
    assert.equal(ok.verdict, "supported", ok.reason);
    assert.equal(ok.comparisons.length, 4);
    assert.ok(ok.evidence);
    const behind = cellRecs(grid(() => near(80), (d) => (d === 6 ? near(70) : near(80.1))));
    const s = summarizePlacement(behind, P, "smoke");
    assert.equal(s.verdict, "not supported", s.reason);
    assert.match(s.reason, /in (pre|post) d6/);
    for (const f of [0.99, 1.01]) assert.equal(summarizePlacement(behind, P, "smoke", scaledRules(f)).verdict, "not supported");
  });

  it("DyT failing where LN learns is not supported; a cell where LN did not learn is left out and named; one seed is not testable", () => {
    const fail = summarizePlacement(cellRecs(grid(() => near(80), (d) => (d === 6 ? [80, null, 80] : near(80.1)))), P, "smoke");
    assert.equal(fail.verdict, "not supported");
    assert.match(fail.reason, /DyT (pre|post): of 3 seeds 1 diverged, 0 did not learn, where LayerNorm (pre|post) learned on all 3/);
    assert.equal(fail.evidence, undefined);
    const recs = cellRecs({ ...grid(() => near(80), () => near(80.1)), "layernorm|post|6": [10, 10, 10], "dyt|post|6": [10, 10, 10] });
    const out = summarizePlacement(recs, P, "smoke");
    assert.equal(out.verdict, "supported");
    assert.match(out.reason, /not testable and left out: post d6: LayerNorm post: of 3 seeds 0 diverged, 3 did not learn/);
    const one = summarizePlacement(cellRecs(grid(() => [80], () => [80])), { ...P, seeds: [1] }, "smoke");
    assert.equal(one.verdict, "not testable");
    const row = placementEntry.claims(ok())[0]!;
    assert.ok(row.evidence && row.detectable);
    function ok() {
      return summarizePlacement(cellRecs(grid(() => near(80), () => near(80.1))), P, "smoke");
    }
  });
});

describe("lr-stability and placement at smoke scale", () => {
  before(() => useEngine("cpu"));
  useTempResultsDirs("lr-placement-");

  it("bad experiment input names the fix", async () => {
    await assert.rejects(() => runPlacement({ scale: "smoke" }, { placements: ["middle" as never] }), /unknown placement "middle"; valid: pre, post, res-post/);
    await assert.rejects(() => runLrStability({ scale: "smoke" }, { arms: ["groupnorm"] }), /unknown arm "groupnorm"/);
  });

  it("runs the sweep and the placement grid end to end", async () => {
    const lr = await runLrStability({ scale: "smoke", verbose: false });
    assert.equal(lr.records.length, 2 * 3);
    assert.ok(lr.records.every((r) => r.config.train.logEvery === 1));
    assert.equal(lr.summary.runs.length, 6);
    const pl = await runPlacement({ scale: "smoke", verbose: false }, { placements: ["post"] });
    assert.equal(pl.records.filter((r) => r.role === "tune").length, 2 * 2);
    assert.equal(pl.records.filter((r) => r.role === "eval").length, 2 * 2);
    assert.deepEqual([...new Set(pl.records.map((r) => r.config.model.placement))], ["post"]);
    assert.equal(pl.summary.comparisons.length, 1);
    assert.equal(placementTable(pl.summary).length, 2);
    assert.equal(placementComparisonTable(pl.summary).length, 1);
    assert.ok(placementFigure(pl.summary).data.length > 0);
  });
});
