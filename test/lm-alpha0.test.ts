/**
 * lm-alpha0: the rule (near-best set, effective α₀, the width and depth
 * claims) on hand-built pair runs with every outcome; the jobs' α₀ per slot in
 * the resolved config; the experiment end to end at smoke through the runner,
 * and its rebuild from the saved records under --cached-only. The width
 * amendment (2026-12-05, width 256 at full): its jobs and run ids, its row's
 * outcomes, "not yet run" under --cached-only, and the committed full records
 * rebuilding the earlier rows unchanged with and without (made-up) width-256
 * runs.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { RunClass } from "../lib/experiments/protocol/classify";
import { RULES } from "../lib/experiments/protocol/rules";
import { resolveRun } from "../lib/experiments/protocol/task";
import { recordFile, staleReason, type LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { widthMatchedInitStd } from "../lib/models/llama";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import {
  depthClaim,
  effectiveAlpha0,
  LM_ALPHA0_SCALES,
  lmAlpha0Arm,
  lmAlpha0ConfigTable,
  lmAlpha0CornerFigure,
  lmAlpha0CornerTable,
  lmAlpha0Entry,
  lmAlpha0Heatmaps,
  lmAlpha0Job,
  lmAlpha0Jobs,
  lmAlpha0PairTable,
  lmAlpha0WidthFigure,
  runLmAlpha0,
  scoreConfig,
  widthClaim,
  widthExtendedRow,
  type LmAlpha0Config,
  type LmAlpha0PairRuns,
  type LmAlpha0Summary,
} from "../lib/experiments/lm-alpha0";
import { useEngine, useTempResultsDirs } from "./helpers";

/** A summary's fields from before the width-256 amendment: no widthExtended, no w256d2 config. */
function earlierOf(x: LmAlpha0Summary): Omit<LmAlpha0Summary, "widthExtended"> {
  const { widthExtended: _, configs, ...rest } = x;
  return { ...rest, configs: configs.filter((c) => c.size !== "w256d2") };
}

type Cell = number | RunClass | [number, RunClass];
/** A pair's two seeds: a mean bpb (seeds at ±0.001); a failure on both seeds; or [seed 1's bpb, seed 2's failure]. */
function pair(key: string, v: Cell): LmAlpha0PairRuns {
  const [attn, other] = key.split("/").map(Number) as [number, number];
  const failed = (k: RunClass) => (k === "diverged" ? NaN : 4.4);
  if (typeof v === "number") return { attn, other, seeds: [1, 2], valBpb: [v - 0.001, v + 0.001], classes: ["learned", "learned"] };
  if (typeof v === "string") return { attn, other, seeds: [1, 2], valBpb: [failed(v), failed(v)], classes: [v, v] };
  return { attn, other, seeds: [1, 2], valBpb: [v[0], failed(v[1])], classes: ["learned", v[1]] };
}
function config(width: number, scores: Record<string, Cell>, depth = 2): LmAlpha0Config {
  return scoreConfig({ size: `w${width}d${depth}`, width, depth }, Object.entries(scores).map(([k, v]) => pair(k, v)));
}
const allFailed = (width: number) => config(width, { "1/1": "diverged", "4/4": "did not learn" });

describe("lm-alpha0 rule", () => {
  test("near-best set: pairs within lmMatchMarginBpb of the best; a pair with a failed seed has no score, however low its other seed", () => {
    const c = config(64, { "0.25/0.25": 2.5, "1/1": 2.4, "1/4": 2.4 + RULES.lmMatchMarginBpb, "4/1": 2.43, "4/4": [2.0, "diverged"], "0.25/4": [2.1, "did not learn"] });
    assert.deepEqual(c.best, { attn: 1, other: 1, meanBpb: 2.4 });
    assert.deepEqual(c.nearBest, [[1, 1], [1, 4]], "the margin is inclusive; 0.03 above the best is out");
    assert.ok(Number.isNaN(c.pairs.find((p) => p.attn === 4 && p.other === 4)!.meanBpb));
    assert.equal(c.pairs.find((p) => p.attn === 0.25 && p.other === 4)!.nearBest, false);
    // Effective α₀: geometric mean of √(a·o) over N = √(1 · 2) ; attention 1, other 2.
    assert.ok(Math.abs(c.effective.alpha0 - Math.SQRT2) < 1e-12);
    assert.ok(Math.abs(c.effective.attn - 1) < 1e-12 && Math.abs(c.effective.other - 2) < 1e-12);
    assert.equal(c.failure, undefined);
    const e = effectiveAlpha0([{ attn: 0.25, other: 0.25 }, { attn: 4, other: 4 }]);
    assert.ok(Math.abs(e.alpha0 - 1) < 1e-12, "geometric, not arithmetic");
    assert.ok(Number.isNaN(effectiveAlpha0([]).alpha0));
  });

  test("a config with no scored pair says why: every run failed, or no pair learned on every seed", () => {
    const dead = allFailed(32);
    assert.equal(dead.best, undefined);
    assert.deepEqual(dead.nearBest, []);
    assert.equal(dead.failure, "every run failed (2 diverged, 2 did not learn, of 4 runs)");
    assert.equal(config(32, { "1/1": [2.5, "diverged"], "4/4": "diverged" }).failure, "no α₀ pair learned on every seed (3 diverged, 0 did not learn, of 4 runs)");
  });

  const w32 = config(32, { "4/4": 2.9, "4/1": 2.91, "1/1": 2.95 });
  const w64 = config(64, { "4/4": 2.75, "1/1": 2.7, "1/0.25": 2.72 });
  const w128 = config(128, { "4/4": 2.7, "1/1": 2.6, "0.25/0.25": 2.58 });

  test("7-width (LM) supported: effective α₀ strictly decreasing with width and N(narrowest), N(widest) disjoint", () => {
    const v = widthClaim([w128, w32, w64]);
    assert.equal(v.outcome, "supported", v.reason);
    assert.match(v.reason, /w32d2 .* w64d2 .* w128d2/, "ordered by width");
  });

  test("7-width (LM) not supported: the widest's effective α₀ at least the narrowest's", () => {
    const flat = config(128, { "4/4": 2.5, "4/1": 2.6 });
    assert.equal(widthClaim([w32, w64, flat]).outcome, "not supported");
  });

  test("7-width (LM) inconclusive: lower at the widest but not monotone, or N shared by the extremes", () => {
    const bump = config(64, { "4/4": 2.7 });
    const v = widthClaim([w32, bump, w128]);
    assert.equal(v.outcome, "inconclusive");
    assert.match(v.reason, /not decreasing at w32d2 -> w64d2/);
    // Decreasing (2.8 > 0.71 > 0.63), but N(w128) keeps w32's 4/1.
    const shared = config(128, { "4/1": 2.6, "0.25/0.25": 2.59, "0.25/1": 2.595 });
    const s = widthClaim([w32, w64, shared]);
    assert.equal(s.outcome, "inconclusive", s.reason);
    assert.match(s.reason, /lower at the widest, but N\(w32d2\) and N\(w128d2\) share 4\/1$/);
  });

  test("7-width (LM) not testable: a width whose runs all failed, or a single width", () => {
    const v = widthClaim([w32, allFailed(64), w128]);
    assert.equal(v.outcome, "not testable");
    assert.match(v.reason, /w64d2: every run failed/);
    assert.equal(widthClaim([w32]).outcome, "not testable");
  });

  test("7-depth (LM): depth's log-change in effective α₀ against width's; not testable with no width data", () => {
    // Effective α₀: w32 1, w64 0.5, w128 0.5: |ln(eff w128 / eff w32)| = ln 2.
    const ladder = [config(32, { "1/1": 2.9, "4/4": 3.0 }), config(64, { "1/0.25": 2.7, "4/4": 2.8 }), config(128, { "0.25/1": 2.6, "4/4": 2.7 })];
    const [, w64d2] = ladder;
    const width = widthClaim(ladder);
    assert.equal(width.outcome, "inconclusive", "not strictly decreasing from w64 to w128");
    const near = config(64, { "1/0.25": 2.8, "1/1": 2.81 }, 4); // 0.71: |ln 1.41| < ln 2
    const v = depthClaim(width, ladder, [w64d2, near]);
    assert.equal(v.outcome, "supported", v.reason);
    assert.match(v.reason, /\|ln\(eff w64d4 \/ eff w64d2\)\| = 0\.35 .*\|ln\(eff w128d2 \/ eff w32d2\)\| = 0\.69/);
    const far = config(64, { "4/4": 2.8 }, 4); // 4: |ln 8| >= ln 2
    assert.equal(depthClaim(width, ladder, [w64d2, far]).outcome, "not supported");
    // An exact tie (deep 1 vs shallow 0.5: ln 2, as width's): inconclusive under the amended rule, "not supported" as first written.
    const tie = config(64, { "1/1": 2.8 }, 4);
    const amended = depthClaim(width, ladder, [w64d2, tie]);
    assert.equal(amended.outcome, "inconclusive", amended.reason);
    assert.match(amended.reason, /= 0\.69 .*= 0\.69: a tie/);
    assert.equal(depthClaim(width, ladder, [w64d2, tie], { asFirstWritten: true }).outcome, "not supported");
    const none = depthClaim(widthClaim([allFailed(32), w64d2]), [w64d2], [w64d2, near]);
    assert.equal(none.outcome, "not testable");
    assert.match(none.reason, /the width claim has no data/);
    assert.equal(depthClaim(width, ladder, [w64d2, allFailed(64)]).outcome, "not testable");
    assert.equal(depthClaim(width, ladder, [w64d2, undefined]).outcome, "not testable");
  });
});

describe("lm-alpha0 jobs", () => {
  test("each job is the DyT LLaMA recipe with α₀ attention = a and FFN = final = o in its resolved config, at the grid's one lr", () => {
    const s = LM_ALPHA0_SCALES.smoke;
    const j = lmAlpha0Job(s, "smoke", "w16d2", 0.25, 4, 2);
    const m = j.resolved.model;
    assert.deepEqual([m.alpha0Attn, m.alpha0Ffn, m.alpha0Final], [0.25, 4, 4]);
    assert.deepEqual([m.norm, m.embedScale, m.dim, m.depth, m.heads, m.seed], ["dyt", true, 16, 2, 2, 2]);
    assert.equal(j.resolved.train.lr, s.lr);
    assert.equal(j.resolved.arm, "dyt-lm-a0.25-o4");
    assert.equal(j.run, "w16d2-a0.25-o4-s2");
    assert.deepEqual(j.axes, { part: "grid", size: "w16d2", width: 16, depth: 2, alpha0Attn: 0.25, alpha0Other: 4, epochs: s.epochs, lr: s.lr });
    const c = lmAlpha0Job(s, "smoke", "w16d1", 4, 4, 1, 3e-2);
    assert.equal(c.run, "corner-lr3.0e-2-w16d1-a4-o4-s1");
    assert.equal(c.axes.part, "corner");
    assert.equal(c.resolved.train.lr, 3e-2);
    // The arm's α₀ would override the same slots in the model config: refused, not silently replaced.
    assert.throws(() => resolveRun({ ...s.base, model: { dim: 16, depth: 1, heads: 2, alpha0Attn: 0.5 } }, lmAlpha0Arm(1, 1), 1), /sets the DyT alpha0 of every slot; drop model\.alpha0Attn/);
  });

  test("the scale's jobs: every size x pair x seed once, the corner's lrs other than the grid's, unique run ids", () => {
    const s = LM_ALPHA0_SCALES.smoke;
    const jobs = lmAlpha0Jobs(s, "smoke");
    assert.equal(jobs.length, (3 + 1) * 4 * 2 + 1, "the width amendment's w32d1 trains with the rest");
    assert.equal(new Set(jobs.map((j) => j.run)).size, jobs.length);
    assert.deepEqual(jobs.slice(0, 8).map((j) => j.axes.size), ["w32d1", "w32d1", "w32d1", "w32d1", "w16d2", "w16d2", "w16d2", "w16d2"], "costliest size first");
    assert.ok(jobs.slice(0, 16).every((j) => j.seed === 1), "seed-major");
    const f = LM_ALPHA0_SCALES.full;
    assert.deepEqual([f.attn, f.other, f.seeds, f.lr], [[0.25, 1, 4], [0.25, 1, 4], [1, 2], 3e-3]);
    assert.deepEqual(f.corner, { size: "w64d2", pairs: [[4, 4], [1, 1]], lrs: [1e-2, 3e-2], seed: 1 });
    assert.deepEqual(f.sizes.map((z) => z.model.dim / z.model.heads), f.sizes.map(() => 16), "head dim 16");
  });
});

describe("lm-alpha0 width amendment (2026-12-05)", () => {
  const FULL = LM_ALPHA0_SCALES.full;

  test("full adds w256d2 only: 16 heads, the recipe's init std, the grid's lr and budget; 18 new run ids, none an existing one", () => {
    assert.deepEqual(FULL.extraSizes, [{ name: "w256d2", model: { dim: 256, depth: 2, heads: 16 } }]);
    assert.deepEqual(FULL.extendedLadder, ["w32d2", "w64d2", "w128d2", "w256d2"]);
    assert.deepEqual(FULL.sizes.map((z) => z.name), ["w32d2", "w64d2", "w128d2", "w64d4"], "the pre-registered sizes are unchanged");
    const jobs = lmAlpha0Jobs(FULL, "full");
    const w256 = jobs.filter((j) => j.axes.size === "w256d2");
    const ids = FULL.seeds.flatMap((seed) => FULL.attn.flatMap((a) => FULL.other.map((o) => `w256d2-a${a}-o${o}-s${seed}`)));
    assert.deepEqual(w256.map((j) => j.run), ids);
    assert.equal(ids.length, 18);
    assert.equal(jobs.length, 5 * 9 * 2 + 4);
    assert.equal(new Set(jobs.map((j) => j.run)).size, jobs.length);
    assert.deepEqual(jobs.slice(0, 9).map((j) => j.run), ids.slice(0, 9), "the costliest size first within a seed");
    for (const j of w256) {
      const w128 = jobs.find((x) => x.run === j.run.replace("w256d2", "w128d2"))!;
      const m = j.resolved.model;
      assert.deepEqual([m.dim, m.depth, m.heads, m.norm, m.alpha0Attn, m.alpha0Ffn, m.alpha0Final], [256, 2, 16, "dyt", j.axes.alpha0Attn, j.axes.alpha0Other, j.axes.alpha0Other]);
      assert.equal(m.initStd, widthMatchedInitStd(256));
      assert.ok(Math.abs(m.initStd! - 0.08) < 1e-12);
      assert.deepEqual(j.resolved.train, w128.resolved.train, "same lr, budget, evals, batch and seed as w128d2's run of the pair");
      assert.deepEqual(j.resolved.data, w128.resolved.data);
      assert.equal(j.axes.part, "grid");
    }
    // The corner is unchanged.
    assert.deepEqual(jobs.filter((j) => j.axes.part === "corner").map((j) => j.run), ["corner-lr1.0e-2-w64d2-a4-o4-s1", "corner-lr1.0e-2-w64d2-a1-o1-s1", "corner-lr3.0e-2-w64d2-a4-o4-s1", "corner-lr3.0e-2-w64d2-a1-o1-s1"]);
    // Quick gets the analogous next width up.
    assert.deepEqual(LM_ALPHA0_SCALES.quick.extraSizes!.map((z) => z.name), ["w128d2"]);
  });

  test("7-width, to 256 (LM): widthClaim over the extended ladder, every outcome; not yet run, or a width with no scored pair, is not testable", () => {
    const c32 = config(32, { "4/4": 2.9, "4/1": 2.91 });
    const c64 = config(64, { "1/1": 2.7, "4/1": 2.75 });
    const c128 = config(128, { "1/0.25": 2.6, "1/1": 2.7 });
    const row = (c256: LmAlpha0Config | undefined, notRun: string[] = []) => widthExtendedRow([c32, c64, c128, ...(c256 ? [c256] : [])], FULL, "full", notRun)!;
    const sup = row(config(256, { "0.25/0.25": 2.5, "1/1": 2.6 }));
    assert.equal(sup.verdict, "supported", sup.reason);
    assert.deepEqual([sup.verdict, sup.reason], ((v) => [v.outcome, v.reason])(widthClaim([c32, c64, c128, config(256, { "0.25/0.25": 2.5, "1/1": 2.6 })])), "the 7-width (LM) rule itself");
    assert.match(sup.statement, /adds w256d2 \(width 256, depth 2, 16 heads, init std 0\.0800\).*w256d2: best 0\.25\/0\.25/);
    assert.equal(row(config(256, { "4/4": 2.5 })).verdict, "not supported");
    const inc = row(config(256, { "1/1": 2.5 }));
    assert.equal(inc.verdict, "inconclusive");
    assert.match(inc.reason, /not decreasing at w128d2 -> w256d2/);
    const dead = row(allFailed(256));
    assert.equal(dead.verdict, "not testable");
    assert.match(dead.reason, /w256d2: every run failed/);
    for (const pending of [row(undefined, ["w256d2"]), row(undefined)]) {
      assert.equal(pending.verdict, "not testable");
      assert.match(pending.reason, /^not yet run: no saved full runs for w256d2 \(run `npm run exp -- lm-alpha0 --scale full`\)$/);
      assert.match(pending.statement, /w256d2 not yet run\./);
    }
    assert.equal(widthExtendedRow([c32], { ...FULL, extendedLadder: undefined }, "full"), undefined, "no row at a scale without the amendment");
  });

  // The committed full results (widths 32-128): the earlier rows rebuild from them word for word, with and without width-256 runs.
  const RESULTS = path.resolve(__dirname, "../../results");
  const committed = path.join(RESULTS, "lm-alpha0", "full");
  const has = fs.existsSync(path.join(committed, "summary.json"));
  const readRec = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as LmProtocolRecord;

  test("every committed full record is still a current record of a job (the amendment re-runs nothing cached)", { skip: !has && "no committed full results" }, () => {
    const jobs = lmAlpha0Jobs(FULL, "full");
    const files = fs.readdirSync(committed).filter((f) => f.endsWith(".json") && f !== "summary.json");
    assert.equal(files.length, 94, "72 grid runs and 4 corner runs before the amendment, 18 width-256 runs after it");
    for (const f of files) {
      const rec = readRec(path.join(committed, f));
      const job = jobs.find((j) => j.run === rec.run);
      assert.ok(job, `${f}: no job has run id ${rec.run}`);
      assert.equal(staleReason(rec, job), undefined, `${f} would be re-run`);
    }
    const w256 = jobs.filter((j) => j.axes.size === "w256d2").map((j) => `${j.run}.json`);
    assert.deepEqual(files.filter((f) => f.startsWith("w256d2-")).sort(), [...w256].sort(), "every width-256 job has its record");
  });

  test("cached only at full: the earlier rows rebuild unchanged, without the width-256 runs (not yet run) and with made-up ones", { skip: !has && "no committed full results" }, async () => {
    await useEngine("native");
    const saved0 = JSON.parse(fs.readFileSync(path.join(committed, "summary.json"), "utf8")) as LmAlpha0Summary;
    // The committed full summary has the width-256 runs; the earlier fields are those without them.
    assert.equal(saved0.widthExtended?.verdict, "not supported", "the committed width-256 result");
    const old = earlierOf(saved0);
    const oldRows = lmAlpha0Entry.claims(saved0);
    // Summarising saves the summary: work on a copy so the committed one is never rewritten.
    const saved = { r: process.env.DYT_RESULTS_DIR, y: process.env.DYT_RUNS_DIR };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-lm-alpha0-full-"));
    const dir = path.join(tmp, "results", "lm-alpha0", "full");
    fs.cpSync(committed, dir, { recursive: true, filter: (src) => path.basename(src) !== "figures" && !path.basename(src).startsWith("w256d2-") });
    process.env.DYT_RESULTS_DIR = path.join(tmp, "results");
    process.env.DYT_RUNS_DIR = path.join(tmp, "runs");
    const earlier = earlierOf;
    const json = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
    try {
      const pending = (await runLmAlpha0({ scale: "full", cachedOnly: true, verbose: false })).summary;
      assert.deepEqual(json(earlier(pending)), json(old), "every earlier field, word for word");
      assert.deepEqual([pending.widthExtended!.verdict, pending.widthExtended!.notRun], ["not testable", ["w256d2"]]);
      const rows = lmAlpha0Entry.claims(pending);
      assert.deepEqual(rows.slice(0, 2), oldRows.slice(0, 2));
      assert.deepEqual(rows.map((r) => [r.id, r.verdict]), [["7-width (LM)", "not supported"], ["7-depth (LM)", "inconclusive"], ["7-width, to 256 (LM)", "not testable"]]);
      assert.match(rows[2]!.reason!, /not yet run: no saved full runs for w256d2/);
      assert.ok(fs.readdirSync(dir).every((f) => !f.startsWith("w256d2-")), "nothing was trained");
      // A summary saved before the amendment (no widthExtended) still gives the row, not testable.
      const { widthExtended: _w, ...before } = saved0;
      const beforeRows = lmAlpha0Entry.claims(before as LmAlpha0Summary);
      assert.equal(beforeRows[2]!.verdict, "not testable");
      assert.match(beforeRows[2]!.reason!, /saved before the width amendment/);

      // Made-up width-256 runs (w128d2's records on the w256d2 jobs' configs, final validation bpb set per pair).
      const jobs = lmAlpha0Jobs(FULL, "full").filter((j) => j.axes.size === "w256d2");
      const write = (bpb: (a: number, o: number) => number, seeds = FULL.seeds) => {
        for (const j of jobs.filter((x) => seeds.includes(x.seed))) {
          const src = readRec(path.join(committed, j.run.replace("w256d2", "w128d2") + ".json"));
          const v = bpb(j.axes.alpha0Attn as number, j.axes.alpha0Other as number) + (j.seed === 1 ? -0.001 : 0.001);
          const evals = src.result.evals.map((e, i, all) => (i === all.length - 1 ? { ...e, bpb: v } : e));
          fs.writeFileSync(recordFile(j), JSON.stringify({ ...src, run: j.run, axes: j.axes, config: j.resolved, result: { ...src.result, evals } }));
        }
      };
      // Only seed 1 saved: still not yet run (no partial verdict).
      write(() => 2.8, [1]);
      const partial = (await runLmAlpha0({ scale: "full", cachedOnly: true, verbose: false })).summary;
      assert.deepEqual([partial.widthExtended!.verdict, partial.widthExtended!.notRun], ["not testable", ["w256d2"]]);
      assert.deepEqual(json(earlier(partial)), json(old));
      // Every w256d2 run, best 0.25/0.25 alone (effective α₀ 0.25 < w32d2's 0.35): inconclusive, the earlier rows word for word.
      write((a, o) => (a === 0.25 && o === 0.25 ? 2.5 : 2.6));
      const low = (await runLmAlpha0({ scale: "full", cachedOnly: true, verbose: false })).summary;
      assert.deepEqual(json(earlier(low)), json(old), "the width-256 runs change no earlier field");
      assert.deepEqual(lmAlpha0Entry.claims(low).slice(0, 2), oldRows.slice(0, 2));
      const w = low.widthExtended!;
      assert.deepEqual([w.verdict, w.notRun], ["inconclusive", []]);
      assert.match(w.reason, /w256d2 0\.25 \(N \{0\.25\/0\.25\}\): lower at the widest, but not decreasing at w32d2 -> w64d2, w64d2 -> w128d2; N\(w32d2\) and N\(w256d2\) share 0\.25\/0\.25$/);
      assert.deepEqual(low.configs.map((c) => c.size), ["w32d2", "w64d2", "w128d2", "w64d4", "w256d2"]);
      assert.deepEqual(lmAlpha0Heatmaps(low).map((h) => h.size), ["w32d2", "w64d2", "w128d2", "w64d4", "w256d2"], "a heat map for w256d2 too");
      assert.deepEqual(lmAlpha0ConfigTable(low).slice(0, 4), lmAlpha0ConfigTable(saved0).slice(0, 4), "the earlier configs' rows unchanged");
      assert.equal(lmAlpha0ConfigTable(low)[4]!["best α₀ (attn/other)"], "0.25/0.25");
      assert.deepEqual(lmAlpha0WidthFigure(low).data[0]!.x, [32, 64, 128, 256], "the width figure takes the extended ladder");
      assert.deepEqual(lmAlpha0WidthFigure(pending).data[0]!.x, [32, 64, 128]);
      // Best 1/1 at width 256 (effective α₀ 1 >= 0.35): not supported.
      write((a, o) => (a === 1 && o === 1 ? 2.5 : 2.6));
      assert.equal((await runLmAlpha0({ scale: "full", cachedOnly: true, verbose: false })).summary.widthExtended!.verdict, "not supported");
      // A missing run of a pre-registered size still fails, as before the amendment.
      fs.rmSync(path.join(dir, "w64d4-a1-o1-s2.json"));
      await assert.rejects(runLmAlpha0({ scale: "full", cachedOnly: true, verbose: false }), /no saved full result for run w64d4-a1-o1-s2/);
    } finally {
      for (const [k, v] of [["DYT_RESULTS_DIR", saved.r], ["DYT_RUNS_DIR", saved.y]] as const) {
        if (v !== undefined) process.env[k] = v;
        else delete process.env[k];
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("lm-alpha0 experiment", () => {
  useTempResultsDirs("dyt-lm-alpha0-");

  test("runs end to end at smoke: summary, figures, claims rows; --cached-only rebuilds the same summary", async () => {
    await useEngine("native");
    const { records, summary } = await runLmAlpha0({ scale: "smoke", verbose: false });
    assert.equal(records.length, 33);
    assert.deepEqual(summary.configs.map((c) => c.size), ["w8d1", "w16d1", "w16d2", "w32d1"]);
    assert.ok(summary.configs.every((c) => c.pairs.length === 4 && c.pairs.every((p) => p.seeds.length === 2 && p.valBpb.every(Number.isFinite))));
    assert.ok(OUTCOMES.includes(summary.width.outcome) && OUTCOMES.includes(summary.depth.outcome));
    assert.equal(summary.corner!.runs.length, 2, "the corner run and the grid's run of its pair at the grid's lr");
    assert.deepEqual(summary.corner!.runs.map((r) => [r.lr, r.fromGrid]), [[1e-2, true], [3e-2, false]]);
    assert.equal(lmAlpha0Heatmaps(summary).length, 4);
    assert.ok(lmAlpha0WidthFigure(summary).data.length >= 2);
    assert.equal(lmAlpha0CornerFigure(records, summary)!.data.length > 0, true);
    assert.equal(lmAlpha0CornerTable(summary).length, 2);
    assert.equal(lmAlpha0PairTable(summary).length, 16);
    assert.equal(lmAlpha0ConfigTable(summary).length, 4);
    const rows = lmAlpha0Entry.claims(summary);
    assert.deepEqual(rows.map((r) => [r.id, r.verdict]), [["7-width (LM)", summary.width.outcome], ["7-depth (LM)", summary.depth.outcome], ["7-width, to 256 (LM)", summary.widthExtended!.verdict]]);
    assert.deepEqual(summary.widthExtended!.ladder, ["w8d1", "w16d1", "w32d1"]);
    assert.ok(!summary.statement.includes("w32d1") && !summary.setup.includes("w32d1"), "the amendment's size is in its own row only");
    assert.ok(rows.every((r) => r.notebook === "notebooks/16-lm-alpha0-width.ipynb" && r.ours.includes("lr fixed at")));

    const again = await runLmAlpha0({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, summary);

    // Smoke runs are too short to learn; with every finished run counted as learned the same records take the scoring path.
    const lax = { ...RULES, lmLearnedBelowUnigramBpb: -100 };
    const scored = (await runLmAlpha0({ scale: "smoke", verbose: false, cachedOnly: true }, {}, lax)).summary;
    assert.ok(scored.configs.every((c) => c.best !== undefined && c.nearBest.length >= 1 && Number.isFinite(c.effective.alpha0)));
    assert.notEqual(scored.width.outcome, "not testable", scored.width.reason);
    assert.notEqual(scored.depth.outcome, "not testable", scored.depth.reason);
    assert.notEqual(scored.widthExtended!.verdict, "not testable", scored.widthExtended!.reason);
    assert.deepEqual([scored.widthExtended!.verdict, scored.widthExtended!.reason], ((v) => [v.outcome, v.reason])(widthClaim(["w8d1", "w16d1", "w32d1"].map((n) => scored.configs.find((c) => c.size === n)!))));

    // Without the amendment's runs, --cached-only gives the earlier rows as before and the new row "not yet run".
    for (const j of lmAlpha0Jobs(LM_ALPHA0_SCALES.smoke, "smoke").filter((x) => x.axes.size === "w32d1")) fs.rmSync(recordFile(j));
    const before = (await runLmAlpha0({ scale: "smoke", verbose: false, cachedOnly: true })).summary;
    const { widthExtended: _a, configs: c0, ...rest0 } = summary;
    const { widthExtended: w, configs: c1, ...rest1 } = before;
    assert.deepEqual(rest1, rest0);
    assert.deepEqual(c1, c0.filter((c) => c.size !== "w32d1"));
    assert.deepEqual([w!.verdict, w!.notRun], ["not testable", ["w32d1"]]);
    assert.match(w!.reason, /not yet run: no saved smoke runs for w32d1/);
  });
});
