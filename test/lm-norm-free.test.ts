/**
 * lm-norm-free: which evaluation runs are lm-rmsnorm-dyt's (and that the
 * committed ones are current, so they are read, not re-run), claim 8 (LM) on
 * made-up records (every outcome), scale checks, and the experiment end to
 * end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { assertLmNormFreeScale, LM_NORM_FREE, LM_NORM_FREE_SCALES, lmNormFreeEntry, runLmNormFree, summarizeLmNormFree } from "../lib/experiments/lm-norm-free";
import { LM_RMSNORM_DYT, LM_RMSNORM_DYT_SCALES, lmSharedEvalJob } from "../lib/experiments/lm-rmsnorm-dyt/spec";
import { arm } from "../lib/experiments/protocol/arms";
import { pickLr } from "../lib/experiments/protocol/tuning";
import { readJson } from "../lib/util/atomic";
import { staleReason, type LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeLm } from "./lm-fakes";

const S = LM_NORM_FREE_SCALES.smoke;
const LR: Record<string, number> = { "dyt-lm": 1e-2, rmsnorm: 1e-2, fixup: 3e-2, skipinit: 3e-2 };

/** Eval records of every smoke arm on `seeds` (bpb per arm, default 2.6), and each arm's one-run tuning pick. */
function made(bpb: Record<string, (number | "div")[]>, seeds = [1, 2, 3]) {
  const ids = [S.dyt, S.norm, ...S.normFree];
  const records: LmProtocolRecord[] = ids.flatMap((id) =>
    seeds.map((seed, i) => {
      const v = bpb[id]?.[i] ?? 2.6;
      return v === "div" ? fakeLm({ arm: id, seed, lr: LR[id], role: "eval", status: "diverged" }) : fakeLm({ arm: id, seed, lr: LR[id], role: "eval", bpb: v });
    }),
  );
  const picks = ids.map((id) => ({ ...pickLr(id, [fakeLm({ arm: id, lr: LR[id], bpb: 2.6 })]), source: "made-up grid" }));
  return summarizeLmNormFree(records, picks, S, "smoke");
}

describe("lm-norm-free", () => {
  test("DyT's and RMSNorm's runs on lm-rmsnorm-dyt's seeds at its lr are that study's jobs; other seeds, lrs and arms are this study's", () => {
    for (const scale of ["smoke", "full"] as const) {
      const lm = LM_RMSNORM_DYT_SCALES[scale];
      const lrs = { "dyt-lm": { lr: 1e-2, note: "" }, rmsnorm: { lr: 1e-2, note: "" } };
      const j = lmSharedEvalJob(LM_NORM_FREE, scale, arm("dyt-lm"), lm.seeds[0]!, 1e-2, lrs);
      assert.equal(j.experiment, LM_RMSNORM_DYT);
      assert.equal(j.run, `dyt-lm-s${lm.seeds[0]}`);
      assert.equal(lmSharedEvalJob(LM_NORM_FREE, scale, arm("dyt-lm"), 4, 1e-2, lrs).experiment, LM_NORM_FREE, "a seed lm-rmsnorm-dyt did not run");
      assert.equal(lmSharedEvalJob(LM_NORM_FREE, scale, arm("dyt-lm"), lm.seeds[0]!, 3e-2, lrs).experiment, LM_NORM_FREE, "another lr");
      const f = lmSharedEvalJob(LM_NORM_FREE, scale, arm("fixup"), 1, 3e-2, lrs);
      assert.equal(f.experiment, LM_NORM_FREE);
      assert.equal(f.resolved.model.method, "fixup");
      // Same base and budget as the reused runs: the pairing compares like with like.
      assert.deepEqual(f.resolved.train.steps, j.resolved.train.steps);
      assert.deepEqual(f.resolved.data, j.resolved.data);
    }
  });

  test("the committed lm-rmsnorm-dyt evaluation records are current for this study's full DyT and RMSNorm jobs (they are read, not re-run)", () => {
    const dir = path.join(__dirname, "..", "..", "results", LM_RMSNORM_DYT, "full");
    const summary = readJson<{ picks: { arm: string; bestLr: number }[] }>(path.join(dir, "summary.json"));
    const lrs = Object.fromEntries(summary.picks.map((p) => [p.arm, { lr: p.bestLr, note: "" }]));
    for (const id of ["dyt-lm", "rmsnorm"])
      for (const seed of LM_NORM_FREE_SCALES.full.seeds) {
        const j = lmSharedEvalJob(LM_NORM_FREE, "full", arm(id), seed, lrs[id]!.lr, lrs);
        assert.equal(j.experiment, LM_RMSNORM_DYT);
        const file = path.join(dir, `${j.run}.json`);
        assert.ok(fs.existsSync(file), `${j.run} is committed`);
        assert.equal(staleReason(readJson<LmProtocolRecord>(file), j), undefined, j.run);
      }
  });

  test("claim 8 (LM): supported on a clear DyT gain, not supported when a gain is excluded, inconclusive on noise, not testable when a method did not learn", () => {
    const s = made({ "dyt-lm": [2.60, 2.61, 2.59], fixup: [2.80, 2.82, 2.79], skipinit: [2.50, 2.52, 2.49] });
    assert.deepEqual(s.claims.map((c) => [c.id, c.outcome]), [["8.fixup (LM)", "supported"], ["8.skipinit (LM)", "not supported"]]);
    const noisy = made({ "dyt-lm": [2.60, 2.70, 2.50], fixup: [2.65, 2.55, 2.70], skipinit: ["div", "div", "div"] });
    assert.deepEqual(noisy.claims.map((c) => c.outcome), ["inconclusive", "not testable"]);
    assert.match(noisy.claims[1]!.reason, /SkipInit: of 3 seeds 3 diverged/);
    // The norm's pairs are descriptive: a norm that did not learn sets no claim.
    const d = made({ "dyt-lm": [2.60, 2.61, 2.59], fixup: [2.80, 2.82, 2.79], rmsnorm: [4.4, 4.4, 4.4] });
    assert.equal(d.claims[0]!.outcome, "supported");
    assert.deepEqual(d.descriptive.map((c) => [c.arms, c.outcome]), [
      [["rmsnorm", "fixup"], "not testable"],
      [["rmsnorm", "skipinit"], "not testable"],
    ]);
    const rows = lmNormFreeEntry.claims(s);
    assert.deepEqual(rows.map((r) => [r.id, r.verdict]), [["8.fixup (LM)", "supported"], ["8.skipinit (LM)", "not supported"]]);
    assert.match(rows[0]!.ours, /^DyT \(LLaMA recipe\) − Fixup test bpb: −0\.203/);
  });

  test("bad scales fail before any run, naming the fix", () => {
    assert.throws(() => assertLmNormFreeScale({ ...S, normFree: ["fixup"] }, "smoke"), /needs the skipinit arm/);
    assert.throws(() => assertLmNormFreeScale({ ...S, normFree: ["fixup", "skipinit", "layernorm"] }, "smoke"), /layernorm is not a norm-free method/);
    assert.throws(() => assertLmNormFreeScale({ ...S, dyt: "dyt" }, "smoke"), /arm dyt takes lm-rmsnorm-dyt's tuned lr/);
    assert.throws(() => assertLmNormFreeScale({ ...S, normFree: ["fixup", "skipinit", "fixup"] }, "smoke"), /listed twice/);
    assert.throws(() => assertLmNormFreeScale({ ...S, seeds: [] }, "smoke"), /no seeds/);
  });

  describe("end to end", () => {
    useTempResultsDirs("dyt-lm-norm-free-");
    test("runs at smoke: tuning read from (here: run into) lm-rmsnorm-dyt and lm-lr-stability, 4 arms x 2 seeds, two claim rows; a second run loads", async () => {
      await useEngine("native");
      const { records, picks, summary } = await runLmNormFree({ scale: "smoke", verbose: false });
      assert.equal(records.length, 8);
      assert.deepEqual([...new Set(records.map((r) => r.experiment))].sort(), [LM_NORM_FREE, LM_RMSNORM_DYT]);
      assert.ok(records.every((r) => r.config.train.lr === picks.find((p) => p.arm === r.arm)!.bestLr));
      assert.deepEqual(picks.map((p) => p.arm), ["dyt-lm", "rmsnorm", "fixup", "skipinit"]);
      assert.match(picks[2]!.source, /lm-lr-stability's grid/);
      assert.ok(summary.claims.every((c) => OUTCOMES.includes(c.outcome)));
      assert.ok(EXPERIMENTS.includes(lmNormFreeEntry));
      const again = await runLmNormFree({ scale: "smoke", verbose: false, cachedOnly: true });
      assert.equal(again.summary.statement, summary.statement);
    });
  });
});
