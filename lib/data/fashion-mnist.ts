/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; MIT licence), read from the
 * Debian package `dataset-fashion-mnist`, checked, cached, split.
 *
 * Source directory: opts.dir, else env DYT_FASHION_MNIST_DIR, else
 * /usr/share/datasets/fashion-mnist (where the Debian package puts it;
 * `npm run setup` installs it).
 *
 * Checks: each .gz file read is hashed (SHA-256) against the constants below,
 * recorded from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1;
 * then parsed as IDX (lib/data/idx.ts) and its dims and label range checked.
 *
 * Splits: "train" = the first 55,000 of the official 60,000 training images,
 * "val" = the last 5,000 of them, "test" = the official 10,000 test images.
 * `limit` keeps the first `limit` examples of the split (deterministic).
 *
 * Cache: the checked, uncompressed IDX files are kept in
 * dataDir()/cache/fashion-mnist/ (plus manifest.json), written atomically, so
 * later loads skip gunzip. A cached file is accepted only if its SHA-256 equals
 * the recorded one (so a corrupt cache is noticed and rebuilt from the source).
 * Within one process the checked u8 arrays are also kept in memory (55 MB for
 * both official sets; forgetFashionMnist() drops them). Floats are made only
 * for the split and limit asked for.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { dataDir } from "../util/paths";
import type { ImageDataset, Split } from "./dataset";
import { parseIdx } from "./idx";

export const FASHION_MNIST_DEBIAN = {
  package: "dataset-fashion-mnist",
  /** The Debian package version the checksums below were recorded from (Debian 12 "bookworm"). */
  version: "0.0~git20200523.55506a9-1",
  dir: "/usr/share/datasets/fashion-mnist",
  license: "MIT",
} as const;

export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/**
 * Per-pixel mean and std of pixel/255 over all 60,000 official training
 * images (all pixels pooled, population std). Computed here from the Debian
 * files: mean 0.286041, std 0.353024; rounded as commonly published.
 * test/data.test.ts recomputes them.
 */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

/** Official training images held out as the validation split (the last ones). */
export const FASHION_MNIST_VAL_SIZE = 5000;

interface SourceFile {
  /** File name in the source directory (gzipped IDX). */
  file: string;
  /** SHA-256 of the .gz file as shipped by Debian. */
  sha256: string;
  /** SHA-256 of the uncompressed IDX file (what the cache holds). */
  rawSha256: string;
  dims: readonly number[];
}

type Official = "train" | "test";

/** The four files, with checksums recorded from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1. */
export const FASHION_MNIST_FILES: Record<Official, { images: SourceFile; labels: SourceFile }> = {
  train: {
    images: {
      file: "train-images-idx3-ubyte.gz",
      sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
      rawSha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
      dims: [60000, 28, 28],
    },
    labels: {
      file: "train-labels-idx1-ubyte.gz",
      sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
      rawSha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
      dims: [60000],
    },
  },
  test: {
    images: {
      file: "t10k-images-idx3-ubyte.gz",
      sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
      rawSha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
      dims: [10000, 28, 28],
    },
    labels: {
      file: "t10k-labels-idx1-ubyte.gz",
      sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
      rawSha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
      dims: [10000],
    },
  },
};

const SETUP_FIX =
  "run `npm run setup` (installs the Debian package dataset-fashion-mnist) or set DYT_FASHION_MNIST_DIR " +
  "to a directory holding " +
  [FASHION_MNIST_FILES.train.images, FASHION_MNIST_FILES.train.labels, FASHION_MNIST_FILES.test.images, FASHION_MNIST_FILES.test.labels]
    .map((f) => f.file)
    .join(", ");
const REINSTALL_FIX = "`sudo apt-get install --reinstall dataset-fashion-mnist` (or re-copy the file if DYT_FASHION_MNIST_DIR points at a copy)";

/** A data set file that is missing or fails its checks. */
export class DatasetFileError extends Error {
  constructor(
    message: string,
    readonly code: "missing" | "corrupt",
    readonly file: string,
  ) {
    super(message);
    this.name = "DatasetFileError";
  }
}

export type Normalization = "standard" | "unit" | "symmetric";

export interface FashionMnistOptions {
  /** Default "train". */
  split?: Split;
  /** Keep only the first `limit` examples of the split. */
  limit?: number;
  /** Source directory; default env DYT_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist. */
  dir?: string;
  /**
   * "standard" (default): (p/255 - 0.2860) / 0.3530; "unit": p/255 in [0, 1];
   * "symmetric": p/127.5 - 1 in [-1, 1] (diffusion models).
   */
  normalize?: Normalization;
  /** Use the in-process and on-disk caches (default true). false: always read and verify the source files. */
  cache?: boolean;
  /** Cache directory; default dataDir()/cache/fashion-mnist. */
  cacheDir?: string;
}

/** The checked u8 arrays of one split (views, not copies). */
export interface FashionMnistU8 {
  split: Split;
  n: number;
  /** n*28*28 pixels 0..255. */
  images: Uint8Array;
  /** n labels 0..9. */
  labels: Uint8Array;
  origin: ImageDataset["origin"];
}

interface OfficialU8 {
  images: Uint8Array;
  labels: Uint8Array;
}

const memo = new Map<Official, OfficialU8>();

/** Drop the in-process copies of the checked arrays (the disk cache stays). */
export function forgetFashionMnist(): void {
  memo.clear();
}

/** The source directory that would be read: opts.dir, env DYT_FASHION_MNIST_DIR, or the Debian path. */
export function fashionMnistDir(dir?: string): string {
  return dir || process.env.DYT_FASHION_MNIST_DIR || FASHION_MNIST_DEBIAN.dir;
}

export function fashionMnistCacheDir(cacheDir?: string): string {
  return cacheDir ?? path.join(dataDir(), "cache", "fashion-mnist");
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

function rawName(f: SourceFile): string {
  return f.file.replace(/\.gz$/, "");
}

function checkContent(part: Official, images: Uint8Array, labels: Uint8Array, where: string): void {
  const n = FASHION_MNIST_FILES[part].labels.dims[0]!;
  if (labels.length !== n || images.length !== n * 28 * 28) {
    throw new DatasetFileError(`Fashion-MNIST ${part} set in ${where}: expected ${n} examples, got ${labels.length} labels and ${images.length / 784} images`, "corrupt", where);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! > 9) throw new DatasetFileError(`Fashion-MNIST ${part} labels in ${where}: label ${labels[i]} at index ${i} is not in 0..9`, "corrupt", where);
  }
}

/** Read, hash-check and parse one source file. */
function readSource(dir: string, f: SourceFile): Uint8Array {
  const file = path.join(dir, f.file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" || err.code === "ENOTDIR") {
      const dirNote = fs.existsSync(dir) ? "" : ` (the directory ${dir} does not exist)`;
      throw new DatasetFileError(`Fashion-MNIST file ${file} is missing${dirNote}. Fix: ${SETUP_FIX}.`, "missing", file);
    }
    throw new DatasetFileError(`Fashion-MNIST file ${file} cannot be read: ${err.message}`, "missing", file);
  }
  const actual = sha256(bytes);
  if (actual !== f.sha256) {
    throw new DatasetFileError(
      `Fashion-MNIST file ${file} is corrupt or not the expected version: sha256 ${actual}, expected ${f.sha256} ` +
        `(Debian ${FASHION_MNIST_DEBIAN.package} ${FASHION_MNIST_DEBIAN.version}). Fix: ${REINSTALL_FIX}.`,
      "corrupt",
      file,
    );
  }
  let idx;
  try {
    idx = parseIdx(bytes, file);
  } catch (e) {
    throw new DatasetFileError(`${(e as Error).message}. Fix: ${REINSTALL_FIX}.`, "corrupt", file);
  }
  if (idx.dims.join(",") !== f.dims.join(",")) {
    throw new DatasetFileError(`Fashion-MNIST file ${file}: dims [${idx.dims.join(", ")}], expected [${f.dims.join(", ")}]. Fix: ${REINSTALL_FIX}.`, "corrupt", file);
  }
  return idx.data;
}

interface CacheManifest {
  format: 1;
  dataset: "fashion-mnist";
  debianPackage: string;
  debianVersion: string;
  files: Record<string, { bytes: number; sha256: string; dims: number[]; source: string; sourceSha256: string; writtenAt: string }>;
}

function readManifest(dir: string): CacheManifest | undefined {
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file)) return undefined;
  try {
    const m = JSON.parse(fs.readFileSync(file, "utf8")) as CacheManifest;
    if (m.format !== 1 || m.dataset !== "fashion-mnist" || typeof m.files !== "object" || m.files === null) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** The cached, checked arrays of one official set, or undefined (absent, stale or corrupt: rebuilt by the caller). */
function readCache(dir: string, part: Official): OfficialU8 | undefined {
  const m = readManifest(dir);
  if (!m) return undefined;
  const out: Partial<OfficialU8> = {};
  for (const kind of ["images", "labels"] as const) {
    const f = FASHION_MNIST_FILES[part][kind];
    const name = rawName(f);
    const entry = m.files[name];
    if (!entry || entry.sha256 !== f.rawSha256) return undefined;
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    const actual = sha256(bytes);
    if (actual !== f.rawSha256) {
      console.warn(`[fashion-mnist] cache file ${file} is corrupt (sha256 ${actual}, expected ${f.rawSha256}); rebuilding it from the source files`);
      return undefined;
    }
    try {
      out[kind] = parseIdx(bytes, file).data;
    } catch {
      return undefined;
    }
  }
  return out as OfficialU8;
}

function writeCache(dir: string, part: Official, data: OfficialU8): void {
  const m: CacheManifest = readManifest(dir) ?? {
    format: 1,
    dataset: "fashion-mnist",
    debianPackage: FASHION_MNIST_DEBIAN.package,
    debianVersion: FASHION_MNIST_DEBIAN.version,
    files: {},
  };
  for (const kind of ["images", "labels"] as const) {
    const f = FASHION_MNIST_FILES[part][kind];
    const arr = data[kind];
    // Rebuild the uncompressed IDX file: header + payload.
    const header = Buffer.alloc(4 + 4 * f.dims.length);
    header[2] = 0x08;
    header[3] = f.dims.length;
    f.dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    const bytes = Buffer.concat([header, arr]);
    const sum = sha256(bytes);
    if (sum !== f.rawSha256) throw new Error(`internal: rebuilt ${rawName(f)} has sha256 ${sum}, expected ${f.rawSha256}`);
    writeFileAtomic(path.join(dir, rawName(f)), bytes);
    m.files[rawName(f)] = { bytes: bytes.length, sha256: sum, dims: [...f.dims], source: f.file, sourceSha256: f.sha256, writtenAt: new Date().toISOString() };
  }
  writeJsonAtomic(path.join(dir, "manifest.json"), m);
}

function loadOfficial(part: Official, opts: FashionMnistOptions): { data: OfficialU8; origin: ImageDataset["origin"] } {
  const useCache = opts.cache !== false;
  if (useCache) {
    const hit = memo.get(part);
    if (hit) return { data: hit, origin: "memory" };
  }
  const cacheDir = fashionMnistCacheDir(opts.cacheDir);
  if (useCache) {
    const cached = readCache(cacheDir, part);
    if (cached) {
      checkContent(part, cached.images, cached.labels, cacheDir);
      memo.set(part, cached);
      return { data: cached, origin: "cache" };
    }
  }
  const dir = fashionMnistDir(opts.dir);
  const files = FASHION_MNIST_FILES[part];
  // Labels first: small, so a missing or corrupt set fails fast.
  const labels = readSource(dir, files.labels);
  const images = readSource(dir, files.images);
  checkContent(part, images, labels, dir);
  const data = { images, labels };
  if (useCache) {
    memo.set(part, data);
    try {
      writeCache(cacheDir, part, data);
    } catch (e) {
      console.warn(`[fashion-mnist] could not write the cache in ${cacheDir}: ${(e as Error).message}; continuing without it`);
    }
  }
  return { data, origin: "files" };
}

function splitRange(split: Split): { part: Official; start: number; end: number } {
  const nTrain = FASHION_MNIST_FILES.train.labels.dims[0]!;
  switch (split) {
    case "train":
      return { part: "train", start: 0, end: nTrain - FASHION_MNIST_VAL_SIZE };
    case "val":
      return { part: "train", start: nTrain - FASHION_MNIST_VAL_SIZE, end: nTrain };
    case "test":
      return { part: "test", start: 0, end: FASHION_MNIST_FILES.test.labels.dims[0]! };
    default:
      throw new Error(`Fashion-MNIST: unknown split ${JSON.stringify(split)}; use "train", "val" or "test"`);
  }
}

/** The checked u8 pixels and labels of a split (views into the cached arrays; do not modify). */
export function loadFashionMnistU8(opts: FashionMnistOptions = {}): FashionMnistU8 {
  const split = opts.split ?? "train";
  const { part, start, end } = splitRange(split);
  let n = end - start;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) throw new RangeError(`Fashion-MNIST: limit must be a non-negative integer, got ${opts.limit}`);
    n = Math.min(n, opts.limit);
  }
  const { data, origin } = loadOfficial(part, opts);
  return {
    split,
    n,
    images: data.images.subarray(start * 784, (start + n) * 784),
    labels: data.labels.subarray(start, start + n),
    origin,
  };
}

function normalizationOf(kind: Normalization): { kind: Normalization; mean: number; std: number } {
  switch (kind) {
    case "standard":
      return { kind, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };
    case "unit":
      return { kind, mean: 0, std: 1 };
    case "symmetric":
      return { kind, mean: 0.5, std: 0.5 };
    default:
      throw new Error(`Fashion-MNIST: unknown normalize ${JSON.stringify(kind)}; use "standard", "unit" or "symmetric"`);
  }
}

/**
 * Load one split of Fashion-MNIST as normalised float32 images (NHWC,
 * 28x28x1) and int32 labels. See the file comment for checks, splits, caching.
 */
export function loadFashionMnist(opts: FashionMnistOptions = {}): ImageDataset {
  const norm = normalizationOf(opts.normalize ?? "standard");
  const u8 = loadFashionMnistU8(opts);
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (v / 255 - norm.mean) / norm.std;
  const images = new Float32Array(u8.images.length);
  const src = u8.images;
  for (let i = 0; i < src.length; i++) images[i] = lut[src[i]!]!;
  const labels = Int32Array.from(u8.labels);
  return {
    name: "fashion-mnist",
    split: u8.split,
    n: u8.n,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    classNames: FASHION_MNIST_CLASSES,
    images,
    labels,
    normalization: norm,
    origin: u8.origin,
  };
}

/**
 * Hash-check all four source files (for set-up scripts and CI); throws the
 * same errors as loadFashionMnist. Returns the directory checked.
 */
export function verifyFashionMnistSource(dir?: string): string {
  const d = fashionMnistDir(dir);
  for (const part of ["train", "test"] as const) {
    for (const kind of ["labels", "images"] as const) readSource(d, FASHION_MNIST_FILES[part][kind]);
  }
  return d;
}
