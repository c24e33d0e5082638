import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";
import { formatCell, fromDataFrame, inTslab, showTable, tableToHtml, tableToMarkdown, tableToText, toDataFrame, type Row } from "../lib/tables";

const rows: Row[] = [
  { norm: "layernorm", acc: 0.91234, params: 1200, note: "a|b" },
  { norm: "dyt", acc: 0.9, params: 1200 },
  { norm: "rmsnorm", acc: 0.000012, params: 1100, note: "<ok>" },
];

test("tableToMarkdown: aligned columns, digits, escaping, missing cells", () => {
  assert.equal(
    tableToMarkdown(rows, 3),
    [
      "| norm | acc | params | note |",
      "| --- | ---: | ---: | --- |",
      "| layernorm | 0.912 | 1200 | a\\|b |",
      "| dyt | 0.900 | 1200 |  |",
      "| rmsnorm | 1.20e-5 | 1100 | <ok> |",
      "",
    ].join("\n"),
  );
  assert.ok(tableToMarkdown(rows, 2, "Results").startsWith("**Results**\n\n| norm |"));
  assert.equal(tableToMarkdown([], 3), "(empty table)\n");
});

test("formatCell", () => {
  assert.equal(formatCell(3), "3");
  assert.equal(formatCell(-2.5, 2), "-2.50");
  assert.equal(formatCell(NaN), "NaN");
  assert.equal(formatCell(-Infinity), "-inf");
  assert.equal(formatCell(0.0004, 3), "4.00e-4");
  assert.equal(formatCell(0.0005, 3), "0.001");
  assert.equal(formatCell("x"), "x");
});

test("tableToText and tableToHtml", () => {
  const text = tableToText(rows, { title: "T", digits: 2 });
  assert.equal(text.split("\n")[0], "T");
  assert.equal(text.split("\n")[1], "norm          acc  params  note");
  assert.equal(text.split("\n")[3], "layernorm    0.91    1200  a|b");
  const html = tableToHtml(rows, { title: "A & B" });
  assert.ok(html.includes("<caption") && html.includes("A &amp; B"));
  assert.ok(html.includes("&lt;ok&gt;"));
  assert.ok(html.includes('text-align:right">0.912</td>'));
});

test("toDataFrame (danfojs-node) round-trips rows", () => {
  const df = toDataFrame(rows);
  assert.deepEqual(df.columns, ["norm", "acc", "params", "note"]);
  assert.deepEqual(df.shape, [3, 4]);
  const back = fromDataFrame(df);
  assert.equal(back[0]!.acc, 0.91234);
  assert.equal(back[1]!.note, "");
  assert.ok(tableToMarkdown(df, 3).includes("| layernorm | 0.912 | 1200 | a\\|b |"));
  assert.deepEqual(toDataFrame([]).shape, [0, 0]);
});

test("showTable: stdout outside tslab, HTML + text bundle inside", () => {
  assert.equal(inTslab(), false);
  const written: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stdout.write;
  try {
    showTable(rows, { title: "plain" });
  } finally {
    process.stdout.write = orig;
  }
  assert.ok(written.join("").startsWith("plain\nnorm"));

  // A stand-in for the module a tslab kernel has loaded.
  const fake = path.join(path.sep, "fake", "node_modules", "tslab", "dist", "jupyter.js");
  const sent: { data: Record<string, string> }[] = [];
  require.cache[fake] = { exports: { lastWriteDisplayData: (d: { data: Record<string, string> }) => sent.push(d) } } as unknown as NodeModule;
  try {
    assert.equal(inTslab(), true);
    showTable(toDataFrame(rows), { title: "nb", digits: 1 });
    assert.equal(sent.length, 1);
    assert.ok(sent[0]!.data["text/html"]!.includes("<table"));
    assert.ok(sent[0]!.data["text/html"]!.includes(">0.9</td>"));
    assert.equal(sent[0]!.data["text/plain"], tableToText(rows, { title: "nb", digits: 1 }));
  } finally {
    delete require.cache[fake];
  }
});
