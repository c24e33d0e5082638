// Notebook sources (notebooks/src/*.ts) and their conversion to notebooks/*.ipynb.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  buildNotebookFromSource,
  cellsFromNotebook,
  checkNotebookPairs,
  describePairCheck,
  formatNotebookSource,
  hasTopLevelAwait,
  lintNotebookCells,
  NotebookSourceError,
  notebookFromCells,
  parseNotebookSource,
  serializeNotebook,
} from "../lib/notebook/source";

describe("committed notebooks", () => {
  test("every notebooks/*.ipynb equals the conversion of its notebooks/src/*.ts", () => {
    const checks = checkNotebookPairs();
    assert.ok(checks.length >= 13, `the lab has its notebooks (found ${checks.length})`);
    const bad = checks.filter((c) => c.status.kind !== "ok");
    assert.equal(bad.length, 0, "not in sync (run npm run notebooks:build):\n" + bad.map(describePairCheck).join("\n"));
  });

  test("a notebook that differs from its source, or has none, is named", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-nbsrc-"));
    try {
      fs.mkdirSync(path.join(dir, "src"));
      const src = "// %% [markdown]\n// # T\n\n// %%\nconst a = 1;\n";
      fs.writeFileSync(path.join(dir, "src", "01-same.ts"), src);
      fs.writeFileSync(path.join(dir, "01-same.ipynb"), buildNotebookFromSource(src));
      fs.writeFileSync(path.join(dir, "src", "02-edited.ts"), src.replace("a = 1", "a = 2"));
      fs.writeFileSync(path.join(dir, "02-edited.ipynb"), buildNotebookFromSource(src));
      fs.writeFileSync(path.join(dir, "03-orphan.ipynb"), buildNotebookFromSource(src));
      fs.writeFileSync(path.join(dir, "src", "04-new.ts"), src);
      fs.writeFileSync(path.join(dir, "src", "05-bad.ts"), "// %%\nconst r = await f();\nimport { x } from \"y\";\n");
      const byName = new Map(checkNotebookPairs(dir).map((c) => [c.name, c]));
      assert.deepEqual(
        [...byName.values()].map((c) => [c.name, c.status.kind]),
        [
          ["01-same", "ok"],
          ["02-edited", "differs"],
          ["03-orphan", "no-source"],
          ["04-new", "missing-notebook"],
          ["05-bad", "error"],
        ],
      );
      assert.match(describePairCheck(byName.get("02-edited")!), /notebooks\/02-edited\.ipynb: differs from notebooks\/src\/02-edited\.ts/);
      assert.match(describePairCheck(byName.get("03-orphan")!), /03-orphan\.ipynb: has no source/);
      assert.match(describePairCheck(byName.get("05-bad")!), /05-bad\.ts:3: cell 1: import in a cell with top-level await/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("percent-format parsing", () => {
  const text = [
    "",
    "// %% [markdown]",
    "// # Title",
    "//",
    "//   indented, and trailing  ",
    "",
    "// %%",
    "",
    "import { a } from \"dyt-lab\";",
    "",
    "  const b = a; // %% inside a line is no marker",
    "",
    "",
    "// %% [markdown]",
    "// last",
    "",
  ].join("\n");

  test("splits cells at the markers, strips the markdown prefix and blank edges, keeps inner blank lines", () => {
    const cells = parseNotebookSource(text, "t.ts");
    assert.deepEqual(
      cells.map((c) => [c.kind, c.source, c.line]),
      [
        ["markdown", "# Title\n\n  indented, and trailing  ", 3],
        ["code", 'import { a } from "dyt-lab";\n\n  const b = a; // %% inside a line is no marker', 9],
        ["markdown", "last", 15],
      ],
    );
  });

  test("the notebook has Jupyter line lists, stable ids, the tslab kernelspec, and Python's JSON layout", () => {
    const nbText = buildNotebookFromSource(text);
    assert.ok(nbText.endsWith("}\n"), "trailing newline");
    assert.ok(nbText.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",'), "indent 1");
    assert.equal(buildNotebookFromSource(text), nbText, "deterministic");
    const nb = JSON.parse(nbText);
    assert.deepEqual(nb.cells.map((c: { id: string }) => c.id), ["c00", "c01", "c02"]);
    assert.deepEqual(nb.cells[0].source, ["# Title\n", "\n", "  indented, and trailing  "]);
    assert.deepEqual(Object.keys(nb.cells[1]), ["cell_type", "execution_count", "metadata", "outputs", "source", "id"]);
    assert.equal(nb.cells[1].execution_count, null);
    assert.deepEqual(nb.cells[1].outputs, []);
    assert.equal(nb.metadata.kernelspec.name, "tslab");
    assert.equal(nb.metadata.kernelspec.display_name, "TypeScript (dyt-lab)");
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.nbformat_minor, 5);
  });

  test("non-ASCII is written as \\u escapes (as json.dump did), and reads back the same", () => {
    const nbText = buildNotebookFromSource("// %% [markdown]\n// α₀ · γ — 😀 and DEL\u007f\n");
    assert.ok(nbText.includes("\\u03b1\\u2080 \\u00b7 \\u03b3 \\u2014 \\ud83d\\ude00 and DEL\\u007f"), nbText);
    assert.ok(/^[\x00-\x7e]*$/.test(nbText), "pure ASCII");
    assert.equal(JSON.parse(nbText).cells[0].source[0], "α₀ · γ — 😀 and DEL\u007f");
  });

  test("source -> notebook -> source round-trips, and so does every committed notebook", () => {
    const cells = parseNotebookSource(text);
    const back = formatNotebookSource(cellsFromNotebook(JSON.parse(buildNotebookFromSource(text))));
    assert.deepEqual(
      parseNotebookSource(back).map((c) => [c.kind, c.source]),
      cells.map((c) => [c.kind, c.source]),
    );
    assert.equal(formatNotebookSource(parseNotebookSource(back)), back, "formatted source is a fixed point");
    for (const c of checkNotebookPairs()) {
      if (!c.source || !fs.existsSync(c.notebook)) continue;
      const nbText = fs.readFileSync(c.notebook, "utf8");
      const again = serializeNotebook(notebookFromCells(parseNotebookSource(formatNotebookSource(cellsFromNotebook(JSON.parse(nbText))))));
      assert.equal(again, nbText, `${c.name} round-trips`);
    }
  });

  test("bad sources fail with file and line", () => {
    assert.throws(() => parseNotebookSource("const x = 1;\n// %%\n", "a.ts"), (e: unknown) => {
      assert.ok(e instanceof NotebookSourceError);
      assert.match(e.message, /^a\.ts:1: text before the first cell marker/);
      return true;
    });
    assert.throws(() => parseNotebookSource("// %% [markdown]\n// ok\nnot a comment\n", "b.ts"), /^NotebookSourceError: b\.ts:3: a markdown cell holds only/);
    assert.throws(() => parseNotebookSource("// %% [md]\n", "c.ts"), /c\.ts:1: unknown cell marker "\/\/ %% \[md\]"/);
    assert.throws(() => formatNotebookSource([{ kind: "code", source: "// %%\nx" }]), /reads as a cell marker/);
  });
});

describe("tslab quirk lint", () => {
  const lint = (text: string) => lintNotebookCells(parseNotebookSource(text));

  test("top-level await is told apart from await inside functions", () => {
    assert.equal(hasTopLevelAwait("const a = await f();"), true);
    assert.equal(hasTopLevelAwait("for await (const x of it) console.log(x);"), true);
    assert.equal(hasTopLevelAwait("if (ok) { await g(); }"), true);
    assert.equal(hasTopLevelAwait("async function h() { await g(); }\nconst k = async () => await g();"), false);
    assert.equal(hasTopLevelAwait("const s = 'await x'; // await y"), false);
  });

  test("an import in a cell with top-level await is flagged with cell number and line", () => {
    const src = "// %% [markdown]\n// # T\n\n// %%\nconst x = 1;\nimport * as fs from \"fs\";\nawait fs.promises.stat(\".\");\n";
    const problems = lint(src);
    assert.equal(problems.length, 1);
    assert.deepEqual([problems[0]!.rule, problems[0]!.cell, problems[0]!.line, problems[0]!.text], ["import-in-await-cell", 2, 6, 'import * as fs from "fs";']);
    assert.throws(() => buildNotebookFromSource(src, "nb.ts"), /nb\.ts:6: cell 2: import in a cell with top-level await .*: import \* as fs from "fs";/);
  });

  test("a shorthand property in a cell with top-level await is flagged, also when nested", () => {
    const src = "// %%\nconst scale = 1;\nconst r = await run({ scale });\nconst opts = { a: { scale } };\n";
    const problems = lint(src);
    assert.deepEqual(
      problems.map((p) => [p.rule, p.cell, p.line, p.text]),
      [
        ["shorthand-in-await-cell", 1, 3, "const r = await run({ scale });"],
        ["shorthand-in-await-cell", 1, 4, "const opts = { a: { scale } };"],
      ],
    );
  });

  test("ok cells are not flagged", () => {
    const src = [
      "// %%",
      'import { run } from "dyt-lab";', // import, no await in this cell
      "const scale = 1;",
      "const o = { scale };", // shorthand, no await in this cell
      "async function later() { await run({ scale }); }", // await only inside a function
      "// %%",
      "const { a, b } = await run({ scale: scale }); // destructuring is no shorthand property",
      "const f = (x: number) => ({ x: x });",
      "const m = await import(\"fs\"); // a dynamic import is no import line",
    ].join("\n");
    assert.deepEqual(lint(src), []);
  });
});
