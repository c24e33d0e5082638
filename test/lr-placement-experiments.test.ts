import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { lrSensitivity, type LrRun } from "../lib/analysis/lrsens";
import { lrVerdict, type LrVariantSummary } from "../lib/experiments/lr-stability";
import { placementVerdict, type PlacementCell } from "../lib/experiments/placement";
import { runPlacement } from "../lib/experiments/placement";
import { runLrStability } from "../lib/experiments/lr-stability";

const L0 = Math.log(10);
const lrs = [1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3];
/** A variant whose runs diverge from `divergeAt` on, with losses flat near the optimum. */
function variant(id: string, divergeAt: number): LrVariantSummary {
  const runs: LrRun[] = lrs.map((lr, i) => ({ lr, loss: i >= divergeAt ? NaN : 0.5, diverged: i >= divergeAt }));
  return { variant: id, label: id, sensitivity: lrSensitivity(runs, L0), spikes: 0, runs: runs.length };
}
const cell = (norm: "layernorm" | "dyt", mean: number, std = 0.5, n = 3): PlacementCell => ({ norm, placement: "post", depth: 4, seeds: [1, 2, 3].slice(0, n), scoredAcc: { mean, std, n }, diverged: 0 });

describe("lr-stability and placement experiments: computed verdicts", () => {
  it("lr: supported iff DyT's max stable lr and near-optimal range match LN's", () => {
    assert.equal(lrVerdict([variant("layernorm", 4), variant("dyt", 4)]).verdict, "supported");
    assert.equal(lrVerdict([variant("layernorm", 5), variant("dyt", 2)]).verdict, "not supported");
    assert.equal(lrVerdict([variant("layernorm", 4)]).verdict, "not testable at this scale");
    // Nothing diverged and the best lr is the grid's top: the stable range is not bracketed.
    const rising = (id: string): LrVariantSummary => {
      const runs: LrRun[] = lrs.map((lr, i) => ({ lr, loss: 2 - 0.3 * i, diverged: false }));
      return { variant: id, label: id, sensitivity: lrSensitivity(runs, L0), spikes: 0, runs: runs.length };
    };
    assert.equal(lrVerdict([rising("layernorm"), rising("dyt")]).verdict, "not testable at this scale");
  });

  it("placement: DyT must keep up with LN in every cell beyond seed noise", () => {
    assert.equal(placementVerdict([cell("layernorm", 80), cell("dyt", 79.8)]).verdict, "supported");
    assert.equal(placementVerdict([cell("layernorm", 80), cell("dyt", 70)]).verdict, "not supported");
    assert.equal(placementVerdict([cell("layernorm", 80, 0, 1), cell("dyt", 80, 0, 1)]).verdict, "not testable at this scale");
  });

  it("bad experiment input names the fix", async () => {
    await assert.rejects(() => runPlacement({ scale: "smoke" }, { placements: ["middle" as never] }), /unknown placement "middle"; valid: pre, post, res-post/);
    await assert.rejects(() => runLrStability({ scale: "smoke" }, { variants: ["batchnorm"] }), /unknown norm-free variant "batchnorm"/);
  });
});
