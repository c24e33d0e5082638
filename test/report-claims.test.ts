/**
 * collectClaims in cached-only mode: an experiment with no saved results at
 * the scale gets a "not testable" row naming the command, without running
 * its code (which could first build its data set: the speech pool takes
 * ~27 min).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { collectClaims } from "../lib/experiments/report";
import { useTempResultsDirs } from "./helpers";

describe("collectClaims, cached-only", () => {
  useTempResultsDirs("dyt-report-");
  test("an experiment with no saved results reads not testable and builds no data", async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-report-data-"));
    const saved = process.env.DYT_DATA_DIR;
    process.env.DYT_DATA_DIR = data;
    try {
      const lines: string[] = [];
      const rows = await collectClaims("full", { cachedOnly: true, verbose: false }, ["wav2vec-ln-dyt"], (l) => lines.push(l));
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.verdict, "not testable");
      assert.match(rows[0]!.reason!, /^wav2vec-ln-dyt: no saved full results \(run `npm run exp -- wav2vec-ln-dyt --scale full`\)\. The previous protocol's outcomes/);
      assert.deepEqual(fs.readdirSync(data), [], "nothing was built in the data folder");
    } finally {
      if (saved === undefined) delete process.env.DYT_DATA_DIR;
      else process.env.DYT_DATA_DIR = saved;
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});
