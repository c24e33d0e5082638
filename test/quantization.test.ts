import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { armSummary, captureLinearInputs, outlierVerdict, quantHooks, quantVerdict, runQuantization, summarizeQuantization, QUANT_SCHEMES, type QuantMeasures } from "../lib/experiments/quantization";
import { arm } from "../lib/experiments/protocol/arms";
import type { ProtocolRecord } from "../lib/experiments/protocol/runner";
import { ViT } from "../lib/models";
import { TOY_VIT } from "./fixtures";
import { useEngine, useTempResultsDirs } from "./helpers";

const ARMS = ["layernorm", "dyt"] as const;
const MODEL = "ViT width 32, depth 3 (1,234 parameters)";

/** A synthetic evaluation record with the hook's measures in its last log line. */
function rec(armId: string, seed: number, o: { acc?: number; drop?: number; outliers?: number; kurtosis?: number }): ProtocolRecord {
  const acc = o.acc ?? 85;
  const quant: QuantMeasures = {
    outliersAbs: { count: o.outliers ?? 0, features: [] },
    outliersRel: { count: 0, features: [] },
    tensors: [{ layer: 0, tensor: "attn.qkv", maxAbs: 5, rms: 1, maxOverRms: 5, kurtosis: o.kurtosis ?? 3 }],
    quantAcc: Object.fromEntries(QUANT_SCHEMES.map((s) => [s, (acc - (o.drop ?? 0.3)) / 100])),
  };
  return {
    experiment: "quantization",
    scale: "smoke",
    run: `${armId}-s${seed}`,
    seed,
    epoch: 2,
    role: "eval",
    arm: armId,
    label: arm(armId).label,
    axes: { lr: 1e-3 },
    config: { model: { numClasses: 10, dim: 32, depth: 3 }, data: { trainLimit: 1000 }, train: { steps: 10, batchSize: 32, lr: 1e-3 } },
    result: { status: "completed", log: [{ step: 9, loss: 1, lr: 1e-3, gradNorm: 1, quant }], evals: [], test: { loss: 1, acc: acc / 100 }, msPerStep: 1, trainWallTimeSec: 1, params: 1234 },
  } as unknown as ProtocolRecord;
}

const three = (f: (seed: number) => ProtocolRecord) => [1, 2, 3].map(f);

describe("quantization: computed verdicts", () => {
  it("R-quant follows the paired data: equal drops are supported, DyT losing 1.7 points more is not, one seed is not testable", () => {
    const ln = armSummary(three((s) => rec("layernorm", s, { drop: 0.3 + 0.05 * s })), "layernorm");
    const dy = armSummary(three((s) => rec("dyt", s, { drop: 0.3 + 0.04 * s })), "dyt");
    assert.equal(quantVerdict(ln, dy).verdict, "supported");
    const worse = armSummary(three((s) => rec("dyt", s, { drop: 2 + 0.05 * s })), "dyt");
    assert.equal(quantVerdict(ln, worse).verdict, "not supported");
    assert.equal(quantVerdict(ln, undefined).verdict, "not testable");
    const one = (a: string) => armSummary([rec(a, 1, {})], a);
    assert.equal(quantVerdict(one("layernorm"), one("dyt")).verdict, "not testable");
    // Paired over seeds: the evidence is DyT's change minus LN's, per seed.
    const e = quantVerdict(ln, dy).evidence!;
    assert.equal(e.test.n, 3);
    assert.ok(Math.abs(e.test.mean - 0.01 * 2) < 1e-9, `mean ${e.test.mean}`);
  });

  it("R-quant is not testable when an arm did not learn", () => {
    const ln = armSummary(three((s) => rec("layernorm", s, {})), "layernorm");
    const stuck = armSummary(three((s) => rec("dyt", s, { acc: s === 2 ? 10 : 80 })), "dyt");
    const v = quantVerdict(ln, stuck);
    assert.equal(v.verdict, "not testable");
    assert.match(v.reason, /DyT did not learn on 1 of 3 seeds/);
  });

  it("R-outliers is not testable with zero outlier features in either arm, and says which model was tried", () => {
    const ln = armSummary(three((s) => rec("layernorm", s, { outliers: 0, kurtosis: 6 })), "layernorm");
    const dy = armSummary(three((s) => rec("dyt", s, { outliers: 0, kurtosis: 3 })), "dyt");
    const v = outlierVerdict(ln, dy, MODEL);
    assert.equal(v.verdict, "not testable", "lower kurtosis alone is not outlier features");
    assert.match(v.reason, /no outlier features at this size/);
    assert.match(v.reason, /largest model tried: ViT width 32, depth 3 \(1,234 parameters\)/);
    assert.equal(v.evidence, undefined);
  });

  it("R-outliers follows the paired counts once outlier features exist", () => {
    const ln = armSummary(three((s) => rec("layernorm", s, { outliers: [3, 4, 3][s - 1] })), "layernorm");
    assert.equal(outlierVerdict(ln, armSummary(three((s) => rec("dyt", s, { outliers: [0, 0, 1][s - 1] })), "dyt"), MODEL).verdict, "supported");
    assert.equal(outlierVerdict(ln, armSummary(three((s) => rec("dyt", s, { outliers: [3, 4, 4][s - 1] })), "dyt"), MODEL).verdict, "not supported");
    // Outliers in one arm only are enough for the precondition.
    const none = armSummary(three((s) => rec("layernorm", s, { outliers: 0 })), "layernorm");
    assert.notEqual(outlierVerdict(none, armSummary(three((s) => rec("dyt", s, { outliers: [2, 3, 2][s - 1] })), "dyt"), MODEL).verdict, "not testable");
    assert.equal(outlierVerdict(ln, undefined, MODEL).verdict, "not testable");
  });

  it("the summary names the model in the R-outliers reason and keeps both rows' evidence", () => {
    const s = summarizeQuantization("smoke", [...three((sd) => rec("layernorm", sd, {})), ...three((sd) => rec("dyt", sd, {}))], ARMS);
    assert.equal(s.model, "ViT width 32, depth 3 (1,234 parameters)");
    assert.equal(s.outliers.verdict, "not testable");
    assert.match(s.outliers.reason, /largest model tried: ViT width 32, depth 3/);
    assert.equal(s.quantization.verdict, "supported");
    assert.equal(s.byArm.map((b) => b.label).join(","), "LayerNorm,DyT");
  });
});

describe("quantization: measurements on a model", () => {
  before(() => useEngine("cpu"));

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

describe("quantization: smoke run through the runner", () => {
  useTempResultsDirs("dyt-quant-");

  it("trains LN and DyT at their tuned lrs; the hook's measures are in the saved record", async () => {
    const { records, summary } = await runQuantization({ scale: "smoke", verbose: false });
    assert.equal(records.length, 2);
    for (const r of records) {
      const q = r.result.quant!;
      assert.ok(q, `${r.run}: measures in the record`);
      assert.equal(Object.keys(q.quantAcc).length, QUANT_SCHEMES.length);
      assert.ok(q.tensors.length === 3 * r.config.model.depth);
      assert.equal(r.config.train.lr, summary.picks.find((p) => p.arm === r.arm)!.bestLr);
    }
    assert.equal(summary.quantization.verdict, "not testable", "one smoke seed");
  });
});
