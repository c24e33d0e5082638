import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { CHANGED_REL, INVARIANT_REL, invarianceTable, type InvarianceRow } from "../lib/experiments/invariance-numeric";
import { invarianceVerdict, scaleImages, type ScaleCell } from "../lib/experiments/invariance";
import { toyImages } from "./fixtures";

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

  it("verdict: LN flat and DyT moved is supported; both flat is not; one seed is not testable", () => {
    const num = invarianceTable();
    const cell = (norm: "layernorm" | "dyt", s: number, mean: number, within: boolean | undefined, diverged = 0): ScaleCell => ({
      norm,
      inputScale: s,
      testAcc: { mean, std: 1, n: 3 },
      finalLoss: 0.5,
      diverged,
      ...(within === undefined ? {} : { vsUnit: { diff: 0, within, se: 1 } }),
    });
    const spread = (ln: number, dy: number) => [{ norm: "layernorm" as const, points: ln }, { norm: "dyt" as const, points: dy }];
    const good = [cell("layernorm", 0.1, 80, true), cell("layernorm", 1, 81, undefined), cell("layernorm", 10, 80, true), cell("dyt", 0.1, 70, false), cell("dyt", 1, 80, undefined), cell("dyt", 10, 50, false)];
    assert.equal(invarianceVerdict(num, good, spread(1, 30)).verdict, "supported");
    const flat = good.map((c) => (c.vsUnit ? { ...c, vsUnit: { ...c.vsUnit, within: true } } : c));
    assert.equal(invarianceVerdict(num, flat, spread(1, 1)).verdict, "not supported");
    const divergedDyt = good.map((c) => (c.norm === "dyt" && c.inputScale === 10 ? { ...c, vsUnit: undefined, diverged: 3 } : c));
    assert.equal(invarianceVerdict(num, divergedDyt, spread(1, 30)).verdict, "supported");
    const oneSeed = good.map((c) => ({ ...c, vsUnit: undefined }));
    assert.equal(invarianceVerdict(num, oneSeed, spread(1, 30)).verdict, "not testable at this scale");
  });
});
