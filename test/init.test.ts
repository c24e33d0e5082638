import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Rng } from "../lib/util/rng";
import { ParamStore } from "../lib/ops/param";
import { initEngine } from "../lib/engine";

// timm's trunc_normal_(std=0.02) cuts at the absolute values -2 and 2, which at
// std 0.02 never bite: the sampled std must be the asked std (within 1 %).
test("truncNormal: sampled std within 1 % of the asked std (absolute bounds, as timm)", () => {
  const rng = new Rng(7);
  for (const std of [0.02, 0.5]) {
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.truncNormal(std);
      s += x;
      s2 += x * x;
    }
    const sd = Math.sqrt(s2 / n - (s / n) ** 2);
    assert.ok(Math.abs(sd / std - 1) < 0.01, `std ${std}: sampled ${sd.toFixed(5)}`);
  }
});

test("truncNormal: values stay inside [a, b] when the bounds bite", () => {
  const rng = new Rng(3);
  for (let i = 0; i < 10_000; i++) {
    const x = rng.truncNormal(1, -0.5, 0.5);
    assert.ok(x >= -0.5 && x <= 0.5);
  }
  assert.throws(() => rng.truncNormal(1, 1, -1), /empty interval/);
});

test("ParamStore.truncNormal: a 64x256 weight at std 0.02 has std within 1 % of 0.02", async () => {
  await initEngine({ engine: "cpu" });
  const store = new ParamStore(new Rng(11));
  const w = store.truncNormal("w", [256, 256], 0.02);
  const v = w.dataSync();
  let s2 = 0;
  for (const x of v) s2 += x * x;
  const sd = Math.sqrt(s2 / v.length);
  assert.ok(Math.abs(sd / 0.02 - 1) < 0.01, `sampled ${sd}`);
  w.dispose();
});
