/**
 * lm-fp8-train: the FP8 arms differ from their norms only in the matmul
 * format, the fp32 runs are lm-rmsnorm-dyt's (committed records current), the
 * R-fp8-train rule on made-up records (paired costs, and FP8 runs that fail),
 * and the experiment end to end at smoke.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";
import { fp8Arm, LM_FP8_SCALES, LM_FP8_TRAIN, lmFp8TrainEntry, runLmFp8, summarizeLmFp8 } from "../lib/experiments/lm-fp8-train";
import { LM_RMSNORM_DYT, LM_RMSNORM_DYT_SCALES, lmSharedEvalJob } from "../lib/experiments/lm-rmsnorm-dyt/spec";
import { arm } from "../lib/experiments/protocol/arms";
import { resolveRun } from "../lib/experiments/protocol/task";
import { readJson } from "../lib/util/atomic";
import { staleReason, type LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { OUTCOMES } from "../lib/experiments/protocol/verdict";
import { useEngine, useTempResultsDirs } from "./helpers";
import { fakeLm, LM_TEST_BASE } from "./lm-fakes";

const S = LM_FP8_SCALES.smoke;
const LRS = { "dyt-lm": { lr: 1e-2, note: "" }, rmsnorm: { lr: 1e-2, note: "" } };

/** fp32 and FP8 eval records of both norms on seeds 1-3: bpb per arm id ("div" = diverged). */
function made(bpb: Record<string, (number | "div")[]>) {
  const ids = ["dyt-lm", "dyt-lm-fp8", "rmsnorm", "rmsnorm-fp8"];
  const records: LmProtocolRecord[] = ids.flatMap((id) =>
    [1, 2, 3].map((seed, i) => {
      const a = id.endsWith("-fp8") ? fp8Arm(id.replace(/-fp8$/, "")) : arm(id);
      const v = bpb[id]?.[i] ?? 2.6;
      return v === "div" ? fakeLm({ arm: a, seed, lr: 1e-2, role: "eval", status: "diverged" }) : fakeLm({ arm: a, seed, lr: 1e-2, role: "eval", bpb: v });
    }),
  );
  return summarizeLmFp8(records, LRS, S, "smoke");
}

describe("lm-fp8-train", () => {
  test("an FP8 arm is its norm's recipe with matmul fp8 and nothing else", () => {
    for (const id of ["dyt-lm", "rmsnorm"]) {
      const { matmul, seed: _s, ...m8 } = resolveRun(LM_TEST_BASE, fp8Arm(id), 1).model;
      const { seed: _t, ...m32 } = resolveRun(LM_TEST_BASE, arm(id), 1).model;
      assert.equal(matmul, "fp8");
      assert.deepEqual(m8, m32);
      assert.equal(fp8Arm(id).id, `${id}-fp8`);
    }
    assert.equal(resolveRun(LM_TEST_BASE, arm("dyt-lm"), 1).model.matmul, undefined, "fp32 configs carry no matmul key (older records stay current)");
  });

  test("the fp32 runs on seeds 1-3 are lm-rmsnorm-dyt's committed records, current for this study's jobs; FP8 runs are this study's", () => {
    const dir = path.join(__dirname, "..", "..", "results", LM_RMSNORM_DYT, "full");
    const picks = readJson<{ picks: { arm: string; bestLr: number }[] }>(path.join(dir, "summary.json")).picks;
    const lrs = Object.fromEntries(picks.map((p) => [p.arm, { lr: p.bestLr, note: "" }]));
    for (const id of LM_FP8_SCALES.full.arms)
      for (const seed of LM_FP8_SCALES.full.seeds) {
        const j = lmSharedEvalJob(LM_FP8_TRAIN, "full", arm(id), seed, lrs[id]!.lr, lrs);
        assert.equal(j.experiment, LM_RMSNORM_DYT);
        assert.equal(staleReason(readJson<LmProtocolRecord>(path.join(dir, `${j.run}.json`)), j), undefined, j.run);
        const f = lmSharedEvalJob(LM_FP8_TRAIN, "full", fp8Arm(id), seed, lrs[id]!.lr, lrs);
        assert.equal(f.experiment, LM_FP8_TRAIN);
        assert.equal(f.resolved.model.matmul, "fp8");
        assert.deepEqual(f.resolved.train, j.resolved.train);
      }
    assert.deepEqual(LM_RMSNORM_DYT_SCALES.full.seeds, LM_FP8_SCALES.full.seeds);
  });

  test("R-fp8-train: the paired costs decide when every run learned; an FP8 run that fails decides before them", () => {
    const sup = made({ "dyt-lm": [2.70, 2.66, 2.68], "dyt-lm-fp8": [2.71, 2.67, 2.69], rmsnorm: [2.56, 2.58, 2.54], "rmsnorm-fp8": [2.57, 2.585, 2.55] });
    assert.equal(sup.verdict, "supported", sup.reason);
    assert.deepEqual(sup.pairs[0].cost.map((c) => Math.round(c * 1000)), [10, 10, 10]);
    const ns = made({ "dyt-lm-fp8": [2.75, 2.76, 2.74] });
    assert.equal(ns.verdict, "not supported", ns.reason);
    const noisy = made({ "dyt-lm-fp8": [2.70, 2.55, 2.64] });
    assert.equal(noisy.verdict, "inconclusive");
    const dytFails = made({ "dyt-lm-fp8": ["div", 2.6, 2.6] });
    assert.equal(dytFails.verdict, "not supported");
    assert.match(dytFails.reason, /DyT \(LLaMA recipe\)'s FP8 run did not learn on seed\(s\) 1 where its fp32 run learned; RMSNorm's FP8 runs all learned/);
    assert.equal(made({ "rmsnorm-fp8": [4.4, 2.6, 2.6] }).verdict, "supported");
    assert.equal(made({ "rmsnorm-fp8": ["div", 2.6, 2.6], "dyt-lm-fp8": [2.6, "div", 2.6] }).verdict, "not testable");
    const fp32Bad = made({ rmsnorm: [4.4, 2.6, 2.6] });
    assert.equal(fp32Bad.verdict, "not testable");
    assert.match(fp32Bad.reason, /RMSNorm's fp32 run did not learn on seed\(s\) 1/);
    const [row] = lmFp8TrainEntry.claims(sup);
    assert.equal(row!.id, "R-fp8-train (LM)");
    assert.equal(row!.verdict, "supported");
  });

  describe("end to end", () => {
    useTempResultsDirs("dyt-lm-fp8-");
    test("runs at smoke: 2 norms x {fp32, FP8} x 2 seeds, the fp32 ones in lm-rmsnorm-dyt's records; a second run loads", async () => {
      await useEngine("native");
      const { records, summary } = await runLmFp8({ scale: "smoke", verbose: false });
      assert.equal(records.length, 8);
      assert.deepEqual(records.map((r) => [r.arm, r.experiment, r.config.model.matmul ?? "fp32"]).filter((x) => x[0] === "dyt-lm" || x[0] === "dyt-lm-fp8").slice(0, 2), [
        ["dyt-lm", LM_RMSNORM_DYT, "fp32"],
        ["dyt-lm-fp8", LM_FP8_TRAIN, "fp8"],
      ]);
      assert.ok(OUTCOMES.includes(summary.verdict));
      assert.ok(EXPERIMENTS.includes(lmFp8TrainEntry));
      const again = await runLmFp8({ scale: "smoke", verbose: false, cachedOnly: true });
      assert.equal(again.summary.statement, summary.statement);
    });
  });
});
