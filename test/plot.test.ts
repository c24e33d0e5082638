// Figure builders (trace shapes), HTML, scale parsing, and PNG rendering / showFigure outside tslab.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { notebookScale } from "../lib/notebook/scale";
import {
  aggregateSeeds,
  alphaTraceFigure,
  barFigure,
  chromiumPath,
  closeRenderer,
  curvesFigure,
  figureHtml,
  heatmapFigure,
  heatmapNotes,
  renderPng,
  scatterFigure,
  showFigure,
  strideIndices,
} from "../lib/plot";

after(async () => {
  await closeRenderer();
});

test("curvesFigure: one line per run, same color per label, gaps for NaN", () => {
  const fig = curvesFigure(
    [
      { label: "LN", points: [{ x: 1, y: 3 }, { x: 0, y: 4 }] },
      { label: "LN", points: [{ x: 0, y: 5 }, { x: 1, y: NaN }] },
      { label: "DyT", points: [{ x: 0, y: 4.5 }, { x: 1, y: 2 }] },
    ],
    { metric: "loss", title: "t", logY: true },
  );
  assert.equal(fig.data.length, 3);
  assert.deepEqual(fig.data[0]!.x, [0, 1], "points sorted by x");
  assert.deepEqual(fig.data[0]!.y, [4, 3]);
  assert.deepEqual(fig.data[1]!.y, [5, null]);
  assert.equal(fig.data[0]!.line!.color, fig.data[1]!.line!.color);
  assert.notEqual(fig.data[0]!.line!.color, fig.data[2]!.line!.color);
  assert.deepEqual(fig.data.map((t) => t.showlegend), [true, false, true]);
  assert.equal(fig.layout.yaxis!.type, "log");
  assert.equal(fig.layout.yaxis!.title!.text, "loss");
  assert.equal(fig.layout.xaxis!.title!.text, "step");
  assert.equal(fig.layout.title!.text, "t");
  JSON.parse(JSON.stringify(fig));
});

test("curvesFigure with a band: upper, filled lower, mean per label", () => {
  const fig = curvesFigure(
    [
      { label: "LN", points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] },
      { label: "LN", points: [{ x: 0, y: 3 }, { x: 1, y: 4 }] },
      { label: "DyT", points: [{ x: 0, y: 1 }] },
    ],
    { metric: "loss", x: "epoch", band: "std", showSeeds: true },
  );
  // LN: 2 seeds + upper + lower + mean; DyT (one run): a plain line.
  assert.equal(fig.data.length, 6);
  const [, , upper, lower, mean, dyt] = fig.data;
  assert.equal(lower!.fill, "tonexty");
  assert.equal(upper!.fill, undefined);
  assert.deepEqual(mean!.y, [2, 3]);
  const sd = Math.SQRT2;
  assert.deepEqual(upper!.y, [2 + sd, 3 + sd]);
  assert.deepEqual(lower!.y, [2 - sd, 3 - sd]);
  assert.match(mean!.name!, /LN \(mean ± std, n=2\)/);
  assert.equal(dyt!.name, "DyT");
  assert.equal(fig.layout.xaxis!.title!.text, "epoch");
});

test("aggregateSeeds: sem and minmax, ragged runs", () => {
  const runs = [
    [{ x: 0, y: 1 }, { x: 1, y: 1 }],
    [{ x: 0, y: 3 }],
  ];
  const sem = aggregateSeeds(runs, "sem");
  assert.deepEqual(sem.x, [0, 1]);
  assert.deepEqual(sem.n, [2, 1]);
  assert.deepEqual(sem.mean, [2, 1]);
  assert.equal(sem.upper[0], 2 + Math.SQRT2 / Math.SQRT2);
  const mm = aggregateSeeds(runs, "minmax");
  assert.deepEqual(mm.lower, [1, 1]);
  assert.deepEqual(mm.upper, [3, 1]);
});

test("alphaTraceFigure: one line per layer, depth-colored", () => {
  const fig = alphaTraceFigure([
    { layer: "b0", step: [0, 10], alpha: [0.5, 0.7] },
    { layer: "b1", step: [0, 10], alpha: [0.5, Infinity] },
  ]);
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data.map((t) => t.name), ["b0", "b1"]);
  assert.deepEqual(fig.data[1]!.y, [0.5, null]);
  assert.notEqual(fig.data[0]!.line!.color, fig.data[1]!.line!.color);
  assert.throws(() => alphaTraceFigure([{ layer: "x", step: [0], alpha: [1, 2] }]), /step has 1 values but alpha has 2/);
});

test("barFigure: grouped series with error bars, horizontal", () => {
  const fig = barFigure(
    { categories: ["ViT", "ConvNeXt"], series: [{ name: "LN", values: [80, 81], errors: [0.1, 0.2] }, { name: "DyT", values: [80.5, 81.2] }] },
    { yLabel: "top-1 %" },
  );
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[0]!.x, ["ViT", "ConvNeXt"]);
  assert.deepEqual(fig.data[0]!.error_y!.array, [0.1, 0.2]);
  assert.equal(fig.data[1]!.error_y, undefined);
  assert.equal(fig.layout.barmode, "group");
  const h = barFigure({ categories: ["a"], series: [{ name: "s", values: [1] }] }, { horizontal: true });
  assert.equal(h.data[0]!.orientation, "h");
  assert.deepEqual(h.data[0]!.y, ["a"]);
  assert.throws(() => barFigure({ categories: ["a"], series: [{ name: "s", values: [1, 2] }] }), /categories has 1/);
});

test("heatmapFigure: z grid with labels, annotations, validation", () => {
  const fig = heatmapFigure({ z: [[1, 2, 3], [4, NaN, 6]], x: [0.5, 1, 2], y: ["d=64", "d=128"] }, { annotate: ".1f", zLabel: "loss" });
  assert.equal(fig.data.length, 1);
  const t = fig.data[0]!;
  assert.equal(t.type, "heatmap");
  assert.deepEqual(t.z, [[1, 2, 3], [4, null, 6]]);
  assert.deepEqual(t.x, ["0.5", "1", "2"]);
  assert.equal(t.texttemplate, "%{z:.1f}");
  assert.throws(() => heatmapFigure({ z: [[1, 2], [3]] }), /row 1 has 1 values/);
  assert.throws(() => heatmapFigure({ z: [[1, 2]], x: [1] }), /x has 1 labels for 2 columns/);
});

test("heatmapNotes: a note per chosen cell, placed by the categories' serial numbers (numeric labels are not positions)", () => {
  const notes = heatmapNotes([0.1, 0.5, 4], [0.002, 0.032], (i, j) => (i === 1 && j === 2 ? "✕ diverged" : undefined));
  assert.equal(notes.length, 1);
  assert.deepEqual([notes[0]!.x, notes[0]!.y, notes[0]!.text], [2, 1, "✕ diverged"]);
  assert.deepEqual(heatmapNotes(["a"], ["b"], () => "★", { yshift: 14, color: "#fff" })[0], { x: 0, y: 0, text: "★", hovertext: "a, b", showarrow: false, yshift: 14, font: { color: "#fff", size: 11 } });
});

test("scatterFigure: markers + reference line, diagonal, subsampling", () => {
  const xs = Array.from({ length: 1000 }, (_, i) => i / 100 - 5);
  const fig = scatterFigure(
    [
      { name: "LN in/out", x: xs, y: xs.map((v) => Math.tanh(v) + 0.01) },
      { name: "tanh", x: [-5, 0, 5], y: [-1, 0, 1], mode: "lines" },
    ],
    { maxPoints: 100, diagonal: true, xLabel: "input", yLabel: "output" },
  );
  assert.equal(fig.data.length, 2);
  assert.equal(fig.data[0]!.x!.length, 100);
  assert.equal(fig.data[0]!.mode, "markers");
  assert.equal(fig.data[1]!.x!.length, 3, "lines are not subsampled");
  assert.equal(fig.data[1]!.marker, undefined);
  assert.equal(fig.layout.shapes!.length, 1);
  assert.deepEqual(strideIndices(5, 2), [0, 2]);
  assert.deepEqual(strideIndices(2, 5), [0, 1]);
  const nan = scatterFigure([{ name: "s", x: [1, NaN, 3], y: [1, 2, 3] }]);
  assert.deepEqual(nan.data[0]!.x, [1, 3]);
});

test("figureHtml: plotly.js only when asked, script-safe JSON, PNG fallback", () => {
  const fig = curvesFigure([{ label: "</script><b>", points: [{ x: 0, y: 1 }] }], { metric: "m" });
  const small = figureHtml(fig, { pngBase64: "AAAA" });
  assert.ok(small.length < 10_000);
  assert.ok(!small.includes("</script><b>"), "labels cannot close the script element");
  assert.ok(small.includes('src="data:image/png;base64,AAAA"'));
  const big = figureHtml(fig, { includePlotly: true });
  assert.ok(big.length > 1_000_000);
  assert.match(big, /trust the notebook/);
});

test("notebookScale reads DYT_SCALE", () => {
  const prev = process.env.DYT_SCALE;
  try {
    delete process.env.DYT_SCALE;
    assert.equal(notebookScale(), "quick");
    process.env.DYT_SCALE = "smoke";
    assert.equal(notebookScale(), "smoke");
    process.env.DYT_SCALE = "huge";
    assert.throws(() => notebookScale(), /invalid DYT_SCALE "huge": expected one of smoke, quick, full/);
  } finally {
    if (prev === undefined) delete process.env.DYT_SCALE;
    else process.env.DYT_SCALE = prev;
  }
});

test("renderPng and showFigure outside tslab (saves JSON + PNG, prints a summary)", { skip: chromiumPath() ? false : "no chromium" }, async () => {
  const fig = barFigure({ categories: ["a", "b"], series: [{ name: "s", values: [1, 2] }] }, { title: "bars" });
  const png = await renderPng(fig, { width: 300, height: 200 });
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.equal(png.readUInt32BE(16), 300, "PNG width");
  assert.equal(png.readUInt32BE(20), 200, "PNG height");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-plot-"));
  const logs: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void logs.push(a.join(" "));
  try {
    await showFigure(fig, { savePath: path.join(dir, "bars.json"), width: 300, height: 200 });
  } finally {
    console.log = orig;
  }
  assert.match(logs.join("\n"), /\[figure\] "bars" \(1 trace: bar\), png rendered/);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "bars.json"), "utf8")), JSON.parse(JSON.stringify(fig)));
  assert.equal(fs.readFileSync(path.join(dir, "bars.png")).subarray(1, 4).toString("latin1"), "PNG");
  fs.rmSync(dir, { recursive: true, force: true });
});
