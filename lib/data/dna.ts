/**
 * DNA for the HyenaDNA / Caduceus experiments (../shared/reference/datasets.md,
 * "DNA"): 10 genomes read out of five Debian 12 packages, cut into position
 * blocks, and turned into a pretraining stream and three labelled tasks.
 *
 * Sources. `apt-get download` of cct-examples, ariba, augustus-doc,
 * r-bioc-biostrings and r-bioc-bsgenome (88 MB of .deb, no root needed), of
 * which only the files below are extracted (`dpkg-deb --fsys-tarfile | tar -x`,
 * 72 MB). This happens on first use, into dataDir()/sources/dna (git-ignored);
 * the .deb files are deleted once extracted. opts.sourceDir or env
 * DYT_DNA_SOURCE_DIR points at an already extracted tree instead (the root
 * `dpkg-deb -x` wrote into); then nothing is downloaded. Every file read is
 * checked against the sha256 recorded below (from the package versions in
 * DNA_PACKAGES); a missing or changed file throws DatasetFileError naming the fix.
 *
 * Parsing. FASTA: header lines skipped, A/C/G/T (any case) -> codes 0-3, any
 * other letter -> N (4). GenBank: sequence = the letters after ORIGIN;
 * features = key lines `^ {5}KEY +location` plus location continuation lines
 * (21 spaces, not a /qualifier), every `(\d+)..>?(\d+)` range, 1-based inclusive.
 * M. tuberculosis: sequence from the FASTA, features from the .gb (no ORIGIN).
 *
 * Splits. Each genome is cut into contiguous blocks: first 80 % train, next
 * 10 % val, last 10 % test (floor of 0.8 n and 0.9 n). A window is kept only
 * when it lies inside one block at least DNA_GUARD_BP from both of its edges
 * (genome ends included: the microbes are circular, so base 0 follows the
 * test block), so no window straddles or touches a split boundary.
 *
 * Data sets (u8 codes A0 C1 G2 T3 N4):
 * - pretraining (loadDnaPretrain): per split, the guarded blocks of all 10
 *   genomes as segments of one stream; next-token windows never cross a segment.
 * - "coding" (8 prokaryotes incl. M. tuberculosis): 200 bp non-overlapping
 *   windows from each block's guarded start; label 1 if every base is in a CDS,
 *   0 if no base touches a CDS/gene/rRNA/tRNA (others dropped); coding windows
 *   are subsampled (seeded) to the intergenic count per genome and split, so
 *   classes are balanced and species composition cannot give the label away.
 * - "promoter" (fly chr2R): positive = the 300 bp just upstream of each distinct
 *   TSS of the dm3_upstream2000 records on chr2R, strand-oriented (read from
 *   chr2R.fa; the build checks that it equals the record's last 300 bp);
 *   negative = random 300 bp windows, random strand, >= 5 kb from every listed
 *   TSS, as many as positives per split. Windows with an N are dropped.
 * - "species" (10 classes): 1 kb non-overlapping windows of the 8 microbes,
 *   every 5 kb for fly and worm.
 * Each task split is shuffled (seeded), so its first `limit` examples are a
 * random sample. Every example records genome, start and strand.
 *
 * Cache: the built arrays in dataDir()/cache/dna/ with manifest.json (recipe
 * version, source checksums, each file's sha256, sizes); a cache whose recipe
 * or sources differ, or whose file fails its checksum, is rebuilt. Build ~5 s.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { dataDir } from "../util/paths";
import { Rng } from "../util/rng";
import type { Split } from "./dataset";
import { SPLITS } from "./dataset";
import { DatasetFileError } from "./fashion-mnist";

/** Nucleotide codes. */
export const DNA_ALPHABET = "ACGTN";
export const DNA_VOCAB_SIZE = 5;
export const DNA_N = 4;
/** Complement of each code (A<->T, C<->G, N<->N). */
export const DNA_COMPLEMENT: readonly number[] = [3, 2, 1, 0, 4];

/** Distance every kept window keeps from its block's edges. */
export const DNA_GUARD_BP = 1000;
/** Block fractions: [0, 0.8) train, [0.8, 0.9) val, [0.9, 1) test. */
export const DNA_SPLIT_FRACTIONS = { train: 0.8, val: 0.1, test: 0.1 } as const;
/** Bumped whenever the recipe changes (invalidates caches). */
export const DNA_RECIPE_VERSION = 1;
export const DNA_SEED = 20251;
/** sha256 of every built array (dnaBuildDigest) for this recipe, guard and seed: the same data on every machine and build. */
export const DNA_BUILD_SHA256 = "41ee14c86eea7fdcb4f202635dbb99d58c97d8ee16908ea5d8c1997ade449491";

export const DNA_PACKAGES = [
  { name: "cct-examples", version: "1:1.0.3-1", license: "GPL-2+" },
  { name: "ariba", version: "2.14.6+ds-5+b1", license: "GPL-3" },
  { name: "augustus-doc", version: "3.5.0+dfsg-2", license: "Artistic-1.0" },
  { name: "r-bioc-biostrings", version: "2.66.0-1", license: "Artistic-2.0" },
  { name: "r-bioc-bsgenome", version: "1.66.3-1", license: "Artistic-2.0" },
] as const;
export type DnaPackage = (typeof DNA_PACKAGES)[number]["name"];

interface SourceFile {
  pkg: DnaPackage;
  /** Path inside the package (and under the source dir). */
  path: string;
  sha256: string;
}

const CCT = "usr/share/doc/cct/examples/sample_projects";
/** Every file the recipe reads, with sha256 recorded from the DNA_PACKAGES versions. */
export const DNA_SOURCE_FILES = {
  ecoli: { pkg: "cct-examples", path: `${CCT}/sample_project_3/comparison_genomes/NC_000913.gbk.gz`, sha256: "f5ccb73d0c68da186481e842b5d7df2bdcbb99b9edbc30f8abc8927dd589d4d4" },
  bjap: { pkg: "cct-examples", path: `${CCT}/sample_project_3/reference_genome/NC_004463.gbk.gz`, sha256: "3f32bd902bff9b66abc170a6a6293575cab2609339297e0fcc7529722dddc7ad" },
  rden: { pkg: "cct-examples", path: "usr/share/cct/lib/scripts/get_cds/test_input/R_denitrificans.gbk", sha256: "6c96fca8e8c66c4b2723ca4a59d47426e009487f2c32edd97fcfc40c75ef787c" },
  macet: { pkg: "cct-examples", path: `${CCT}/sample_project_2/comparison_genomes/Methanosarcina_acetivorans.gbk.gz`, sha256: "6a552bc33757c3f80e16372020527f9490f966cf7f91c4fc56e5d3be717a1309" },
  mmari: { pkg: "cct-examples", path: `${CCT}/sample_project_2/comparison_genomes/Methanococcus_maripaludis.gbk.gz`, sha256: "187c0b1de0fb48301b6b1e18c8b35c5c030bbc17cd83317e3bf59d61d76b2682" },
  tkod: { pkg: "cct-examples", path: `${CCT}/sample_project_2/comparison_genomes/Thermococcus_kodakaraensis.gbk.gz`, sha256: "e96f8d5cd4178bb9d187d710087def380d7ab6ac98950a595296184da08bb9d3" },
  mther: { pkg: "cct-examples", path: `${CCT}/sample_project_2/reference_genome/Methanobacterium_thermoautotrophicum.gbk.gz`, sha256: "cfcc46f617c9abd328e329b75cb9a7ff06f4ad135f99e8afa54237ec3399d92b" },
  mtbFasta: { pkg: "ariba", path: "usr/lib/python3/dist-packages/ariba/tb_data/NC_000962.3.fa.gz", sha256: "f47c8bc84fd87fc538ce1f04469ff306818c8527b1e35426d820fc455e3a9940" },
  mtbGenbank: { pkg: "ariba", path: "usr/lib/python3/dist-packages/ariba/tb_data/NC_000962.3.gb", sha256: "b291c4f4ed4c9b99f108f9b3c3dd7f948161bdccb24287687d5d3cc147664f34" },
  fly: { pkg: "augustus-doc", path: "usr/share/doc/augustus/tutorial/data/chr2R.fa", sha256: "dcf0f58d162c93f8f629d2f55374e916015987092f0fefdd0bbeb03c3e854547" },
  flyUpstream: { pkg: "r-bioc-biostrings", path: "usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz", sha256: "78076ae22e0084cfb4d6775b000ed9d8fadcefe2469aacce76b78f5a427a08f4" },
  worm: { pkg: "r-bioc-bsgenome", path: "usr/lib/R/site-library/BSgenome/extdata/ce2chrX.fa.gz", sha256: "da27922b3707adff40ff59232ea8746aaa2cc08b7413ebd33d5d167a93b236dd" },
} satisfies Record<string, SourceFile>;
export type DnaSourceKey = keyof typeof DNA_SOURCE_FILES;

export interface DnaGenomeInfo {
  /** Short id; also the class name order of the species task. */
  id: string;
  name: string;
  source: DnaSourceKey;
  /** Features from another file (M. tuberculosis: the .gb without ORIGIN). */
  features?: DnaSourceKey;
  /** Expected length (datasets.md) and, for annotated genomes, CDS feature count. */
  bp: number;
  cds?: number;
  /** In the coding task; species windows every 1 kb (else every 5 kb). */
  prokaryote: boolean;
}

/** The 10 genomes, in species-class order. */
export const DNA_GENOMES: readonly DnaGenomeInfo[] = [
  { id: "ecoli", name: "E. coli K-12 (NC_000913)", source: "ecoli", bp: 4639675, cds: 4254, prokaryote: true },
  { id: "bjap", name: "B. japonicum (NC_004463)", source: "bjap", bp: 9105828, cds: 8317, prokaryote: true },
  { id: "rden", name: "R. denitrificans", source: "rden", bp: 4133097, cds: 4209, prokaryote: true },
  { id: "macet", name: "M. acetivorans (NC_003552)", source: "macet", bp: 5751492, cds: 4540, prokaryote: true },
  { id: "mmari", name: "M. maripaludis (NC_005791)", source: "mmari", bp: 1661137, cds: 1722, prokaryote: true },
  { id: "tkod", name: "T. kodakaraensis (NC_006624)", source: "tkod", bp: 2088737, cds: 2306, prokaryote: true },
  { id: "mther", name: "M. thermautotrophicus (NC_000916)", source: "mther", bp: 1751377, cds: 1873, prokaryote: true },
  { id: "mtb", name: "M. tuberculosis H37Rv (NC_000962)", source: "mtbFasta", features: "mtbGenbank", bp: 4411532, cds: 3906, prokaryote: true },
  { id: "fly", name: "D. melanogaster chr2R (dm3)", source: "fly", bp: 21146708, prokaryote: false },
  { id: "worm", name: "C. elegans chrX (ce2)", source: "worm", bp: 17718849, prokaryote: false },
];

export const DNA_TASKS = ["coding", "promoter", "species"] as const;
export type DnaTask = (typeof DNA_TASKS)[number];

/** Window length, classes and the sizes datasets.md reports (train / val / test). */
export const DNA_TASK_INFO: Record<DnaTask, { seqLen: number; classNames: readonly string[]; datasetsMd: Record<Split, number> }> = {
  coding: { seqLen: 200, classNames: ["intergenic", "coding"], datasetsMd: { train: 13590, val: 1646, test: 1778 } },
  promoter: { seqLen: 300, classNames: ["distal", "promoter"], datasetsMd: { train: 5230, val: 766, test: 832 } },
  species: { seqLen: 1000, classNames: DNA_GENOMES.map((g) => g.id), datasetsMd: { train: 33049, val: 4124, test: 4123 } },
};
/** Pretraining bases per split in datasets.md (blocks without the guard). */
export const DNA_PRETRAIN_DATASETS_MD: Record<Split, number> = { train: 57.9e6, val: 7.24e6, test: 7.24e6 };

const PROMOTER_MIN_DIST = 5000;
const SPECIES_STRIDE_EUK = 5000;

// ---------------------------------------------------------------- sources

export interface DnaSourceOptions {
  /** Extracted package tree; default env DYT_DNA_SOURCE_DIR, else dataDir()/sources/dna (downloaded on first use). */
  sourceDir?: string;
  /** Download and extract the packages into the default source dir when files are missing (default true; env DYT_DNA_FETCH=0 turns it off). */
  fetch?: boolean;
  /** Compare files with the recorded sha256 (default true). */
  verify?: boolean;
}

function defaultSourceDir(): string {
  return path.join(dataDir(), "sources", "dna");
}

/** The source directory that would be read, and whether it is the managed default (which may be downloaded). */
export function dnaSourceDir(opts: DnaSourceOptions = {}): { dir: string; managed: boolean } {
  const o = opts.sourceDir ?? process.env.DYT_DNA_SOURCE_DIR;
  return o ? { dir: o, managed: false } : { dir: defaultSourceDir(), managed: true };
}

const pkgSpec = (p: (typeof DNA_PACKAGES)[number]) => `${p.name}=${p.version}`;
const MANUAL_FIX =
  `\`apt-get download ${DNA_PACKAGES.map(pkgSpec).join(" ")}\` then \`dpkg-deb -x PKG.deb DIR\` for each and point DYT_DNA_SOURCE_DIR at DIR`;

function fixFor(managed: boolean, dir: string): string {
  return managed
    ? `delete ${dir} and load again (dyt-lab downloads the packages with apt-get download; run \`apt-get update\` first if apt cannot find them), or ${MANUAL_FIX}`
    : `unset DYT_DNA_SOURCE_DIR / options.sourceDir to let dyt-lab download the packages into ${defaultSourceDir()}, or ${MANUAL_FIX}`;
}

const sha256 = (b: crypto.BinaryLike) => crypto.createHash("sha256").update(b).digest("hex");

/**
 * Download the five packages with `apt-get download` and extract the files
 * the recipe reads into `dir` (the managed source directory).
 */
export function fetchDnaSources(dir: string = defaultSourceDir(), log: (s: string) => void = (s) => console.log(s)): void {
  const debs = path.join(dir, ".debs");
  fs.mkdirSync(debs, { recursive: true });
  log(`[dna] downloading ${DNA_PACKAGES.length} Debian packages (88 MB): apt-get download ${DNA_PACKAGES.map((p) => p.name).join(" ")}`);
  try {
    execFileSync("apt-get", ["download", ...DNA_PACKAGES.map(pkgSpec)], { cwd: debs, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim().split("\n").slice(-2).join(" ") || (e as Error).message;
    throw new DatasetFileError(`DNA sources: apt-get download failed (${err}). Fix: run \`sudo apt-get update\` (Debian 12 package lists), then load again; or ${MANUAL_FIX}`, "missing", dir);
  }
  const files = fs.readdirSync(debs);
  for (const p of DNA_PACKAGES) {
    const deb = files.find((f) => f.startsWith(`${p.name}_`) && f.endsWith(".deb"));
    if (!deb) throw new DatasetFileError(`DNA sources: apt-get download left no ${p.name}_*.deb in ${debs}. Fix: ${MANUAL_FIX}`, "missing", debs);
    const members = Object.values(DNA_SOURCE_FILES as Record<string, SourceFile>)
      .filter((f) => f.pkg === p.name)
      .map((f) => `./${f.path}`);
    log(`[dna] extracting ${members.length} file(s) from ${deb}`);
    execFileSync("bash", ["-o", "pipefail", "-c", 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "${@:3}"', "_", path.join(debs, deb), dir, ...members], { stdio: ["ignore", "ignore", "pipe"] });
  }
  fs.rmSync(debs, { recursive: true, force: true });
}

/** Read one source file (bytes as stored; .gz not yet inflated), checked. */
function readSource(key: DnaSourceKey, dir: string, managed: boolean, verify: boolean): Buffer {
  const f: SourceFile = DNA_SOURCE_FILES[key];
  const file = path.join(dir, f.path);
  if (!fs.existsSync(file)) {
    const dirNote = fs.existsSync(dir) ? "" : ` (the directory ${dir} does not exist)`;
    throw new DatasetFileError(`DNA source ${key}: ${file} is missing${dirNote}; it comes from the Debian package ${f.pkg}. Fix: ${fixFor(managed, dir)}`, "missing", file);
  }
  const bytes = fs.readFileSync(file);
  if (verify && sha256(bytes) !== f.sha256)
    throw new DatasetFileError(
      `DNA source ${key}: ${file} is corrupt or another version (sha256 ${sha256(bytes).slice(0, 16)}…, recorded ${f.sha256.slice(0, 16)}… from ${f.pkg} ${DNA_PACKAGES.find((p) => p.name === f.pkg)!.version}). Fix: ${fixFor(managed, dir)}`,
      "corrupt",
      file,
    );
  return bytes;
}

/** Make sure the source files are there (downloading them into the managed dir if allowed); returns the dir. */
export function ensureDnaSources(opts: DnaSourceOptions = {}): string {
  const { dir, managed } = dnaSourceDir(opts);
  const missing = Object.values(DNA_SOURCE_FILES as Record<string, SourceFile>).filter((f) => !fs.existsSync(path.join(dir, f.path)));
  const fetch = opts.fetch ?? process.env.DYT_DNA_FETCH !== "0";
  if (missing.length > 0 && managed && fetch) fetchDnaSources(dir);
  return dir;
}

/** sha256 of every source file as found now (to record a new package version). */
export function dnaSourceFingerprints(opts: DnaSourceOptions = {}): Record<DnaSourceKey, string> {
  const dir = ensureDnaSources(opts);
  const { managed } = dnaSourceDir(opts);
  const out = {} as Record<DnaSourceKey, string>;
  for (const k of Object.keys(DNA_SOURCE_FILES) as DnaSourceKey[]) out[k] = sha256(readSource(k, dir, managed, false));
  return out;
}

// ---------------------------------------------------------------- parsing

const CODE = new Uint8Array(256).fill(255);
for (let c = 65; c <= 90; c++) CODE[c] = CODE[c + 32] = DNA_N;
for (const [i, ch] of ["A", "C", "G", "T"].entries()) CODE[ch.charCodeAt(0)] = CODE[ch.toLowerCase().charCodeAt(0)] = i;

/** Letters of `text[from, to)` as codes (everything that is not a letter is skipped). */
function encodeLetters(buf: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  let o = at;
  for (let i = from; i < to; i++) {
    const c = CODE[buf[i]!]!;
    if (c !== 255) out[o++] = c;
  }
  return o;
}

/** FASTA records: name (header up to the first space) and codes. */
export function parseFasta(buf: Uint8Array): { name: string; seq: Uint8Array }[] {
  const out: { name: string; seq: Uint8Array }[] = [];
  const seq = new Uint8Array(buf.length);
  let i = 0;
  let name: string | undefined;
  let n = 0;
  const flush = () => {
    if (name !== undefined) out.push({ name, seq: seq.slice(0, n) });
    n = 0;
  };
  while (i < buf.length) {
    let e = buf.indexOf(10, i);
    if (e < 0) e = buf.length;
    if (buf[i] === 62 /* > */) {
      flush();
      name = Buffer.from(buf.subarray(i + 1, e)).toString("latin1").split(/\s/)[0]!;
    } else if (name !== undefined) n = encodeLetters(buf, i, e, seq, n);
    i = e + 1;
  }
  flush();
  return out;
}

/** A GenBank feature: key and its 1-based inclusive ranges. */
export interface GenbankFeature {
  key: string;
  ranges: [number, number][];
}

/** One-record GenBank file: the ORIGIN sequence (may be empty) and the features. */
export function parseGenbank(text: string): { seq: Uint8Array; features: GenbankFeature[] } {
  const fStart = text.indexOf("\nFEATURES");
  const oStart = text.indexOf("\nORIGIN");
  const featText = text.slice(fStart < 0 ? 0 : fStart, oStart < 0 ? text.length : oStart);
  const features: GenbankFeature[] = [];
  let cur: GenbankFeature | undefined;
  let inLoc = false;
  const addRanges = (loc: string) => {
    for (const m of loc.matchAll(/(\d+)\.\.>?(\d+)/g)) cur!.ranges.push([Number(m[1]), Number(m[2])]);
  };
  for (const line of featText.split("\n")) {
    const key = /^ {5}(\S+) +(\S.*)$/.exec(line);
    if (key) {
      cur = { key: key[1]!, ranges: [] };
      features.push(cur);
      addRanges(key[2]!);
      inLoc = true;
    } else if (cur && inLoc && line.startsWith(" ".repeat(21)) && line[21] !== "/") addRanges(line);
    else inLoc = false;
  }
  let seq = new Uint8Array(0);
  if (oStart >= 0) {
    const end = text.indexOf("\n//", oStart);
    const buf = Buffer.from(text.slice(oStart + 7, end < 0 ? text.length : end), "latin1");
    seq = new Uint8Array(buf.length);
    seq = seq.slice(0, encodeLetters(buf, 0, buf.length, seq, 0));
  }
  return { seq, features };
}

const gunzipMaybe = (b: Buffer, file: string) => (file.endsWith(".gz") ? zlib.gunzipSync(b) : b);

/** 1 where a base is covered by one of the features (ranges 1-based inclusive; a > b wraps the origin). */
function featureMask(n: number, feats: GenbankFeature[], keys: readonly string[]): Uint8Array {
  const m = new Uint8Array(n);
  for (const f of feats) {
    if (!keys.includes(f.key)) continue;
    for (const [a, b] of f.ranges) {
      if (a <= b) m.fill(1, Math.max(0, a - 1), Math.min(n, b));
      else {
        m.fill(1, Math.max(0, a - 1), n);
        m.fill(1, 0, Math.min(n, b));
      }
    }
  }
  return m;
}

// ---------------------------------------------------------------- blocks

export interface DnaBlock {
  split: Split;
  /** [start, end) in genome coordinates (0-based). */
  start: number;
  end: number;
}

/** The three position blocks of a genome of length n. */
export function dnaBlocks(n: number): DnaBlock[] {
  const a = Math.floor(n * DNA_SPLIT_FRACTIONS.train);
  const b = Math.floor(n * (DNA_SPLIT_FRACTIONS.train + DNA_SPLIT_FRACTIONS.val));
  return [
    { split: "train", start: 0, end: a },
    { split: "val", start: a, end: b },
    { split: "test", start: b, end: n },
  ];
}

/** The block [start, end) lies in, if it keeps the guard from both edges of one block. */
export function dnaSplitOf(n: number, start: number, end: number, guard = DNA_GUARD_BP): Split | undefined {
  for (const bl of dnaBlocks(n)) if (start >= bl.start + guard && end <= bl.end - guard) return bl.split;
  return undefined;
}

/** Reverse complement of codes. */
export function reverseComplement(seq: ArrayLike<number>): Uint8Array {
  const n = seq.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = DNA_COMPLEMENT[seq[n - 1 - i]!]!;
  return out;
}

// ---------------------------------------------------------------- build

interface Genome extends DnaGenomeInfo {
  seq: Uint8Array;
}

const TASK_ARRAYS = ["seqs", "labels", "genome", "start", "strand"] as const;

interface BuiltTask {
  seqs: Uint8Array;
  labels: Uint8Array;
  genome: Uint8Array;
  start: Int32Array;
  strand: Uint8Array;
}

interface Built {
  genomes: Genome[];
  tasks: Record<DnaTask, Record<Split, BuiltTask>>;
}

type Example = { g: number; start: number; strand: 0 | 1; label: number };

function hasN(seq: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (seq[i] === DNA_N) return true;
  return false;
}

/** Shuffle (seeded) and materialise examples of one task split. */
function materialise(genomes: Genome[], ex: Example[], len: number, rng: Rng): BuiltTask {
  const perm = rng.permutation(ex.length);
  const n = ex.length;
  const t: BuiltTask = { seqs: new Uint8Array(n * len), labels: new Uint8Array(n), genome: new Uint8Array(n), start: new Int32Array(n), strand: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const e = ex[perm[i]!]!;
    const w = genomes[e.g]!.seq.subarray(e.start, e.start + len);
    t.seqs.set(e.strand ? reverseComplement(w) : w, i * len);
    t.labels[i] = e.label;
    t.genome[i] = e.g;
    t.start[i] = e.start;
    t.strand[i] = e.strand;
  }
  return t;
}

/** Non-overlapping windows of `len` every `stride` from each block's guarded start. */
function blockWindows(n: number, len: number, stride: number): { split: Split; start: number }[] {
  const out: { split: Split; start: number }[] = [];
  for (const bl of dnaBlocks(n)) for (let s = bl.start + DNA_GUARD_BP; s + len <= bl.end - DNA_GUARD_BP; s += stride) out.push({ split: bl.split, start: s });
  return out;
}

function buildCoding(genomes: Genome[], feats: Map<number, GenbankFeature[]>, rng: Rng): Record<Split, Example[]> {
  const L = DNA_TASK_INFO.coding.seqLen;
  const out: Record<Split, Example[]> = { train: [], val: [], test: [] };
  genomes.forEach((g, gi) => {
    if (!g.prokaryote) return;
    const n = g.seq.length;
    const f = feats.get(gi)!;
    const cds = featureMask(n, f, ["CDS"]);
    const any = featureMask(n, f, ["CDS", "gene", "rRNA", "tRNA"]);
    // prefix sums: windows wholly in / wholly outside in O(1)
    const pc = new Int32Array(n + 1);
    const pa = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      pc[i + 1] = pc[i]! + cds[i]!;
      pa[i + 1] = pa[i]! + any[i]!;
    }
    for (const split of SPLITS) {
      const coding: Example[] = [];
      const inter: Example[] = [];
      for (const w of blockWindows(n, L, L)) {
        if (w.split !== split || hasN(g.seq, w.start, w.start + L)) continue;
        const c = pc[w.start + L]! - pc[w.start]!;
        const a = pa[w.start + L]! - pa[w.start]!;
        if (c === L) coding.push({ g: gi, start: w.start, strand: 0, label: 1 });
        else if (a === 0) inter.push({ g: gi, start: w.start, strand: 0, label: 0 });
      }
      const k = Math.min(coding.length, inter.length);
      const pick = (xs: Example[]) => Array.from(rng.permutation(xs.length).subarray(0, k)).sort((p, q) => p - q).map((i) => xs[i]!);
      out[split].push(...pick(coding), ...pick(inter));
    }
  });
  return out;
}

function buildPromoter(genomes: Genome[], upstream: Uint8Array, rng: Rng): Record<Split, Example[]> {
  const L = DNA_TASK_INFO.promoter.seqLen;
  const gi = genomes.findIndex((g) => g.id === "fly");
  const fly = genomes[gi]!;
  const n = fly.seq.length;
  const recs = parseFasta(upstream);
  const tss: number[] = [];
  const seen = new Set<string>();
  const pos: Example[] = [];
  let mismatches = 0;
  for (const r of recs) {
    const m = /_up_(\d+)_chr2R_(\d+)_([fr])$/.exec(r.name);
    if (!m) continue;
    const up = Number(m[1]);
    const start0 = Number(m[2]) - 1; // record = chr2R[start0, start0 + up) (reverse-complemented for r)
    const strand = m[3] === "r" ? 1 : 0;
    // TSS (0-based): just after the region on +, just before it on -.
    const t = strand ? start0 - 1 : start0 + up;
    tss.push(t);
    const key = `${t}${m[3]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const ws = strand ? start0 : start0 + up - L;
    if (ws < 0 || ws + L > n) continue;
    const w = fly.seq.subarray(ws, ws + L);
    const oriented = strand ? reverseComplement(w) : w;
    const last = r.seq.subarray(r.seq.length - L);
    for (let i = 0; i < L; i++) if (oriented[i] !== last[i] && last[i] !== DNA_N && oriented[i] !== DNA_N) mismatches++;
    pos.push({ g: gi, start: ws, strand: strand as 0 | 1, label: 1 });
  }
  if (tss.length === 0 || mismatches > 0)
    throw new Error(`DNA promoter task: ${tss.length} chr2R upstream records, ${mismatches} bases differ from chr2R.fa; the two sources do not share dm3 coordinates`);
  tss.sort((a, b) => a - b);
  const near = (s: number, e: number) => {
    // any TSS in [s - D, e + D)?
    let lo = 0;
    let hi = tss.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tss[mid]! < s - PROMOTER_MIN_DIST) lo = mid + 1;
      else hi = mid;
    }
    return lo < tss.length && tss[lo]! < e + PROMOTER_MIN_DIST;
  };
  const out: Record<Split, Example[]> = { train: [], val: [], test: [] };
  for (const p of pos) {
    const s = dnaSplitOf(n, p.start, p.start + L);
    if (s && !hasN(fly.seq, p.start, p.start + L)) out[s].push(p);
  }
  for (const bl of dnaBlocks(n)) {
    const want = out[bl.split].length;
    const lo = bl.start + DNA_GUARD_BP;
    const span = bl.end - DNA_GUARD_BP - L - lo;
    const taken = new Set<number>();
    let tries = 0;
    const neg: Example[] = [];
    while (neg.length < want) {
      if (++tries > want * 1000) throw new Error(`DNA promoter task: found only ${neg.length} of ${want} distal windows in the ${bl.split} block`);
      const s = lo + rng.int(span + 1);
      const strand = rng.int(2) as 0 | 1;
      if (taken.has(s) || near(s, s + L) || hasN(fly.seq, s, s + L)) continue;
      taken.add(s);
      neg.push({ g: gi, start: s, strand, label: 0 });
    }
    out[bl.split].push(...neg);
  }
  return out;
}

function buildSpecies(genomes: Genome[]): Record<Split, Example[]> {
  const L = DNA_TASK_INFO.species.seqLen;
  const out: Record<Split, Example[]> = { train: [], val: [], test: [] };
  genomes.forEach((g, gi) => {
    for (const w of blockWindows(g.seq.length, L, g.prokaryote ? L : SPECIES_STRIDE_EUK))
      if (!hasN(g.seq, w.start, w.start + L)) out[w.split].push({ g: gi, start: w.start, strand: 0, label: gi });
  });
  return out;
}

function progress(msg: string): void {
  if (process.env.DYT_QUIET !== "1") console.log(`[dna] ${msg}`);
}

function buildFromSources(opts: DnaSourceOptions): Built {
  const t0 = Date.now();
  const dir = ensureDnaSources(opts);
  const { managed } = dnaSourceDir(opts);
  const verify = opts.verify ?? true;
  const read = (k: DnaSourceKey) => gunzipMaybe(readSource(k, dir, managed, verify), DNA_SOURCE_FILES[k].path);
  const genomes: Genome[] = [];
  const feats = new Map<number, GenbankFeature[]>();
  DNA_GENOMES.forEach((info, gi) => {
    progress(`building: reading ${gi + 1}/${DNA_GENOMES.length} ${info.name}`);
    const raw = read(info.source);
    let seq: Uint8Array;
    let features: GenbankFeature[] | undefined;
    if (DNA_SOURCE_FILES[info.source].path.includes(".gb")) ({ seq, features } = parseGenbank(raw.toString("latin1")));
    else seq = parseFasta(raw)[0]!.seq;
    if (info.features) features = parseGenbank(read(info.features).toString("latin1")).features;
    const file = path.join(dir, DNA_SOURCE_FILES[info.source].path);
    if (seq.length !== info.bp) throw new DatasetFileError(`DNA genome ${info.id}: ${seq.length} bp in ${file}, expected ${info.bp}. Fix: ${fixFor(managed, dir)}`, "corrupt", file);
    if (info.cds !== undefined) {
      const cds = features?.filter((f) => f.key === "CDS").length ?? 0;
      if (cds !== info.cds) throw new DatasetFileError(`DNA genome ${info.id}: ${cds} CDS features, expected ${info.cds}. Fix: ${fixFor(managed, dir)}`, "corrupt", file);
      feats.set(gi, features!);
    }
    genomes.push({ ...info, seq });
  });
  progress("building: tasks (coding, promoter, species)");
  const rng = new Rng(DNA_SEED);
  const examples: Record<DnaTask, Record<Split, Example[]>> = {
    coding: buildCoding(genomes, feats, rng),
    promoter: buildPromoter(genomes, read("flyUpstream"), rng),
    species: buildSpecies(genomes),
  };
  const tasks = {} as Built["tasks"];
  for (const task of DNA_TASKS) {
    tasks[task] = {} as Record<Split, BuiltTask>;
    for (const split of SPLITS) tasks[task][split] = materialise(genomes, examples[task][split], DNA_TASK_INFO[task].seqLen, rng);
  }
  const built = { genomes, tasks };
  const digest = dnaBuildDigest(built);
  if (verify && digest !== DNA_BUILD_SHA256)
    throw new Error(`DNA build: the built arrays hash to ${digest}, recorded ${DNA_BUILD_SHA256} (recipe ${DNA_RECIPE_VERSION}); the sources passed their checks, so the recipe code changed: bump DNA_RECIPE_VERSION and record the new DNA_BUILD_SHA256`);
  progress(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return built;
}

/** sha256 over every built array (genomes, then each task split's arrays), in a fixed order. */
function dnaBuildDigest(b: Built): string {
  const h = crypto.createHash("sha256");
  const add = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  for (const g of b.genomes) add(g.seq);
  for (const task of DNA_TASKS) for (const split of SPLITS) for (const k of TASK_ARRAYS) add(b.tasks[task][split][k]);
  return h.digest("hex");
}

// ---------------------------------------------------------------- cache

interface Manifest {
  format: 1;
  dataset: "dna";
  recipe: number;
  guard: number;
  seed: number;
  sources: Record<string, string>;
  genomes: { id: string; bp: number }[];
  /** file name -> bytes, sha256 */
  files: Record<string, { bytes: number; sha256: string }>;
  sizes: Record<string, Record<Split, number>>;
  builtAt: string;
}

export interface DnaLoadOptions extends DnaSourceOptions {
  /** Use the in-process and on-disk caches (default true). */
  cache?: boolean;
  /** Cache directory; default dataDir()/cache/dna. */
  cacheDir?: string;
}

export function dnaCacheDir(cacheDir?: string): string {
  return cacheDir ?? path.join(dataDir(), "cache", "dna");
}

function sourceStamp(): Record<string, string> {
  return Object.fromEntries(Object.entries(DNA_SOURCE_FILES).map(([k, f]) => [k, f.sha256]));
}

function writeCache(dir: string, b: Built): void {
  const files: Manifest["files"] = {};
  const put = (name: string, a: ArrayBufferView) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    writeFileAtomic(path.join(dir, name), bytes);
    files[name] = { bytes: bytes.length, sha256: sha256(bytes) };
  };
  for (const g of b.genomes) put(`genome-${g.id}.u8`, g.seq);
  const sizes: Manifest["sizes"] = {};
  for (const task of DNA_TASKS) {
    sizes[task] = { train: 0, val: 0, test: 0 };
    for (const split of SPLITS) {
      const t = b.tasks[task][split];
      sizes[task]![split] = t.labels.length;
      for (const k of TASK_ARRAYS) put(`${task}-${split}-${k}.bin`, t[k]);
    }
  }
  const m: Manifest = {
    format: 1,
    dataset: "dna",
    recipe: DNA_RECIPE_VERSION,
    guard: DNA_GUARD_BP,
    seed: DNA_SEED,
    sources: sourceStamp(),
    genomes: b.genomes.map((g) => ({ id: g.id, bp: g.seq.length })),
    files,
    sizes,
    builtAt: new Date().toISOString(),
  };
  writeJsonAtomic(path.join(dir, "manifest.json"), m);
}

function readCache(dir: string): Built | undefined {
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
  } catch {
    return undefined;
  }
  if (m.format !== 1 || m.recipe !== DNA_RECIPE_VERSION || m.guard !== DNA_GUARD_BP || m.seed !== DNA_SEED) return undefined;
  if (JSON.stringify(m.sources) !== JSON.stringify(sourceStamp())) return undefined;
  const get = (name: string): Uint8Array | undefined => {
    const e = m.files[name];
    if (!e) return undefined;
    try {
      const b = fs.readFileSync(path.join(dir, name));
      if (b.length !== e.bytes || sha256(b) !== e.sha256) {
        console.warn(`[dna] cache file ${path.join(dir, name)} fails its checksum; rebuilding from the sources`);
        return undefined;
      }
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return undefined;
    }
  };
  const genomes: Genome[] = [];
  for (const info of DNA_GENOMES) {
    const seq = get(`genome-${info.id}.u8`);
    if (!seq || seq.length !== info.bp) return undefined;
    genomes.push({ ...info, seq });
  }
  const tasks = {} as Built["tasks"];
  for (const task of DNA_TASKS) {
    tasks[task] = {} as Record<Split, BuiltTask>;
    for (const split of SPLITS) {
      const parts: Partial<Record<(typeof TASK_ARRAYS)[number], Uint8Array>> = {};
      for (const k of TASK_ARRAYS) {
        const a = get(`${task}-${split}-${k}.bin`);
        if (!a) return undefined;
        parts[k] = a;
      }
      const st = parts.start!;
      // Copy so the Int32Array is aligned.
      const start = new Int32Array(new Uint8Array(st).buffer);
      tasks[task][split] = { seqs: parts.seqs!, labels: parts.labels!, genome: parts.genome!, start, strand: parts.strand! };
    }
  }
  return { genomes, tasks };
}

let memo: { key: string; built: Built; origin: "files" | "cache" } | undefined;

/** Drop the in-process copy (the disk cache stays). */
export function forgetDna(): void {
  memo = undefined;
}

function loadBuilt(opts: DnaLoadOptions): { built: Built; origin: "files" | "cache" | "memory" } {
  const useCache = opts.cache !== false;
  const cdir = dnaCacheDir(opts.cacheDir);
  const key = JSON.stringify([cdir, dnaSourceDir(opts).dir, opts.verify ?? true]);
  if (useCache && memo?.key === key) return { built: memo.built, origin: "memory" };
  if (useCache) {
    const hit = readCache(cdir);
    if (hit) {
      memo = { key, built: hit, origin: "cache" };
      return { built: hit, origin: "cache" };
    }
  }
  progress(`building the DNA data sets into ${cdir} (first use)`);
  const built = buildFromSources(opts);
  if (useCache) {
    try {
      writeCache(cdir, built);
    } catch (e) {
      console.warn(`[dna] could not write the cache in ${cdir}: ${(e as Error).message}; continuing without it`);
    }
    memo = { key, built, origin: "files" };
  }
  return { built, origin: "files" };
}

// ---------------------------------------------------------------- loaders

/** A genome with its blocks. */
export interface DnaGenome extends DnaGenomeInfo {
  seq: Uint8Array;
  blocks: DnaBlock[];
}

/** The 10 checked genomes (codes; views into the cache, do not modify). */
export function loadDnaGenomes(opts: DnaLoadOptions = {}): DnaGenome[] {
  return loadBuilt(opts).built.genomes.map((g) => ({ ...g, blocks: dnaBlocks(g.seq.length) }));
}

/** One split of the pretraining stream: the guarded blocks of the genomes, one segment each. */
export interface DnaStream {
  name: string;
  split: Split;
  /** Segments back to back (codes). */
  tokens: Uint8Array;
  vocabSize: number;
  /** Each segment: offset in `tokens`, length, genome id, start in the genome. */
  segments: { offset: number; length: number; genome: string; genomeStart: number }[];
  origin: "files" | "cache" | "memory";
}

export interface DnaPretrainOptions extends DnaLoadOptions {
  split?: Split;
  /** Genome ids to use (default all 10). */
  genomes?: readonly string[];
  /** Keep at most this many bases of each segment (its start; deterministic; for smoke runs). */
  maxBasesPerGenome?: number;
}

export function loadDnaPretrain(opts: DnaPretrainOptions = {}): DnaStream {
  const split = opts.split ?? "train";
  if (!SPLITS.includes(split)) throw new Error(`loadDnaPretrain: unknown split "${split}"; use train, val or test`);
  const ids = opts.genomes ?? DNA_GENOMES.map((g) => g.id);
  for (const id of ids) if (!DNA_GENOMES.some((g) => g.id === id)) throw new Error(`loadDnaPretrain: unknown genome "${id}"; valid: ${DNA_GENOMES.map((g) => g.id).join(", ")}`);
  const cap = opts.maxBasesPerGenome;
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 2)) throw new Error(`loadDnaPretrain: maxBasesPerGenome must be an integer >= 2, got ${cap}`);
  const { built, origin } = loadBuilt(opts);
  const parts: { g: Genome; s: number; e: number }[] = [];
  for (const g of built.genomes) {
    if (!ids.includes(g.id)) continue;
    const bl = dnaBlocks(g.seq.length).find((b) => b.split === split)!;
    const s = bl.start + DNA_GUARD_BP;
    const e = Math.min(bl.end - DNA_GUARD_BP, cap === undefined ? Infinity : s + cap);
    parts.push({ g, s, e });
  }
  const tokens = new Uint8Array(parts.reduce((a, p) => a + p.e - p.s, 0));
  const segments: DnaStream["segments"] = [];
  let o = 0;
  for (const p of parts) {
    tokens.set(p.g.seq.subarray(p.s, p.e), o);
    segments.push({ offset: o, length: p.e - p.s, genome: p.g.id, genomeStart: p.s });
    o += p.e - p.s;
  }
  return { name: `dna:${ids.length === DNA_GENOMES.length ? "all" : ids.join("+")}`, split, tokens, vocabSize: DNA_VOCAB_SIZE, segments, origin };
}

/** Next-token windows of seqLen + 1 bases inside segments: window starts in `tokens`, segment by segment, stride seqLen. */
export function dnaWindowStarts(ds: Pick<DnaStream, "segments">, seqLen: number): Int32Array {
  const out: number[] = [];
  for (const s of ds.segments) for (let k = 0; (k + 1) * seqLen + 1 <= s.length; k++) out.push(s.offset + k * seqLen);
  return Int32Array.from(out);
}

/** A labelled DNA task split. */
export interface DnaClassDataset {
  name: string;
  task: DnaTask;
  split: Split;
  n: number;
  seqLen: number;
  /** n * seqLen codes, strand-oriented. */
  seqs: Uint8Array;
  labels: Int32Array;
  numClasses: number;
  classNames: readonly string[];
  /** Where each example came from: genome index (DNA_GENOMES), start in the genome, strand (1 = reverse complement). */
  genome: Uint8Array;
  start: Int32Array;
  strand: Uint8Array;
  origin: "files" | "cache" | "memory";
}

export interface DnaTaskOptions extends DnaLoadOptions {
  split?: Split;
  /** Keep the first `limit` examples (the split is stored shuffled, so a random sample). */
  limit?: number;
}

export function loadDnaTask(task: DnaTask, opts: DnaTaskOptions = {}): DnaClassDataset {
  if (!(DNA_TASKS as readonly string[]).includes(task)) throw new Error(`loadDnaTask: unknown task "${task}"; valid: ${DNA_TASKS.join(", ")}`);
  const split = opts.split ?? "train";
  if (!SPLITS.includes(split)) throw new Error(`loadDnaTask: unknown split "${split}"; use train, val or test`);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) throw new RangeError(`loadDnaTask: limit must be a non-negative integer, got ${opts.limit}`);
  const { built, origin } = loadBuilt(opts);
  const t = built.tasks[task][split];
  const info = DNA_TASK_INFO[task];
  const n = Math.min(t.labels.length, opts.limit ?? Infinity);
  return {
    name: `dna-${task}`,
    task,
    split,
    n,
    seqLen: info.seqLen,
    seqs: t.seqs.subarray(0, n * info.seqLen),
    labels: Int32Array.from(t.labels.subarray(0, n)),
    numClasses: info.classNames.length,
    classNames: info.classNames,
    genome: t.genome.subarray(0, n),
    start: t.start.subarray(0, n),
    strand: t.strand.subarray(0, n),
    origin,
  };
}

/** Sizes per split: pretraining bases, and examples per task (what datasets.md lists). */
export function dnaSummary(opts: DnaLoadOptions = {}): { pretrainBases: Record<Split, number>; tasks: Record<DnaTask, Record<Split, number>> } {
  const pretrainBases = { train: 0, val: 0, test: 0 };
  for (const s of SPLITS) pretrainBases[s] = loadDnaPretrain({ ...opts, split: s }).tokens.length;
  const tasks = {} as Record<DnaTask, Record<Split, number>>;
  for (const t of DNA_TASKS) tasks[t] = { train: 0, val: 0, test: 0 };
  for (const t of DNA_TASKS) for (const s of SPLITS) tasks[t][s] = loadDnaTask(t, { ...opts, split: s }).n;
  return { pretrainBases, tasks };
}
