import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ClaimRow } from "../lib/experiments/claims";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { adjustClaims } from "../lib/experiments/report";
import type { ExperimentContext } from "../lib/experiments/runner";
import { RULES, scaledRules, type ProtocolRules } from "../lib/experiments/protocol/rules";
import { runAlphaStd } from "../lib/experiments/alpha-std/spec";
import { runAlpha0 } from "../lib/experiments/alpha0/spec";
import { runDepthStability } from "../lib/experiments/depth-stability/spec";
import { runDnaHyena } from "../lib/experiments/dna-hyena/spec";
import { runWav2VecComparisons } from "../lib/experiments/wav2vec-ln-dyt/spec";
import { runWav2VecScurves } from "../lib/experiments/wav2vec-scurves/spec";
import { runDitLnDyt } from "../lib/experiments/dit-ln-dyt/spec";
import { runMaeLnDyt } from "../lib/experiments/mae-ln-dyt/spec";
import { runDinoLnDyt } from "../lib/experiments/dino-ln-dyt/spec";
import { runGainBias } from "../lib/experiments/gain-bias/spec";
import { runInvariance } from "../lib/experiments/invariance/spec";
import { runLmAlpha0 } from "../lib/experiments/lm-alpha0/spec";
import { runLmQuant } from "../lib/experiments/lm-quant/spec";
import { runLmEmbedScale } from "../lib/experiments/lm-embed-scale/spec";
import { runLmLrStability } from "../lib/experiments/lm-lr-stability/spec";
import { runLmNormFree } from "../lib/experiments/lm-norm-free/spec";
import { runLmFp8 } from "../lib/experiments/lm-fp8-train/spec";
import { runLmToFailure } from "../lib/experiments/lm-to-failure/spec";
import { runConvnextScurves } from "../lib/experiments/convnext-scurves/spec";
import { runLmRmsnormDyt } from "../lib/experiments/lm-rmsnorm-dyt/spec";
import { runLrStability } from "../lib/experiments/lr-stability/spec";
import { runNormFree } from "../lib/experiments/norm-free/spec";
import { runPlacement } from "../lib/experiments/placement/spec";
import { runQuantization } from "../lib/experiments/quantization/spec";
import { runScurves } from "../lib/experiments/scurves/spec";
import { runSquash } from "../lib/experiments/squash/spec";
import { runVisionFamilies } from "../lib/experiments/vision-families/spec";
import { runVitFashion } from "../lib/experiments/vit-fashion/spec";

/** Each experiment's summarising run, which takes the decision rules (the registry's entries use the defaults). */
type RunWithRules = (ctx: ExperimentContext, override: Record<string, never>, rules: ProtocolRules) => Promise<{ summary: unknown }>;
const RUNS: Record<string, RunWithRules> = {
  "vit-fashion": runVitFashion,
  scurves: runScurves,
  "alpha-std": runAlphaStd,
  squash: runSquash,
  alpha0: runAlpha0,
  "norm-free": runNormFree,
  "lm-rmsnorm-dyt": runLmRmsnormDyt,
  "lm-alpha0": runLmAlpha0,
  "lm-quant": runLmQuant,
  "lm-embed-scale": runLmEmbedScale,
  "lm-lr-stability": runLmLrStability,
  "lm-norm-free": runLmNormFree,
  "lm-fp8-train": runLmFp8,
  "lm-to-failure": runLmToFailure,
  "convnext-scurves": runConvnextScurves,
  "gain-bias": runGainBias,
  invariance: runInvariance,
  quantization: runQuantization,
  "lr-stability": runLrStability,
  placement: runPlacement,
  "depth-stability": runDepthStability,
  "vision-families": (ctx, override, rules) => runVisionFamilies(ctx, {}, override, rules),
  "dna-hyena": runDnaHyena,
  // Both comparisons, as the entry returns them (amendment 3's alpha0 2 rows are in the Holm family too).
  "wav2vec-ln-dyt": runWav2VecComparisons,
  "wav2vec-scurves": (ctx, _override, rules) => runWav2VecScurves(ctx, rules),
  "dit-ln-dyt": runDitLnDyt,
  "mae-ln-dyt": runMaeLnDyt,
  "dino-ln-dyt": runDinoLnDyt,
};

const RESULTS = path.resolve(__dirname, "../../results");

describe("robustness of committed verdicts", () => {
  test("the robustness check knows every registered experiment", () => {
    assert.deepEqual(Object.keys(RUNS).sort(), EXPERIMENTS.map((e) => e.name).sort(), "add the new experiment's run function to RUNS");
  });

  test("no committed full verdict (per experiment, and after Holm) flips when every threshold moves by 1 %", async () => {
    const committed = EXPERIMENTS.filter((e) => fs.existsSync(path.join(RESULTS, e.name, "full", "summary.json")));
    if (committed.length === 0) return; // a fresh lab: nothing committed to check
    // Summarising saves summaries: work on copies so the committed ones are never rewritten.
    const saved = process.env.DYT_RESULTS_DIR;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-robust-all-"));
    for (const e of committed) {
      fs.cpSync(path.join(RESULTS, e.name, "full"), path.join(tmp, e.name, "full"), { recursive: true, filter: (src) => path.basename(src) !== "figures" });
    }
    process.env.DYT_RESULTS_DIR = tmp;
    try {
      const table = async (factor: number): Promise<{ rows: string[]; adjusted: string[] }> => {
        const rules = scaledRules(factor, RULES);
        const rows: ClaimRow[] = [];
        for (const e of committed) {
          const { summary } = await RUNS[e.name]!({ scale: "full", cachedOnly: true, verbose: false }, {}, rules);
          rows.push(...e.claims(summary));
        }
        return { rows: rows.map((r) => `${r.id}: ${r.verdict}`), adjusted: adjustClaims(rows, rules).map((r) => `${r.id}: ${r.verdict}`) };
      };
      const base = await table(1);
      assert.ok(base.rows.length >= committed.length, "every committed experiment gives claims rows");
      for (const factor of [0.99, 1.01]) {
        const moved = await table(factor);
        assert.deepEqual(moved.rows, base.rows, `a verdict flipped with thresholds x${factor}`);
        assert.deepEqual(moved.adjusted, base.adjusted, `a Holm-adjusted verdict flipped with thresholds x${factor}`);
      }
    } finally {
      if (saved !== undefined) process.env.DYT_RESULTS_DIR = saved;
      else delete process.env.DYT_RESULTS_DIR;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
