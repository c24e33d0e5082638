import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { CHANGED_REL, INVARIANT_REL, invarianceTable, runInvariance, summarizeInvariance, type InvarianceRow } from "../lib/experiments/invariance";
import { arm } from "../lib/experiments/protocol/arms";
import type { ProtocolRecord } from "../lib/experiments/protocol/runner";
import { fashionSplits, resolveRun, runSplits, scaleImages } from "../lib/experiments/protocol/task";
import { toyImages } from "./fixtures";
import { useTempResultsDirs } from "./helpers";

const ARMS = ["layernorm", "dyt"] as const;

/** A synthetic evaluation record: `acc` in % (undefined = diverged). */
function rec(armId: string, c: number, seed: number, acc: number | undefined): ProtocolRecord {
  return {
    experiment: "invariance",
    scale: "smoke",
    run: `${armId}-x${c}-s${seed}`,
    seed,
    epoch: 2,
    role: "eval",
    arm: armId,
    label: arm(armId).label,
    axes: { inputScale: c, lr: 1e-3 },
    config: { model: { numClasses: 10, dim: 32, depth: 2 }, data: { trainLimit: 1000 }, train: { steps: 10, batchSize: 32, lr: 1e-3 } },
    result: { status: acc === undefined ? "diverged" : "completed", log: [{ step: 9, loss: 1, lr: 1e-3, gradNorm: 1 }], evals: [], ...(acc === undefined ? {} : { test: { loss: 1, acc: acc / 100 } }), msPerStep: 1, trainWallTimeSec: 1, params: 1 },
  } as unknown as ProtocolRecord;
}

/** Records for every (arm, scale, seed): acc(arm, c, seed). */
function grid(acc: (a: string, c: number, seed: number) => number | undefined, seeds = [1, 2, 3]): ProtocolRecord[] {
  return seeds.flatMap((sd) => [0.1, 1, 10].flatMap((c) => ARMS.map((a) => rec(a, c, sd, acc(a, c, sd)))));
}

const relOf = (rows: InvarianceRow[], norm: string, t: string) => rows.find((r) => r.norm === norm && r.transform === t)!.rel;

describe("invariance: numerical (baselines.md Invariances)", () => {
  before(() => initEngine({ quiet: true }));

  for (const seed of [0, 1]) {
    it(`matches the theory for LN, RMSNorm and DyT (seed ${seed})`, () => {
      const rows = invarianceTable({ seed });
      assert.equal(rows.length, 16);
      for (const r of rows) assert.ok(r.pass, `${r.norm} / ${r.transform}: rel ${r.rel} (expected ${r.expectedInvariant ? "invariant" : "changed"})`);
      // The claims in numbers, not only through `pass`:
      for (const t of ["weight-rescale", "weight-recenter", "example-rescale"]) assert.ok(relOf(rows, "layernorm", t) < INVARIANT_REL, `LN ${t}`);
      assert.ok(relOf(rows, "rmsnorm", "weight-rescale") < INVARIANT_REL);
      assert.ok(relOf(rows, "rmsnorm", "weight-recenter") > CHANGED_REL);
      for (const t of ["weight-rescale", "weight-recenter", "example-rescale"]) assert.ok(relOf(rows, "dyt", t) > CHANGED_REL, `DyT ${t}`);
      assert.ok(relOf(rows, "dyt", "dyt-reparam") < INVARIANT_REL);
      // Controls: LN is not invariant to everything.
      assert.ok(relOf(rows, "layernorm", "unit-rescale") > CHANGED_REL);
      assert.ok(relOf(rows, "layernorm", "data-recenter") > CHANGED_REL);
    });
  }

  it("a large eps breaks LN's scale invariance (the check can fail)", () => {
    const rows = invarianceTable({ eps: 10 });
    assert.ok(!rows.find((r) => r.norm === "layernorm" && r.transform === "weight-rescale")!.pass);
  });

  it("leaves no tensors or variables behind", () => {
    invarianceTable();
    const before = tf.memory().numTensors;
    invarianceTable({ seed: 5 });
    assert.equal(tf.memory().numTensors, before);
  });
});

describe("invariance: training-level parts", () => {
  it("scales images without touching the source", () => {
    const ds = toyImages(4, 1);
    const first = ds.images[0]!;
    const s = scaleImages(ds, 10);
    assert.ok(Math.abs(s.images[0]! - 10 * first) < 1e-5 * Math.abs(10 * first));
    assert.equal(ds.images[0], first);
    assert.equal(scaleImages(ds, 1), ds);
    assert.match(s.normalization.kind, /x10/);
    assert.throws(() => scaleImages(ds, 0), /positive number/);
  });

  it("the input scale is part of the resolved config (cache key) and reaches every split of the run", () => {
    const base = { model: { dim: 32, depth: 2, heads: 2, patchSize: 7 }, train: {}, data: { trainLimit: 50, testLimit: 20 } };
    const r1 = resolveRun(base, arm("dyt"), 1);
    const r10 = resolveRun({ ...base, data: { ...base.data, inputScale: 10 } }, arm("dyt"), 1);
    assert.equal(r1.data.inputScale, undefined, "scale 1 leaves the config as every other experiment's");
    assert.equal(r10.data.inputScale, 10);
    const plain = fashionSplits(50, 20);
    const scaled = runSplits(r10.data);
    for (const k of ["train", "val", "test"] as const) {
      const i = plain[k].images.findIndex((v) => Math.abs(v) > 0.5);
      assert.ok(Math.abs(scaled[k].images[i]! - 10 * plain[k].images[i]!) < 1e-5 * Math.abs(10 * plain[k].images[i]!), k);
    }
  });

  it("verdict: LN flat and DyT moved is supported; both flat is not; a diverged DyT run counts as moved; one seed or a stuck LN is not testable", () => {
    const num = invarianceTable();
    const jitter = (sd: number) => 0.1 * sd;
    // LN within ~0.3 points of x1 at every scale; DyT 10 points lower at x0.1 and 30 at x10.
    const good = grid((a, c, sd) => (a === "layernorm" ? 80 + jitter(sd) - (c === 1 ? 0 : 0.2) : c === 1 ? 80 + jitter(sd) : c === 0.1 ? 70 - jitter(sd) : 50 + jitter(sd)));
    const g = summarizeInvariance("smoke", num, good, ARMS);
    assert.equal(g.verdict, "supported", g.statement);
    assert.ok(g.evidence, "one row of the Holm family");
    const flat = summarizeInvariance("smoke", num, grid((a, c, sd) => 80 + jitter(sd) + (c === 1 ? 0 : a === "layernorm" ? -0.2 : 0.1)), ARMS);
    assert.equal(flat.verdict, "not supported", flat.statement);
    const divergedDyt = summarizeInvariance("smoke", num, grid((a, c, sd) => (a === "dyt" && c === 10 ? undefined : a === "layernorm" ? 80 + jitter(sd) - (c === 1 ? 0 : 0.2) : 80 + jitter(sd) + (c === 1 ? 0 : 0.1))), ARMS);
    assert.equal(divergedDyt.verdict, "supported", divergedDyt.statement);
    // LN moving far beyond the margin refutes the "insensitive" half.
    const lnMoves = summarizeInvariance("smoke", num, grid((a, c, sd) => (c === 1 ? 80 + jitter(sd) : a === "layernorm" ? 75 - jitter(sd) : 60 + jitter(sd))), ARMS);
    assert.equal(lnMoves.verdict, "not supported", lnMoves.statement);
    const oneSeed = summarizeInvariance("smoke", num, grid(() => 80, [1]), ARMS);
    assert.equal(oneSeed.verdict, "not testable");
    const stuck = summarizeInvariance("smoke", num, grid((a, c, sd) => (a === "layernorm" && c === 1 && sd === 2 ? 10 : 80 + jitter(sd))), ARMS);
    assert.equal(stuck.verdict, "not testable");
    assert.match(stuck.reason, /LayerNorm did not learn at input scale 1 on 1 of 3 seeds/);
    const badTheory = num.map((r, i) => (i === 0 ? { ...r, pass: false } : r));
    assert.equal(summarizeInvariance("smoke", badTheory, good, ARMS).verdict, "not testable");
  });
});

describe("invariance: smoke run through the runner", () => {
  useTempResultsDirs("dyt-invariance-");

  it("tunes each arm at input scale 1 and trains every arm at its own pick at every input scale", async () => {
    const { records, summary, numeric } = await runInvariance({ scale: "smoke", verbose: false }, { inputScales: [1, 10], tuning: { lrs: [2e-3, 8e-3], seed: 101 } });
    assert.equal(numeric.length, 16);
    assert.equal(records.length, 2 * 2 * 1);
    for (const r of records) {
      const pick = summary.picks.find((p) => p.arm === r.arm)!;
      assert.equal(r.config.train.lr, pick.bestLr, `${r.run} runs at its arm's tuned lr`);
      assert.equal(r.config.data.inputScale, r.axes.inputScale === 1 ? undefined : 10);
    }
    assert.equal(summary.verdict, "not testable", "one smoke seed has no noise estimate");
  });
});
