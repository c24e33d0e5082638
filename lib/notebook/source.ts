/**
 * Notebook sources: each notebooks/NN-topic.ipynb is generated from notebooks/src/NN-topic.ts, a
 * TypeScript file in the percent format, so that `tsc` type-checks the notebook code:
 *
 *   // %% [markdown]      starts a markdown cell; its lines are "// "-prefixed comments
 *   // # Title            (the prefix is stripped: "// " or a bare "//" for an empty line)
 *
 *   // %%                 starts a code cell; its lines are copied as they are
 *   const x = 1;
 *
 * Blank lines at the start and end of a cell are dropped (they separate cells in the source).
 * The .ipynb is written byte-for-byte as the former Python generator did (json.dump indent 1,
 * non-ASCII as \uXXXX, key order, cell ids c00, c01, ...), so a rebuild of an unchanged source
 * changes nothing and `--check` can compare bytes.
 *
 * The lint enforces the two tslab quirks the README documents for cells with top-level await:
 * no `import` lines in them, and no shorthand object properties (`{ scale }`) in them.
 * It parses each cell with the TypeScript compiler API (a dev dependency), which is why this
 * module is not re-exported from lib/index.ts: notebooks and scripts do not load the compiler.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { repoRoot } from "../util/paths";

export const MARKDOWN_MARKER = "// %% [markdown]";
export const CODE_MARKER = "// %%";

export type CellKind = "markdown" | "code";

export interface SourceCell {
  kind: CellKind;
  /** Cell text without a trailing newline (markdown: the comment prefix stripped). */
  source: string;
  /** 1-based line in the source file of the cell's first content line (the marker's line + 1 if empty). */
  line: number;
}

/** A parse or lint problem, located in the source file. */
export class NotebookSourceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = "NotebookSourceError";
  }
}

const isBlank = (l: string) => l.trim() === "";

/** Split a percent-format source into cells (see the module comment). Throws NotebookSourceError. */
export function parseNotebookSource(text: string, file = "<source>"): SourceCell[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const cells: SourceCell[] = [];
  let kind: CellKind | null = null;
  let markerLine = 0;
  let body: { text: string; line: number }[] = [];
  const flush = () => {
    if (kind === null) return;
    let a = 0;
    let b = body.length;
    while (a < b && isBlank(body[a]!.text)) a++;
    while (b > a && isBlank(body[b - 1]!.text)) b--;
    const kept = body.slice(a, b);
    cells.push({ kind, source: kept.map((l) => l.text).join("\n"), line: kept[0]?.line ?? markerLine + 1 });
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const trimmed = raw.trimEnd();
    if (trimmed === MARKDOWN_MARKER || trimmed === CODE_MARKER) {
      flush();
      kind = trimmed === MARKDOWN_MARKER ? "markdown" : "code";
      markerLine = lineNo;
      body = [];
    } else if (trimmed.startsWith(CODE_MARKER)) {
      throw new NotebookSourceError(file, lineNo, `unknown cell marker ${JSON.stringify(trimmed)}: use "${CODE_MARKER}" (code) or "${MARKDOWN_MARKER}"`);
    } else if (kind === null) {
      if (!isBlank(raw)) {
        throw new NotebookSourceError(file, lineNo, `text before the first cell marker; start the file with "${MARKDOWN_MARKER}" or "${CODE_MARKER}"`);
      }
    } else if (kind === "code") {
      body.push({ text: raw, line: lineNo });
    } else if (isBlank(raw) || trimmed === "//") {
      body.push({ text: "", line: lineNo });
    } else if (raw.startsWith("// ")) {
      body.push({ text: raw.slice(3), line: lineNo });
    } else {
      throw new NotebookSourceError(
        file,
        lineNo,
        `a markdown cell holds only "// " comment lines, got ${JSON.stringify(raw)} (start a code cell with "${CODE_MARKER}")`,
      );
    }
  }
  flush();
  return cells;
}

/** The percent-format source of cells (the inverse of parseNotebookSource for trimmed cells). */
export function formatNotebookSource(cells: { kind: CellKind; source: string }[]): string {
  const blocks = cells.map((c, i) => {
    const lines = c.source === "" ? [] : c.source.split("\n");
    if (c.kind === "markdown") return [MARKDOWN_MARKER, ...lines.map((l) => (l === "" ? "//" : `// ${l}`))].join("\n");
    for (const l of lines) {
      if (l.trimEnd().startsWith(CODE_MARKER)) throw new Error(`code cell ${i + 1} has a line that reads as a cell marker: ${JSON.stringify(l)}`);
    }
    return [CODE_MARKER, ...lines].join("\n");
  });
  return blocks.join("\n\n") + "\n";
}

interface NotebookCellJson {
  cell_type: CellKind;
  execution_count?: null;
  metadata: Record<string, never>;
  outputs?: never[];
  source: string[];
  id: string;
}

export interface NotebookJson {
  cells: NotebookCellJson[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** The notebook-level metadata every lab notebook carries (the project's tslab kernelspec). */
export const NOTEBOOK_METADATA = {
  kernelspec: { display_name: "TypeScript (dyt-lab)", language: "typescript", name: "tslab" },
  language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
} as const;

/** Jupyter's line list: every line keeps its "\n" except the last. */
function toLineList(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? l + "\n" : l));
}

/** An nbformat 4.5 notebook of the cells, outputs empty, ids c00, c01, ... (stable across rebuilds). */
export function notebookFromCells(cells: { kind: CellKind; source: string }[]): NotebookJson {
  return {
    // Key order as the former generator wrote it, so the bytes of unchanged notebooks stay the same.
    cells: cells.map((c, i): NotebookCellJson => {
      const id = "c" + String(i).padStart(2, "0");
      const source = toLineList(c.source);
      return c.kind === "markdown"
        ? { cell_type: "markdown", metadata: {}, source, id }
        : { cell_type: "code", execution_count: null, metadata: {}, outputs: [], source, id };
    }),
    metadata: { kernelspec: { ...NOTEBOOK_METADATA.kernelspec }, language_info: { ...NOTEBOOK_METADATA.language_info } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** JSON as Python's json.dump(indent=1, ensure_ascii=True) writes it, plus a trailing newline. */
export function serializeNotebook(nb: NotebookJson): string {
  const json = JSON.stringify(nb, null, 1).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return json + "\n";
}

/** The cells of an .ipynb (kind and joined source), e.g. to compare or to write a source from it. */
export function cellsFromNotebook(nb: { cells: { cell_type: string; source: string | string[] }[] }): { kind: CellKind; source: string }[] {
  return nb.cells.map((c, i) => {
    if (c.cell_type !== "markdown" && c.cell_type !== "code") throw new Error(`cell ${i + 1}: unsupported cell type ${c.cell_type}`);
    return { kind: c.cell_type, source: Array.isArray(c.source) ? c.source.join("") : c.source };
  });
}

// ---------------------------------------------------------------------------------------------
// tslab quirk lint

export type QuirkRule = "import-in-await-cell" | "shorthand-in-await-cell";

export interface QuirkProblem {
  rule: QuirkRule;
  /** 1-based position among all cells (markdown included), as the notebook runner counts. */
  cell: number;
  /** 1-based line in the source file. */
  line: number;
  /** The offending line, trimmed. */
  text: string;
  message: string;
}

const QUIRK_MESSAGE: Record<QuirkRule, string> = {
  "import-in-await-cell": "import in a cell with top-level await (tslab cannot compile it): move the import to a cell without await",
  "shorthand-in-await-cell":
    "shorthand object property in a cell with top-level await (tslab miscompiles it): spell it out, e.g. { scale: scale }",
};

function isFunctionLike(n: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n) ||
    ts.isClassStaticBlockDeclaration(n)
  );
}

/** Whether code (one cell) uses await outside any function: `await x` or `for await`. */
export function hasTopLevelAwait(code: string): boolean {
  const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || isFunctionLike(n)) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier !== undefined)) {
      found = true;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** tslab-quirk problems of the cells (empty when fine). Cell and line numbers come from the parse. */
export function lintNotebookCells(cells: SourceCell[]): QuirkProblem[] {
  const problems: QuirkProblem[] = [];
  cells.forEach((cell, i) => {
    if (cell.kind !== "code" || !hasTopLevelAwait(cell.source)) return;
    const sf = ts.createSourceFile("cell.ts", cell.source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const lines = cell.source.split("\n");
    const add = (rule: QuirkRule, node: ts.Node) => {
      const l = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      problems.push({ rule, cell: i + 1, line: cell.line + l, text: (lines[l] ?? "").trim(), message: QUIRK_MESSAGE[rule] });
    };
    const visit = (n: ts.Node): void => {
      if (ts.isImportDeclaration(n) || ts.isImportEqualsDeclaration(n)) add("import-in-await-cell", n);
      if (ts.isShorthandPropertyAssignment(n)) add("shorthand-in-await-cell", n);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  });
  return problems.sort((a, b) => a.line - b.line);
}

/** One line per problem: "file:line: cell N: message: offending line". */
export function formatQuirkProblem(file: string, p: QuirkProblem): string {
  return `${file}:${p.line}: cell ${p.cell}: ${p.message}: ${p.text}`;
}

/** Parse, lint and convert one source to the .ipynb text. Throws NotebookSourceError (all lint problems listed). */
export function buildNotebookFromSource(text: string, file = "<source>"): string {
  const cells = parseNotebookSource(text, file);
  const problems = lintNotebookCells(cells);
  if (problems.length > 0) {
    const first = problems[0]!;
    const err = new NotebookSourceError(file, first.line, `cell ${first.cell}: ${first.message}: ${first.text}`);
    err.message = problems.map((p) => formatQuirkProblem(file, p)).join("\n");
    throw err;
  }
  return serializeNotebook(notebookFromCells(cells));
}

// ---------------------------------------------------------------------------------------------
// The repository's notebooks and their sources

export interface NotebookPair {
  /** e.g. "01-dyt-vs-layernorm" */
  name: string;
  /** notebooks/src/<name>.ts, or null when the notebook has no source. */
  source: string | null;
  /** notebooks/<name>.ipynb (may not exist yet). */
  notebook: string;
}

/** Every notebook and every source, paired by name, sorted. */
export function notebookPairs(notebooksDir = path.join(repoRoot(), "notebooks")): NotebookPair[] {
  const srcDir = path.join(notebooksDir, "src");
  const names = new Set<string>();
  const sources = new Set<string>();
  if (fs.existsSync(srcDir)) {
    for (const f of fs.readdirSync(srcDir)) {
      if (!f.endsWith(".ts") || f.endsWith(".d.ts")) continue;
      names.add(f.slice(0, -3));
      sources.add(f.slice(0, -3));
    }
  }
  if (fs.existsSync(notebooksDir)) {
    for (const f of fs.readdirSync(notebooksDir)) if (f.endsWith(".ipynb") && !f.startsWith(".")) names.add(f.slice(0, -6));
  }
  return [...names].sort().map((name) => ({
    name,
    source: sources.has(name) ? path.join(srcDir, `${name}.ts`) : null,
    notebook: path.join(notebooksDir, `${name}.ipynb`),
  }));
}

export type PairStatus =
  | { kind: "ok" }
  | { kind: "differs" }
  | { kind: "missing-notebook" }
  | { kind: "no-source" }
  | { kind: "error"; message: string };

export interface PairCheck extends NotebookPair {
  status: PairStatus;
  /** The converted notebook text (when the source converts). */
  built?: string;
}

/** Compare each notebook with the conversion of its source (reads only). */
export function checkNotebookPairs(notebooksDir?: string): PairCheck[] {
  return notebookPairs(notebooksDir).map((p): PairCheck => {
    if (!p.source) return { ...p, status: { kind: "no-source" } };
    const rel = path.relative(process.cwd(), p.source) || p.source;
    let built: string;
    try {
      built = buildNotebookFromSource(fs.readFileSync(p.source, "utf8"), rel);
    } catch (e) {
      if (e instanceof NotebookSourceError) return { ...p, status: { kind: "error", message: e.message } };
      throw e;
    }
    if (!fs.existsSync(p.notebook)) return { ...p, built, status: { kind: "missing-notebook" } };
    const same = fs.readFileSync(p.notebook, "utf8") === built;
    return { ...p, built, status: same ? { kind: "ok" } : { kind: "differs" } };
  });
}

/** One line describing a pair that is not in sync (for --check and the test). */
export function describePairCheck(c: PairCheck): string {
  const nb = `notebooks/${c.name}.ipynb`;
  switch (c.status.kind) {
    case "ok":
      return `${nb}: in sync`;
    case "differs":
      return `${nb}: differs from notebooks/src/${c.name}.ts (run npm run notebooks:build)`;
    case "missing-notebook":
      return `${nb}: missing; notebooks/src/${c.name}.ts has not been converted (run npm run notebooks:build)`;
    case "no-source":
      return `${nb}: has no source notebooks/src/${c.name}.ts (write one, or delete the notebook)`;
    case "error":
      return c.status.message;
  }
}
