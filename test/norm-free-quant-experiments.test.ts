import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { claim8Verdict, type NormFreeComparison, type NormFreeVariantSummary } from "../lib/experiments/norm-free";
import { assertVariant } from "../lib/experiments/norm-free";
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
