import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { claim8Verdict, type NormFreeComparison, type NormFreeVariantSummary } from "../lib/experiments/norm-free";
import { assertVariant, pickLr, runNormFree, variantOf } from "../lib/experiments/norm-free";
import type { RunRecord } from "../lib/experiments/runner";
import type { VitFashionConfig, VitRunResult } from "../lib/experiments/protocol/legacy";
import { useEngine } from "./helpers";

const ms = (mean: number, std = 0.5, n = 3) => ({ mean, std, n });
const dyt = { variant: "dyt", scoredAcc: ms(80) } as NormFreeVariantSummary;
const cmp = (other: string, diff: number, band = 1): NormFreeComparison => ({ other, diff, band, outcome: diff > band ? "DyT better" : diff < -band ? "DyT worse" : "within noise" });

describe("norm-free and quantization experiments: computed verdicts", () => {
  before(() => useEngine("cpu"));

  it("claim 8 is supported only when DyT beats Fixup and SkipInit beyond noise and is not below sigma-Reparam", () => {
    assert.equal(claim8Verdict(dyt, [cmp("fixup", 3), cmp("skipinit", 4), cmp("sigma-reparam", 0.2)]).verdict, "supported");
    assert.equal(claim8Verdict(dyt, [cmp("fixup", 0.5), cmp("skipinit", 4), cmp("sigma-reparam", 0.2)]).verdict, "not supported");
    assert.equal(claim8Verdict(dyt, [cmp("fixup", 3), cmp("skipinit", 4), cmp("sigma-reparam", -2)]).verdict, "not supported");
    assert.equal(claim8Verdict(dyt, [cmp("fixup", 3), cmp("skipinit", 4)]).verdict, "not testable at this scale");
    assert.equal(claim8Verdict({ ...dyt, scoredAcc: ms(80, 0, 1) }, [cmp("fixup", 3), cmp("skipinit", 4), cmp("sigma-reparam", 0)]).verdict, "not testable at this scale");
    assert.throws(() => assertVariant("batchnorm"), /unknown norm-free variant "batchnorm"; valid: layernorm, rmsnorm, dyt, rezero/);
  });

  it("lr tuning picks the best final validation accuracy, never a diverged run, ties to the smaller lr", () => {
    const rec = (lr: number, acc: number, status = "completed") =>
      ({ config: { model: {}, train: { lr }, norms: ["dyt"] }, result: { status, evals: [{ step: 0, loss: 2, acc: 0.1 }, { step: 10, loss: 1, acc }] } }) as unknown as RunRecord<VitFashionConfig, VitRunResult>;
    const mid = pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.7), rec(1.6e-2, 0.6)]);
    assert.equal(mid.bestLr, 4e-3);
    assert.equal(mid.atEdge, false);
    assert.equal(pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.7), rec(1.6e-2, 0.8)]).atEdge, true);
    // A diverged run's last eval can look good (evaluated before the blow-up): it must not be picked.
    const t = pickLr("dyt", [rec(1e-3, 0.5), rec(4e-3, 0.9, "diverged")]);
    assert.equal(t.bestLr, 1e-3);
    assert.equal(t.grid[1]!.valAcc, null);
    assert.equal(pickLr("dyt", [rec(2e-3, 0.6), rec(1e-3, 0.6)]).bestLr, 1e-3);
    assert.throws(() => pickLr("dyt", []), /no tuning runs for "dyt"/);
  });

  it("NF with and without AGC are different variants of the same method", () => {
    const cfg = (agc?: number) => ({ config: { model: { method: "nf" as const }, train: agc === undefined ? {} : { agc }, norms: ["identity" as const] } });
    assert.equal(variantOf(cfg()), "nf");
    assert.equal(variantOf(cfg(0)), "nf");
    assert.equal(variantOf(cfg(0.01)), "nf-agc");
    assert.deepEqual(assertVariant("nf-agc").train, { agc: 0.01 });
  });

  it("rejects a tuning seed that is also an evaluation seed, naming both", async () => {
    await assert.rejects(
      runNormFree({ scale: "smoke", verbose: false }, { variants: [], tuning: { lrs: [1e-3], seed: 1 } }),
      /tuning.seed 1 is also an evaluation seed; pick a seed outside \[1\]/,
    );
    await assert.rejects(runNormFree({ scale: "smoke", verbose: false }, { variants: [], tuning: { lrs: [0], seed: 7 } }), /tuning.lrs must be positive/);
  });
});
