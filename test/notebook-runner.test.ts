// Headless notebook runs: a passing notebook with a figure, a throwing cell, an un-awaited rejection.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { formatFailure, runNotebooks } from "../lib/notebook/runner";
import { chromiumPath } from "../lib/plot/render";
import { repoRoot } from "../lib/util/paths";

const fixtures = path.join(repoRoot(), "test", "fixtures");
let outDir = "";

before(() => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-nbtest-"));
});
after(() => {
  fs.rmSync(outDir, { recursive: true, force: true });
});

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
  execution_count?: number | null;
  metadata: Record<string, unknown>;
}
interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
}

const text = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join("") : (t ?? ""));

async function run(name: string) {
  return runNotebooks({ notebooks: [path.join(fixtures, name)], outDir, scale: "smoke", cellTimeoutS: 120, log: null, env: { DYT_PLOTLY: "inline" } });
}

test("a passing notebook imports dyt-lab and shows a figure as one HTML + PNG bundle", async () => {
  const res = await run("nb-ok.ipynb");
  const r = res.results[0]!;
  assert.equal(r.ok, true, r.failure ? formatFailure(r) : "");
  assert.equal(res.ok, true);
  const nb = JSON.parse(fs.readFileSync(r.outPath, "utf8")) as Notebook;
  // Nothing injected into the saved copy: same cells, counts 1..n.
  assert.equal(nb.cells.length, 4);
  assert.deepEqual(nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count), [1, 2, 3]);
  assert.equal((nb.metadata.dyt_run as { ok: boolean; scale: string }).scale, "smoke");
  const out1 = nb.cells[1]!.outputs!.map((o) => text(o.text)).join("");
  assert.match(out1, /scale smoke function/);
  const bundles = nb.cells.slice(2).map((c) => c.outputs!.filter((o) => o.output_type === "display_data"));
  assert.equal(bundles[0]!.length, 1, "one output bundle per showFigure");
  assert.equal(bundles[1]!.length, 1);
  const first = bundles[0]![0]!.data!;
  const second = bundles[1]![0]!.data!;
  const html1 = text(first["text/html"] as string | string[]);
  const html2 = text(second["text/html"] as string | string[]);
  assert.ok(html1.includes("window.Plotly"), "figure HTML drives plotly");
  assert.ok(html1.length > 1_000_000, "plotly.js inlined in the first figure");
  assert.ok(html2.length < 200_000, "plotly.js not inlined again in the second figure");
  assert.match(text(first["text/plain"] as string | string[]), /^<Figure "fixture"/);
  if (chromiumPath()) {
    for (const d of [first, second]) {
      const png = Buffer.from(text(d["image/png"] as string | string[]), "base64");
      assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
    }
    assert.ok(html2.includes('<img src="data:image/png;base64,'), "PNG fallback inside the HTML");
  } else {
    console.log("# no chromium: PNG outputs not checked");
  }
});

test("light copies keep each figure as PNG + text only, and go to the asked folder", async () => {
  const lightDir = path.join(outDir, "light");
  const res = await runNotebooks({ notebooks: [path.join(fixtures, "nb-ok.ipynb")], outDir: lightDir, scale: "smoke", cellTimeoutS: 120, log: null, light: true });
  const r = res.results[0]!;
  assert.equal(r.ok, true, r.failure ? formatFailure(r) : "");
  assert.equal(path.dirname(r.outPath), lightDir);
  const raw = fs.readFileSync(r.outPath, "utf8");
  assert.ok(!raw.includes("window.Plotly") && raw.length < 200_000, `no plotly.js, no figure HTML (${raw.length} bytes)`);
  const nb = JSON.parse(raw) as Notebook;
  assert.equal((nb.metadata.dyt_run as { light: boolean }).light, true);
  const bundles = nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === "display_data"));
  assert.equal(bundles.length, 2, "one output per figure");
  for (const b of bundles) {
    if (chromiumPath()) assert.deepEqual(Object.keys(b.data!).sort(), ["image/png", "text/plain"]);
    assert.match(text(b.data!["text/plain"] as string | string[]), /^<Figure "fixture"/);
  }
  assert.match(nb.cells[1]!.outputs!.map((o) => text(o.text)).join(""), /scale smoke function/, "printed text stays");
});

test("a throwing cell fails the run and names the cell", async () => {
  const res = await run("nb-error.ipynb");
  const r = res.results[0]!;
  assert.equal(res.ok, false);
  assert.equal(r.ok, false);
  const f = r.failure!;
  assert.equal(f.kind, "error");
  assert.equal(f.cellNumber, 3);
  assert.equal(f.codeCellNumber, 2);
  assert.equal(f.firstLine, "const n: number = 41;");
  assert.match(`${f.ename}: ${f.evalue}`, /Error: fixture failure 42/);
  const msg = formatFailure(r);
  assert.match(msg, /cell 3 \(code cell 2\): const n: number = 41;/);
  assert.match(msg, /fixture failure 42/);
  // The executed copy is written on failure too; later cells did not run.
  const nb = JSON.parse(fs.readFileSync(r.outPath, "utf8")) as Notebook;
  assert.equal(nb.cells[3]!.execution_count ?? null, null);
  assert.equal((nb.metadata.dyt_run as { ok: boolean }).ok, false);
});

test("an un-awaited rejected promise fails the run", async () => {
  const res = await run("nb-unawaited.ipynb");
  const r = res.results[0]!;
  assert.equal(r.ok, false);
  const f = r.failure!;
  assert.equal(f.kind, "unhandled");
  assert.ok(f.cellNumber === 3 || f.cellNumber === 4, `attributed to cell ${f.cellNumber}`);
  assert.match(f.traceback, /detached fixture rejection/);
  assert.match(formatFailure(r), /un-awaited promise rejection/);
  const nb = JSON.parse(fs.readFileSync(r.outPath, "utf8")) as Notebook;
  assert.equal(nb.cells.length, 4, "no injected cells in the saved copy");
  const errs = nb.cells[f.cellIndex]!.outputs!.filter((o) => o.output_type === "error");
  assert.equal(errs.length, 1, "the error is shown on the cell it is attributed to");
});

test("bad options are refused", async () => {
  await assert.rejects(runNotebooks({ notebooks: [path.join(fixtures, "missing.ipynb")], outDir, log: null }), /not found/);
  await assert.rejects(
    runNotebooks({ notebooks: [path.join(fixtures, "nb-ok.ipynb")], outDir, log: null, scale: "huge" as any }),
    /smoke, quick, full/,
  );
});
