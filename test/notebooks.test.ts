import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listNotebooks, runNotebooks, formatFailure } from "../lib/notebook/runner";

// Every notebook of the lab executes headlessly at smoke scale, as in CI.
// Results and runs go to a temporary directory so the committed results stay untouched.
describe("lab notebooks at smoke scale", () => {
  it("execute without a cell error", { timeout: 15 * 60_000 }, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-nb-"));
    const notebooks = listNotebooks();
    assert.ok(notebooks.length >= 1, "the lab has notebooks");
    // Two lanes: kernel start-up and Chromium are partly idle time, so two
    // notebooks at once keep both cores busy.
    const lanes = [notebooks.filter((_, i) => i % 2 === 0), notebooks.filter((_, i) => i % 2 === 1)].filter((l) => l.length);
    const runs = await Promise.all(
      lanes.map((lane) =>
        runNotebooks({
          notebooks: lane,
          scale: "smoke",
          cellTimeoutS: 600,
          outDir: path.join(tmp, "executed"),
          env: { DYT_RESULTS_DIR: path.join(tmp, "results"), DYT_RUNS_DIR: path.join(tmp, "runs") },
          log: null,
        }),
      ),
    );
    const failed = runs.flatMap((r) => r.results).filter((x) => !x.ok);
    assert.equal(failed.length, 0, failed.map(formatFailure).join("\n\n"));
    // The ViT notebook saved its figures (JSON + PNG) beside the smoke results.
    const figs = path.join(tmp, "results", "vit-fashion", "smoke", "figures");
    for (const f of ["tuning.json", "curves.json"]) assert.ok(fs.existsSync(path.join(figs, f)), `${f} figure JSON saved`);
  });
});
