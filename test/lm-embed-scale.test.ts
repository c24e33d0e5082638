/**
 * lm-embed-scale: the arms resolve to the intended embedding scalar, the lr is
 * lm-rmsnorm-dyt's committed pick, the R-embed-scale rule on made-up records
 * (all four outcomes), and the experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { DYT_PAIR, LM_EMBED_SCALE_ARMS, LM_EMBED_SCALE_LR, LM_EMBED_SCALE_SCALES, lmEmbedScaleEntry, runLmEmbedScale, summarizeLmEmbedScale } from "../lib/experiments/lm-embed-scale";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { resolveRun } from "../lib/experiments/protocol/task";
import type { LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeLm, LM_TEST_BASE } from "./lm-fakes";

const byId = (id: string) => LM_EMBED_SCALE_ARMS.find((a) => a.id === id)!;

/** Eval records of every arm on `seeds`, DyT's bpb per arm from `bpb` (RMSNorm arms at 2.6). */
function records(bpb: Record<string, number[]>, seeds = [1, 2, 3]): LmProtocolRecord[] {
  return LM_EMBED_SCALE_ARMS.flatMap((a) => seeds.map((seed, i) => fakeLm({ arm: a, seed, lr: LM_EMBED_SCALE_LR, role: "eval", bpb: bpb[a.id]?.[i] ?? 2.6 })));
}
const summarize = (rs: LmProtocolRecord[]) => summarizeLmEmbedScale(rs, LM_EMBED_SCALE_SCALES.smoke, "smoke");

describe("lm-embed-scale", () => {
  test("each arm resolves to its embedding scalar; the norms are DyT, DyT, RMSNorm, RMSNorm", () => {
    const cfg = (id: string) => resolveRun(LM_TEST_BASE, byId(id), 1).model;
    assert.deepEqual(
      LM_EMBED_SCALE_ARMS.map((a) => [a.id, cfg(a.id).norm, cfg(a.id).embedScale]),
      [
        ["dyt-lm", "dyt", true],
        ["dyt-lm-no-scale", "dyt", false],
        ["rmsnorm", "rmsnorm", false],
        ["rmsnorm-scale", "rmsnorm", true],
      ],
    );
    // Removing the scalar changes nothing else of the DyT recipe (alpha0 per slot stays the paper's).
    const { embedScale: _a, seed: _s, ...withScale } = cfg("dyt-lm");
    const { embedScale: _b, seed: _t, ...without } = cfg("dyt-lm-no-scale");
    assert.deepEqual(without, withScale);
  });

  test("the shared lr is lm-rmsnorm-dyt's committed tuned pick at full for both arms (a re-tuned lm-rmsnorm-dyt must fail this)", () => {
    const f = path.join(__dirname, "..", "..", "results", "lm-rmsnorm-dyt", "full", "summary.json");
    const picks = (JSON.parse(fs.readFileSync(f, "utf8")) as { picks: { arm: string; bestLr: number }[] }).picks;
    assert.deepEqual(picks.map((p) => [p.arm, p.bestLr]).sort(), [["dyt-lm", LM_EMBED_SCALE_LR], ["rmsnorm", LM_EMBED_SCALE_LR]]);
  });

  test("R-embed-scale: supported on a clear gain, not supported when the gain is excluded, inconclusive on noise, not testable when an arm did not learn", () => {
    const at = (withS: number[], without: number[]) => summarize(records({ "dyt-lm": withS, "dyt-lm-no-scale": without }));
    assert.equal(at([2.60, 2.61, 2.59], [2.80, 2.82, 2.79]).verdict, "supported");
    assert.equal(at([2.600, 2.610, 2.590], [2.599, 2.612, 2.590]).verdict, "not supported");
    assert.equal(at([2.60, 2.70, 2.50], [2.65, 2.55, 2.70]).verdict, "inconclusive");
    const nt = at([2.60, 2.61, 2.59], [4.40, 4.41, 4.39]);
    assert.equal(nt.verdict, "not testable");
    assert.match(nt.reason, /no embedding scalar: of 3 seeds 0 diverged, 3 did not learn/);
    // The RMSNorm pair is reported beside and never sets the verdict.
    const s = summarize(records({ "dyt-lm": [2.6, 2.61, 2.59], "dyt-lm-no-scale": [2.8, 2.82, 2.79], "rmsnorm-scale": [4.4, 4.4, 4.4] }));
    assert.equal(s.verdict, "supported");
    assert.equal(s.rmsnorm.outcome, "not testable");
    assert.deepEqual(s.dyt.arms.map((a) => a.arm), [...DYT_PAIR]);
    assert.match(s.statement, /RMSNorm \(descriptive\)/);
  });

  describe("end to end", () => {
    useTempResultsDirs("dyt-lm-embed-");
    test("runs at smoke: 4 arms x 2 seeds at the shared lr, a verdict among the four outcomes and a claims row; a second run loads", async () => {
      await useEngine("native");
      const { records: rs, summary } = await runLmEmbedScale({ scale: "smoke", verbose: false });
      assert.equal(rs.length, 8);
      assert.ok(rs.every((r) => r.role === "eval" && r.config.train.lr === LM_EMBED_SCALE_LR));
      assert.ok(OUTCOMES.includes(summary.verdict));
      assert.ok(EXPERIMENTS.includes(lmEmbedScaleEntry));
      const [row] = lmEmbedScaleEntry.claims(summary);
      assert.equal(row!.id, "R-embed-scale (LM)");
      assert.equal(row!.verdict, summary.verdict);
      const again = await runLmEmbedScale({ scale: "smoke", verbose: false, cachedOnly: true });
      assert.equal(again.summary.statement, summary.statement);
    });
  });
});
