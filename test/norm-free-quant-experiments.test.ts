import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { claim8Verdict, type NormFreeComparison, type NormFreeVariantSummary } from "../lib/experiments/norm-free";
import { assertVariant, pickLr, runNormFree, variantOf } from "../lib/experiments/norm-free";
import type { RunRecord } from "../lib/experiments/runner";
import type { VitFashionConfig, VitRunResult } from "../lib/experiments/protocol/legacy";
import { captureLinearInputs, outlierVerdict, quantHooks, quantVerdict, QUANT_SCHEMES, type QuantNormSummary } from "../lib/experiments/quantization";
import { ViT } from "../lib/models";
import { TOY_VIT } from "./fixtures";
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

  it("quantisation and outlier verdicts follow the data", () => {
    const drop = (d: number) => Object.fromEntries(QUANT_SCHEMES.map((s) => [s, ms(d, 0.05)]));
    const base = { seeds: [1, 2, 3], diverged: 0, fp32Acc: ms(85), outliersAbs: ms(0), outliersRel: ms(0), maxOverRms: ms(5) };
    const ln = { ...base, norm: "layernorm", drop: drop(0.3), kurtosis: ms(6, 0.3) } as QuantNormSummary;
    const dy = { ...base, norm: "dyt", drop: drop(0.3), kurtosis: ms(3, 0.3) } as QuantNormSummary;
    assert.equal(quantVerdict(ln, dy).verdict, "supported");
    assert.equal(quantVerdict(ln, { ...dy, drop: drop(2) }).verdict, "not supported");
    assert.equal(outlierVerdict(ln, dy).verdict, "supported");
    assert.equal(outlierVerdict(ln, { ...dy, kurtosis: ms(6.1, 0.3) }).verdict, "not supported");
    assert.equal(outlierVerdict(ln, undefined).verdict, "not testable at this scale");
  });

  it("captures q/k/v, Wo and fc1 inputs per block; every quantisation scheme changes the logits a little and leaks nothing", () => {
    const m = new ViT({ ...TOY_VIT, norm: "dyt", seed: 3 });
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, "float32", 2);
    const layers = captureLinearInputs(m, x);
    assert.equal(layers.length, TOY_VIT.depth);
    assert.deepEqual(layers.map((l) => l.map((t) => t.features)), [[16, 16, 16], [16, 16, 16]]);
    assert.equal(layers[0]![0]!.positions, 4 * 5);
    const y0 = m.forward(x);
    const ref = Array.from(y0.dataSync());
    const before = tf.memory().numTensors;
    for (const s of QUANT_SCHEMES) {
      const y = m.forward(x, quantHooks(s));
      const d = Array.from(y.dataSync()).reduce((a, v, i) => Math.max(a, Math.abs(v - ref[i]!)), 0);
      assert.ok(d > 0 && d < 0.5, `${s}: max logit change ${d}`);
      y.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y0]);
    m.dispose();
  });
});
