import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { MissingResultError } from "../lib/experiments/runner";
import { SCALES } from "../lib/experiments/scale";
import { runDepthStability } from "../lib/experiments/depth-stability";
import { runLrStability } from "../lib/experiments/lr-stability";
import { runNormFree } from "../lib/experiments/norm-free";
import { runPlacement } from "../lib/experiments/placement";
import { useTempResultsDirs } from "./helpers";

// Every scale of the four migrated experiments resolves into valid jobs (every default filled,
// the train config validated, the named hook registered); with nothing saved, a cached-only run
// asks for its first job by name instead of training.
describe("norm-free, lr-stability, placement, depth-stability: every scale resolves", () => {
  useTempResultsDirs("migrations-");
  const first: Record<string, string> = { "norm-free": "tune-layernorm-lr", "lr-stability": "dyt-lr", placement: "tune-dyt-pre-d2-lr", "depth-stability": "layernorm-d" };
  const runs = { "norm-free": runNormFree, "lr-stability": runLrStability, placement: runPlacement, "depth-stability": runDepthStability };
  for (const [name, run] of Object.entries(runs))
    for (const scale of SCALES)
      it(`${name} at ${scale}`, async () => {
        await assert.rejects(
          () => run({ scale, cachedOnly: true, verbose: false }),
          (e: Error) => e instanceof MissingResultError && e.message.startsWith(`${name}: no saved ${scale} result for run ${first[name]}`),
        );
      });
});
