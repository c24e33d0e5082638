/**
 * Emoji32: a CIFAR-shaped colour image set (32x32x3, 9 classes) built from
 * the npm packages emoji-datasource-google and emoji-datasource-twitter
 * 16.0.0 (package MIT; images Apache-2.0 (Noto) / CC-BY-4.0 (Twemoji)), as
 * ../shared/reference/datasets.md describes. No CIFAR is reachable offline.
 *
 * Source: opts.dir, else env DYT_EMOJI_DIR, else the installed packages
 * (node_modules); a source directory holds emoji-datasource-google/ and
 * emoji-datasource-twitter/ as npm lays them out.
 *
 * Recipe: every emoji.json entry except category "Component" (1,906 bases),
 * plus its skin-tone variants when `skinTones` is true, in both styles; each
 * 64x64 RGBA PNG decoded with pngjs, composited over white, 2x2-averaged to
 * 32x32 RGB u8. Label = the entry's category (EMOJI32_CLASSES).
 * Split (leakage guard: a base emoji, its skin tones and both styles stay
 * together): first 4 bytes of sha256(base `unified`) as uint32, mod 10:
 * 0-7 train, 8 val, 9 test. Base set: 3,812 images, 3,080 / 378 / 354;
 * with skin tones: 7,562, 6,020 / 828 / 714 (datasets.md's 5,952 / 842 / 768
 * used another hash). Build: 1 s (base), 2 s (skin tones).
 * Checks: sha256 of each emoji.json and of the built u8 arrays against the
 * constants below (recorded from 16.0.0), so a changed or damaged PNG is an
 * error naming the fix, not a silently different data set.
 * Cache: the built arrays in dataDir()/cache/emoji32/ (sha-checked on read),
 * plus an in-process copy (forgetEmoji32() drops it).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PNG } from "pngjs";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { dataDir } from "../util/paths";
import type { ImageDataset, Split } from "./dataset";
import { DatasetFileError } from "./fashion-mnist";

export const EMOJI32_PACKAGES = {
  version: "16.0.0",
  styles: ["google", "twitter"] as const,
  license: "packages MIT; images Apache-2.0 (Noto, google) / CC-BY-4.0 (Twemoji, twitter)",
} as const;
export type EmojiStyle = (typeof EMOJI32_PACKAGES.styles)[number];

/** The 9 emoji.json categories used as classes, in Unicode's order ("Component" is dropped). */
export const EMOJI32_CLASSES = [
  "Smileys & Emotion",
  "People & Body",
  "Animals & Nature",
  "Food & Drink",
  "Travel & Places",
  "Activities",
  "Objects",
  "Symbols",
  "Flags",
] as const;

/** sha256 of each style's emoji.json in 16.0.0 (the two files are identical: one release, one index). */
export const EMOJI32_JSON_SHA256: Record<EmojiStyle, string> = {
  google: "1d602e65be88772bf8cc368ce16b855d719eeddbafe128d471b80203f494d29f",
  twitter: "1d602e65be88772bf8cc368ce16b855d719eeddbafe128d471b80203f494d29f",
};

/** sha256 of the built images / labels / base-group arrays (all splits, build order), per variant of the recipe. */
export const EMOJI32_BUILD_SHA256: Record<"base" | "skinTones", { n: number; images: string; labels: string }> = {
  base: { n: 3812, images: "ea573661a2b0c15912b9c1af2c3d170ba341222afb966c157052c2ba0490a74b", labels: "ed3baf013fabb61a5bccb24f24a573f3b1e7c3895c766795c5b0014e31ced870" },
  skinTones: { n: 7562, images: "97b3af744f5929c1e320396fa18730ff8b0df513575d780b8956cd18606e170b", labels: "2efc69fccefbd4ab5ce09c50c152c17f3a7c3f41f23688f7b4b67dcb4ed5afa0" },
};

/**
 * Pooled mean / std of pixel/255 over the train split of the base set (all
 * channels; mostly white background): 0.75262, 0.30573, rounded.
 * Recomputed by test/vision-models.test.ts.
 */
export const EMOJI32_MEAN = 0.753;
export const EMOJI32_STD = 0.306;

const SIZE = 32;
const PIXELS = SIZE * SIZE * 3;

const FIX_MISSING =
  "run `npm ci` (installs emoji-datasource-google@16.0.0, emoji-datasource-twitter@16.0.0 and pngjs from package-lock.json) " +
  "or set DYT_EMOJI_DIR to a directory holding emoji-datasource-google/ and emoji-datasource-twitter/";
const fixCorrupt = (style: string) => `reinstall the package: \`rm -rf node_modules/emoji-datasource-${style} && npm ci\` (or re-copy it if DYT_EMOJI_DIR points at a copy)`;

export interface Emoji32Options {
  /** Default "train". */
  split?: Split;
  /** Keep only the first `limit` examples of the split. */
  limit?: number;
  /** Include skin-tone variants (7,562 images, People & Body ~60 %); default false (3,812, near-balanced). */
  skinTones?: boolean;
  /** Source directory; default env DYT_EMOJI_DIR, else the installed npm packages. */
  dir?: string;
  /** "standard" (default): (p/255 - EMOJI32_MEAN) / EMOJI32_STD; "unit": [0, 1]; "symmetric": [-1, 1]. */
  normalize?: "standard" | "unit" | "symmetric";
  /** Use the in-process and on-disk caches (default true). */
  cache?: boolean;
  /** Default dataDir()/cache/emoji32. */
  cacheDir?: string;
}

/** The built u8 set, all splits. */
export interface Emoji32U8 {
  n: number;
  /** n*32*32*3 pixels, NHWC. */
  images: Uint8Array;
  labels: Uint8Array;
  /** 0 train, 1 val, 2 test per example. */
  splits: Uint8Array;
  /** Index of each example's base emoji (group of skin tones and styles). */
  groups: Int32Array;
  origin: ImageDataset["origin"];
}

interface EmojiEntry {
  unified: string;
  image: string;
  category: string;
  sort_order: number;
  skin_variations?: Record<string, { unified: string; image: string }>;
}

const memo = new Map<string, Emoji32U8>();
export function forgetEmoji32(): void {
  memo.clear();
}

export function emoji32SourceDir(style: EmojiStyle, dir?: string): string {
  const root = dir || process.env.DYT_EMOJI_DIR;
  if (root) return path.join(root, `emoji-datasource-${style}`);
  try {
    return path.dirname(require.resolve(`emoji-datasource-${style}/package.json`));
  } catch {
    throw new DatasetFileError(`Emoji32: npm package emoji-datasource-${style} is not installed. Fix: ${FIX_MISSING}.`, "missing", `emoji-datasource-${style}`);
  }
}

export function emoji32CacheDir(cacheDir?: string): string {
  return cacheDir ?? path.join(dataDir(), "cache", "emoji32");
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DatasetFileError(`Emoji32 file ${file} is missing or unreadable (${err.code ?? err.message}). Fix: ${FIX_MISSING}.`, "missing", file);
  }
}

/** Which split a base emoji falls in (stable: depends on its `unified` code only). */
export function emoji32SplitOf(unified: string): Split {
  const h = crypto.createHash("sha256").update(unified).digest().readUInt32BE(0) % 10;
  return h <= 7 ? "train" : h === 8 ? "val" : "test";
}

/** 64x64 RGBA PNG -> 32x32x3 u8: alpha over white, then 2x2 box average. */
export function decodeEmojiPng(bytes: Uint8Array, out: Uint8Array, offset: number, file = "png"): void {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (png.width !== 64 || png.height !== 64) throw new Error(`${file}: expected 64x64, got ${png.width}x${png.height}`);
  const d = png.data;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const p = ((2 * y + dy) * 64 + (2 * x + dx)) * 4;
            const a = d[p + 3]! / 255;
            s += d[p + c]! * a + 255 * (1 - a);
          }
        out[offset + (y * SIZE + x) * 3 + c] = Math.round(s / 4);
      }
}

function build(opts: Emoji32Options): Omit<Emoji32U8, "origin"> {
  const skin = opts.skinTones === true;
  const styles = EMOJI32_PACKAGES.styles;
  const lists = styles.map((style) => {
    const dir = emoji32SourceDir(style, opts.dir);
    const jsonFile = path.join(dir, "emoji.json");
    const bytes = readFile(jsonFile);
    const sum = sha256(bytes);
    if (sum !== EMOJI32_JSON_SHA256[style])
      throw new DatasetFileError(
        `Emoji32 file ${jsonFile} is corrupt or not version ${EMOJI32_PACKAGES.version}: sha256 ${sum}, expected ${EMOJI32_JSON_SHA256[style]}. Fix: ${fixCorrupt(style)}.`,
        "corrupt",
        jsonFile,
      );
    return { style, dir, entries: JSON.parse(bytes.toString("utf8")) as EmojiEntry[] };
  });
  // Both styles list the same entries in the same order (same emoji-datasource release); the google list drives.
  const bases = lists[0]!.entries.filter((e) => e.category !== "Component");
  const items: { image: string; base: number; label: number }[] = [];
  bases.forEach((e, bi) => {
    const label = (EMOJI32_CLASSES as readonly string[]).indexOf(e.category);
    if (label < 0) throw new DatasetFileError(`Emoji32: unknown category "${e.category}" in emoji.json`, "corrupt", "emoji.json");
    const images = [e.image, ...(skin ? Object.keys(e.skin_variations ?? {}).sort().map((k) => e.skin_variations![k]!.image) : [])];
    for (const image of images) items.push({ image, base: bi, label });
  });
  const n = items.length * styles.length;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  const splits = new Uint8Array(n);
  const groups = new Int32Array(n);
  const splitIds = bases.map((e) => ["train", "val", "test"].indexOf(emoji32SplitOf(e.unified)));
  let k = 0;
  for (const it of items)
    for (const { style, dir } of lists) {
      const file = path.join(dir, "img", style, "64", it.image);
      const bytes = readFile(file);
      try {
        decodeEmojiPng(bytes, images, k * PIXELS, file);
      } catch (e) {
        throw new DatasetFileError(`Emoji32 image ${file} cannot be decoded: ${(e as Error).message}. Fix: ${fixCorrupt(style)}.`, "corrupt", file);
      }
      labels[k] = it.label;
      splits[k] = splitIds[it.base]!;
      groups[k] = it.base;
      k++;
    }
  const want = EMOJI32_BUILD_SHA256[skin ? "skinTones" : "base"];
  const si = sha256(images);
  const sl = sha256(labels);
  if (process.env.DYT_EMOJI_RECORD !== "1" && (si !== want.images || sl !== want.labels || n !== want.n))
    throw new DatasetFileError(
      `Emoji32: the built set differs from the recorded one (n ${n} vs ${want.n}, images sha256 ${si} vs ${want.images}, labels ${sl} vs ${want.labels}): ` +
        `some source file changed. Fix: ${fixCorrupt("google")} and ${fixCorrupt("twitter")}.`,
      "corrupt",
      lists[0]!.dir,
    );
  return { n, images, labels, splits, groups };
}

interface CacheManifest {
  format: 1;
  dataset: "emoji32";
  variant: "base" | "skinTones";
  n: number;
  sha256: Record<"images" | "labels" | "splits" | "groups", string>;
  packagesVersion: string;
  writtenAt: string;
}

const CACHE_FILES = ["images", "labels", "splits", "groups"] as const;

function readCache(dir: string, variant: "base" | "skinTones"): Omit<Emoji32U8, "origin"> | undefined {
  const mf = path.join(dir, `${variant}.manifest.json`);
  if (!fs.existsSync(mf)) return undefined;
  try {
    const m = JSON.parse(fs.readFileSync(mf, "utf8")) as CacheManifest;
    const want = EMOJI32_BUILD_SHA256[variant];
    if (m.format !== 1 || m.n !== want.n || m.sha256.images !== want.images || m.sha256.labels !== want.labels) return undefined;
    const got: Record<string, Buffer> = {};
    for (const f of CACHE_FILES) {
      const b = fs.readFileSync(path.join(dir, `${variant}.${f}.bin`));
      if (sha256(b) !== m.sha256[f]) {
        console.warn(`[emoji32] cache file ${variant}.${f}.bin in ${dir} is corrupt; rebuilding it from the packages`);
        return undefined;
      }
      got[f] = b;
    }
    const g = got.groups!;
    return {
      n: m.n,
      images: new Uint8Array(got.images!),
      labels: new Uint8Array(got.labels!),
      splits: new Uint8Array(got.splits!),
      groups: new Int32Array(g.buffer.slice(g.byteOffset, g.byteOffset + g.byteLength)),
    };
  } catch {
    return undefined;
  }
}

function writeCache(dir: string, variant: "base" | "skinTones", d: Omit<Emoji32U8, "origin">): void {
  const bytes: Record<(typeof CACHE_FILES)[number], Uint8Array> = {
    images: d.images,
    labels: d.labels,
    splits: d.splits,
    groups: new Uint8Array(d.groups.buffer, d.groups.byteOffset, d.groups.byteLength),
  };
  const sums = {} as CacheManifest["sha256"];
  for (const f of CACHE_FILES) {
    writeFileAtomic(path.join(dir, `${variant}.${f}.bin`), Buffer.from(bytes[f]));
    sums[f] = sha256(bytes[f]);
  }
  const m: CacheManifest = { format: 1, dataset: "emoji32", variant, n: d.n, sha256: sums, packagesVersion: EMOJI32_PACKAGES.version, writtenAt: new Date().toISOString() };
  writeJsonAtomic(path.join(dir, `${variant}.manifest.json`), m);
}

/** The checked u8 set, all splits (build order: base, skin tones, style). */
export function loadEmoji32U8(opts: Emoji32Options = {}): Emoji32U8 {
  const variant = opts.skinTones ? "skinTones" : "base";
  const useCache = opts.cache !== false;
  const key = `${variant}:${opts.dir ?? process.env.DYT_EMOJI_DIR ?? ""}`;
  if (useCache) {
    const hit = memo.get(key);
    if (hit) return { ...hit, origin: "memory" };
    const c = readCache(emoji32CacheDir(opts.cacheDir), variant);
    if (c) {
      memo.set(key, { ...c, origin: "cache" });
      return { ...c, origin: "cache" };
    }
  }
  const d = build(opts);
  if (useCache) {
    memo.set(key, { ...d, origin: "files" });
    try {
      writeCache(emoji32CacheDir(opts.cacheDir), variant, d);
    } catch (e) {
      console.warn(`[emoji32] could not write the cache: ${(e as Error).message}; continuing without it`);
    }
  }
  return { ...d, origin: "files" };
}

/** One split as a normalised float ImageDataset (NHWC 32x32x3) with int32 labels. */
export function loadEmoji32(opts: Emoji32Options = {}): ImageDataset {
  const split = opts.split ?? "train";
  const sid = ["train", "val", "test"].indexOf(split);
  if (sid < 0) throw new Error(`Emoji32: unknown split ${JSON.stringify(split)}; use "train", "val" or "test"`);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0))
    throw new RangeError(`Emoji32: limit must be a non-negative integer, got ${opts.limit}`);
  const kind = opts.normalize ?? "standard";
  const norm =
    kind === "standard" ? { kind, mean: EMOJI32_MEAN, std: EMOJI32_STD } : kind === "unit" ? { kind, mean: 0, std: 1 } : kind === "symmetric" ? { kind, mean: 0.5, std: 0.5 } : undefined;
  if (!norm) throw new Error(`Emoji32: unknown normalize ${JSON.stringify(kind)}; use "standard", "unit" or "symmetric"`);
  const u8 = loadEmoji32U8(opts);
  const idx: number[] = [];
  for (let i = 0; i < u8.n; i++) if (u8.splits[i] === sid) idx.push(i);
  const n = opts.limit !== undefined ? Math.min(opts.limit, idx.length) : idx.length;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (v / 255 - norm.mean) / norm.std;
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    const src = u8.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) images[j * PIXELS + p] = lut[src[p]!]!;
    labels[j] = u8.labels[i]!;
  }
  return {
    name: opts.skinTones ? "emoji32-skintones" : "emoji32",
    split,
    n,
    height: SIZE,
    width: SIZE,
    channels: 3,
    numClasses: EMOJI32_CLASSES.length,
    classNames: EMOJI32_CLASSES,
    images,
    labels,
    normalization: norm,
    origin: u8.origin,
  };
}
