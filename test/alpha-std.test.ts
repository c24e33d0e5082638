import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { ViT } from "../lib/models";
import { train } from "../lib/train";
import { meanTokenStd } from "../lib/analysis/stats";
import { acrossLayerR, alphaStdVerdict, readAlphaStd, rInterval, runAlphaStd, setReading, summarizeAlphaStd, ALPHA_STD_RULE, ALPHA_STD_SCALES, type AlphaStdCheckpoint, type AlphaStdPoint } from "../lib/experiments/alpha-std";
import { probeImages } from "../lib/experiments/protocol/probe";
import type { ProtocolRecord } from "../lib/experiments/protocol/runner";
import { TOY_VIT, toyImages } from "./fixtures";
import { useTempResultsDirs } from "./helpers";

const probeCfg = { images: 8, seed: 3, maxRows: 64 };
const BLOCKS = ["blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "blocks.1.norm2", "blocks.2.norm1"];
const WITH_FINAL = ["blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "blocks.1.norm2", "norm"];

function point(step: number, alpha: number[], std: number[], layers = BLOCKS.slice(0, alpha.length)): AlphaStdPoint {
  return { step, layers, alpha, std, tokenStd: std };
}

/** A synthetic evaluation record: init reading (prepare step) and one reading at the end (hook log line). */
function rec(seed: number, std: number[], alphaEnd: number[], opts: { layers?: string[]; acc?: number } = {}): ProtocolRecord {
  const layers = opts.layers ?? BLOCKS;
  return {
    experiment: "alpha-std",
    scale: "smoke",
    run: `dyt-s${seed}`,
    seed,
    epoch: 2,
    role: "eval",
    arm: "dyt",
    label: "DyT",
    axes: {},
    config: { model: { numClasses: 10, depth: 3 }, normResolved: { alpha0: 0.5 }, data: { trainLimit: 1000 }, train: { steps: 10, batchSize: 32, lr: 1e-3 } },
    result: {
      status: "completed",
      log: [{ step: 9, loss: 1, lr: 1e-3, gradNorm: 1, alphaStd: point(10, alphaEnd, std, layers) }],
      evals: [],
      test: { loss: 1, acc: opts.acc ?? 0.8 },
      prepared: { alphaStd: point(0, std.map(() => 0.5), std, layers), lnInit: point(0, std.map(() => NaN), std, layers) },
      msPerStep: 1,
      trainWallTimeSec: 1,
      params: 1,
    },
  } as unknown as ProtocolRecord;
}

describe("alpha-std: pure parts", () => {
  it("mean per-token std", () => {
    // rows [1,3] (std 1) and [0,0] (std 0)
    assert.equal(meanTokenStd([1, 3, 0, 0], 2, 2), 0.5);
    assert.throws(() => meanTokenStd([1, 2, 3], 2, 2), /rows 2 x C 2/);
  });

  it("across-layer r: alpha proportional to 1/std gives 1; equal alphas (init) give NaN; the final norm can flip r", () => {
    const std = [0.5, 1, 2, 4];
    assert.ok(Math.abs(acrossLayerR(point(1, std.map((s) => 0.3 / s), std)) - 1) < 1e-12);
    assert.ok(Math.abs(acrossLayerR(point(1, std.map((s) => s), std)) + 0.9) < 0.2); // alpha grows with std: negative r
    assert.ok(Number.isNaN(acrossLayerR(point(0, [0.5, 0.5, 0.5, 0.5], std))));
    // The final norm (class token only) can dominate r: the block set drops it.
    const blocksAndFinal = point(1, [0.3, 0.2, 0.25, 5], [5, 2, 3, 0.1], ["blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "norm"]);
    assert.ok(acrossLayerR(blocksAndFinal) > 0.9);
    assert.ok(acrossLayerR(blocksAndFinal, "std", "blocks") < 0, "without the final norm the relation here is inverted");
  });

  it("the r interval is on Fisher's z; a set supports, refutes or is inconclusive by the stated rule", () => {
    const iv = rInterval([0.9, 0.8, 0.7], 0.95);
    assert.ok(iv.ci[0] > 0 && iv.ci[0] < 0.5 && iv.ci[1] < 1 && iv.mean > 0.7 && iv.mean < 0.9, JSON.stringify(iv));
    assert.equal(setReading(iv), "supports");
    assert.equal(setReading(rInterval([0.1, 0.0, 0.2], 0.95)), "refutes");
    assert.equal(setReading(rInterval([0.9, 0.8, -0.1], 0.95)), "inconclusive", "a wide CI decides nothing");
    assert.equal(setReading(rInterval([0.9], 0.95)), "inconclusive");
    // r = 1 on every seed stays finite.
    const one = rInterval([1, 1, 1], 0.95);
    assert.ok(one.mean > 0.999 && one.ci[0] > 0.999);
  });

  it("summary and verdict: r = 1 in every seed is supported; an unrelated alpha is not; 2 seeds are not testable", () => {
    const std = [0.5, 1, 2, 4, 8];
    const good = summarizeAlphaStd("smoke", [1, 2, 3].map((s) => rec(s, std, std.map((x) => (0.4 / x) * (1 + 0.01 * s)))));
    assert.equal(good.verdict, "supported", good.statement);
    const last = good.checkpoints.at(-1)!;
    assert.ok(Math.abs(last.blocks.mean - 1) < 1e-5 && Math.abs(last.logLogSlope - 1) < 1e-9);
    assert.ok(Number.isNaN(good.checkpoints[0]!.blocks.mean), "init has equal alphas: no r");
    const bad = summarizeAlphaStd("smoke", [1, 2, 3].map((s) => rec(s, std, [0.5, 0.3, 0.6, 0.2, 0.5].map((a) => a + 0.05 * s))));
    assert.equal(bad.verdict, "not supported", bad.statement);
    assert.equal(summarizeAlphaStd("smoke", [1, 2].map((s) => rec(s, std, std.map((x) => 0.4 / x)))).verdict, "not testable");
  });

  it("claim 4 with and without the final norm: agreement decides, disagreement is inconclusive", () => {
    // Block norms: alpha = 0.4/std exactly (r = 1); the final norm has a tiny std but a small alpha, which drags r over all layers below 0.
    const std = [0.5, 1, 2, 4, 0.05];
    const alpha = (s: number) => [0.8, 0.4, 0.2, 0.1, 0.05].map((a) => a * (1 + 0.01 * s));
    const flip = summarizeAlphaStd("smoke", [1, 2, 3].map((s) => rec(s, std, alpha(s), { layers: WITH_FINAL })));
    assert.equal(flip.readings.blocks, "supports");
    assert.equal(flip.readings.all, "refutes");
    assert.equal(flip.verdict, "inconclusive");
    assert.match(flip.reason, /the final norm flips it/);
    assert.match(flip.statement, /block DyT layers: r = 1\.00/);
    // Both sets agree when the final norm follows the same law.
    const agree = summarizeAlphaStd("smoke", [1, 2, 3].map((s) => rec(s, std, std.map((x) => (0.02 / x) * (1 + 0.01 * s)), { layers: WITH_FINAL })));
    assert.equal(agree.verdict, "supported", agree.statement);
    // Both with and without the final norm are reported per checkpoint.
    assert.ok(Number.isFinite(flip.checkpoints.at(-1)!.all.mean) && Number.isFinite(flip.checkpoints.at(-1)!.blocks.mean));
  });

  it("direct verdicts: the rule's thresholds, a run that did not learn, too few block layers", () => {
    const cp = (b: number[], a: number[] = b): AlphaStdCheckpoint => ({ step: 5, seeds: b.length, blocks: rInterval(b, 0.95), all: rInterval(a, 0.95), logLogSlope: 1, meanRTokenStd: 0 });
    const learned = ["learned", "learned", "learned"];
    assert.equal(alphaStdVerdict([cp([0.9, 0.8, 0.7])], learned, 4).verdict, "supported");
    // One seed with r < 0: the CI is wide, nothing is decided (was "not supported" under the old rule; never "supported").
    const wide = alphaStdVerdict([cp([0.9, 0.8, -0.1])], learned, 4);
    assert.equal(wide.verdict, "inconclusive");
    assert.match(wide.reason, new RegExp(`CI wider than ${ALPHA_STD_RULE.maxCiWidth}`));
    assert.equal(alphaStdVerdict([cp([0.1, 0.0, 0.2])], learned, 4).verdict, "not supported");
    assert.equal(alphaStdVerdict([cp([0.9, 0.8, 0.7])], ["learned", "did not learn", "learned"], 4).verdict, "not testable");
    assert.equal(alphaStdVerdict([cp([0.9, 0.8, 0.7])], learned, 2).verdict, "not testable");
    // The thresholds come from the rule object: a stricter minR turns the same data inconclusive.
    assert.equal(alphaStdVerdict([cp([0.9, 0.8, 0.7])], learned, 4, undefined, { ...ALPHA_STD_RULE, minR: 0.9 }).verdict, "inconclusive");
  });
});

describe("alpha-std: readings on a model", () => {
  before(() => initEngine({ quiet: true }));

  it("reads alpha0 and the population std of each norm input, and leaks nothing", () => {
    const probe = probeImages(toyImages(32, 1, "val"), 8, 3);
    const m = new ViT({ ...TOY_VIT, norm: "dyt", normOptions: { alpha0: 0.7 }, seed: 2 });
    readAlphaStd(m, probe, probeCfg, 0); // warm-up
    const before = tf.memory().numTensors;
    const p = readAlphaStd(m, probe, probeCfg, 0);
    assert.equal(tf.memory().numTensors, before, "readAlphaStd must not leave tensors behind");
    assert.deepEqual(p.layers, m.norms().map((n) => n.name));
    assert.ok(p.alpha.every((a) => Math.abs(a - 0.7) < 1e-7));
    // Independent check of the first norm's input std: recompute it from a hooked forward.
    const std0 = tf.tidy(() => {
      let s = NaN;
      m.forward(probe, { onNorm: (name, x) => { if (name === p.layers[0]) s = Math.sqrt(tf.moments(x).variance.dataSync()[0]!); } });
      return s;
    });
    assert.ok(Math.abs(p.std[0]! - std0) < 1e-6 * std0);
    assert.ok(p.tokenStd.every((s) => s > 0));
    probe.dispose();
    m.dispose();
  });

  it("as a training hook it keeps the trainer's leak check quiet", async () => {
    const data = { train: toyImages(128, 1), eval: toyImages(32, 2, "val") };
    const probe = probeImages(data.eval, 8, 3);
    const m = new ViT({ ...TOY_VIT, norm: "dyt", seed: 2 });
    const points: AlphaStdPoint[] = [];
    const r = await train(m, data, { steps: 8, batchSize: 16, logEvery: 2, evalEvery: 8, evalLimit: 32, evalBatchSize: 32, warmupSteps: 1, checkpointEvery: 0, lr: 3e-3 }, {
      progress: false,
      hooks: [{ name: "alpha-std", onLog: (step, model) => void points.push(readAlphaStd(model, probe, probeCfg, step + 1)) }],
    });
    assert.equal(r.status, "completed");
    assert.equal(points.length, 5); // steps 0, 2, 4, 6 and the last (7)
    assert.ok(points.at(-1)!.alpha.some((a) => a !== 0.5), "alpha moved during training");
    probe.dispose();
    m.dispose();
  });
});

describe("alpha-std: smoke run through the runner", () => {
  useTempResultsDirs("dyt-alpha-std-");

  it("tunes DyT's lr, reads alpha and 1/std at init (with the LN model's) and during training, in the saved record", async () => {
    const { records, summary } = await runAlphaStd({ scale: "smoke", verbose: false });
    assert.equal(records.length, ALPHA_STD_SCALES.smoke.seeds.length);
    for (const r of records) {
      const steps = r.result.points.map((p) => p.step);
      assert.equal(steps[0], 0);
      assert.equal(steps.at(-1), r.config.train.steps, "a reading at the end of training");
      assert.ok(steps.length >= 3);
      assert.ok(r.result.points[0]!.alpha.every((a) => a === 0.5));
      assert.ok(r.result.lnInit && r.result.lnInit.std.every((s) => s > 0));
      assert.ok(Number.isNaN(r.result.lnInit.alpha[0]!), "the LN model has no alpha");
    }
    assert.ok(summary.pick && records.every((r) => r.config.train.lr === summary.pick!.bestLr));
    assert.equal(summary.verdict, "not testable", "two smoke seeds are fewer than the rule needs");
  });
});
