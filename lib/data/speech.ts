/**
 * Recorded speech for the wav2vec 2.0 experiments (../shared/reference/
 * datasets.md, "Speech"): game dialogue, IVR prompts and volunteer recordings
 * from 14 Debian 12 packages, resampled to 16 kHz mono, split by speaker group.
 *
 * Sources. `apt-get download` of SPEECH_PACKAGES (471 MB of .deb, no root
 * needed) into dataDir()/sources/speech/debs (git-ignored; kept, so a build
 * of another subset downloads nothing). Every .deb is checked against the
 * sha256 recorded below before it is used; a missing or changed .deb throws
 * DatasetFileError naming the fix. opts.debDir or env DYT_SPEECH_DEB_DIR
 * points at a directory that already holds the .debs (then nothing is
 * downloaded). Only the audio members are extracted (`dpkg-deb
 * --fsys-tarfile | tar -x --wildcards`), into a temporary directory removed
 * after the build.
 *
 * Clips. One rule per package says which files are speech and what their
 * language and group are (SPEECH_PACKAGES[].rule): Tux Paint
 * `<stamp>_desc[_<lang>].ogg` (group tux-<lang>; no suffix = English),
 * fillets `sound/<level>/<lang>/*.ogg` (fillets-<lang>), asterisk voices
 * `<voice>/**.wav` without `silence/` (group = voice), the es-co / armelle
 * prompts `sounds/{es,fr}/**.gsm` (group = package), KDE klettres / ktuberling
 * and qabcs per language folder (klettres-<folder>, ...; ktuberling's .opus
 * files are skipped: sox cannot read them). Symbolic links are skipped, and a
 * clip whose bytes equal an earlier one's is dropped (ktuberling's sr@latin
 * folders repeat sr), so no clip is in two groups. Language = the folder or
 * suffix code before any `_`/`@` (en_GB -> en, sr@latin -> sr).
 *
 * Conversion. `sox -V1 -D IN -t raw -r 16000 -c 1 -b 16 -e signed-integer -
 * remix -` per clip (-D: no dither, so a rebuild gives the same samples) (one process at a time; .gsm read as `-t gsm -r 8000
 * -c 1`); clips under SPEECH_MIN_CLIP_SAMPLES or without signal are dropped.
 *
 * Split. By group, never by clip (SPEECH_VAL_GROUPS / SPEECH_TEST_GROUPS):
 * val = tux-ro + it_IT_m_Carlo + asterisk-prompt-es-co, test = tux-es +
 * fr_CA_f_June + asterisk-prompt-fr-armelle, train = every other group. The
 * two Allison voices (one woman, en and es) are both train (checked).
 *
 * Cache: dataDir()/cache/speech/<subset key>/ with {train,val,test}.s16 (int16
 * LE, the split's clips back to back, group by group), manifest.tsv (path,
 * source, language, group, split; every kept clip) and index.json (recipe
 * version, package checksums, per clip offset / length / group / language /
 * mean / std, each .s16's sha256). A cache whose recipe or packages differ,
 * or whose audio fails its checksum, is rebuilt.
 *
 * Windows (loadSpeechWindows): fixed-length windows, default 1 s = 16,000
 * samples, cut without overlap from each group's clips of a split laid back
 * to back (so short clips are concatenated, long ones cropped into several
 * windows, and no window joins two groups); every sample standardised with
 * its own clip's mean and std. Language ID (loadSpeechLanguageId): the
 * windows of en/es/fr/it/ru groups, labelled by language, split by source
 * family: IVR prompts (asterisk) vs the other recordings.
 *
 * Subsets: opts.packages (names of SPEECH_PACKAGES, or a SPEECH_SUBSETS key)
 * and opts.maxClipsPerGroup (the first N clips of each group in path order)
 * keep tests and smoke runs fast; each subset has its own cache directory.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { dataDir } from "../util/paths";
import type { Split } from "./dataset";
import { SPLITS } from "./dataset";
import { DatasetFileError } from "./fashion-mnist";

export const SPEECH_SAMPLE_RATE = 16000;
/** Bumped whenever the recipe changes (invalidates caches). */
export const SPEECH_RECIPE_VERSION = 2; // 2: sox without dither (-D), repeatable
/** Clips shorter than this (0.1 s) are dropped. */
export const SPEECH_MIN_CLIP_SAMPLES = 1600;

export type SpeechFamily = "tuxpaint" | "fillets" | "asterisk" | "klettres" | "ktuberling" | "qabcs";

/** What a package's member path is, or undefined when it is not a speech clip. */
type Rule = (rel: string) => { group: string; lang: string } | undefined;

const baseLang = (code: string) => code.split(/[_@]/)[0]!.toLowerCase();
const asteriskVoice =
  (voices: readonly string[]): Rule =>
  (rel) => {
    const m = /^usr\/share\/asterisk\/sounds\/([^/]+)\/(.+)\.wav$/.exec(rel);
    if (!m || !voices.includes(m[1]!) || m[2]!.startsWith("silence/")) return undefined;
    return { group: m[1]!, lang: baseLang(m[1]!) };
  };
const gsmPrompt =
  (dir: string, group: string): Rule =>
  (rel) =>
    new RegExp(`^usr/share/asterisk/sounds/${dir}/.+\\.gsm$`).test(rel) ? { group, lang: dir } : undefined;
const byFolder =
  (re: RegExp, prefix: string): Rule =>
  (rel) => {
    const m = re.exec(rel);
    return m ? { group: `${prefix}-${m[1]!}`, lang: baseLang(m[1]!) } : undefined;
  };

export interface SpeechPackage {
  name: string;
  version: string;
  /** sha256 of the .deb apt-get download fetches for this version (Debian 12). */
  sha256: string;
  license: string;
  family: SpeechFamily;
  /** Audio members to extract (tar wildcards). */
  members: readonly string[];
  rule: Rule;
}

/** The packages of datasets.md's speech table, with the .deb checksums recorded from Debian 12 (bookworm). */
export const SPEECH_PACKAGES: readonly SpeechPackage[] = [
  { name: "fillets-ng-data-cs", version: "1.0.1-1.1", sha256: "3ecef99b9456f1c80c9625c6f2418642b52d58e7167a46bad7a412db17991b14", license: "GPL-2+", family: "fillets", members: ["*.ogg"], rule: byFolder(/^usr\/share\/games\/fillets-ng\/sound\/.+\/(cs)\/[^/]+\.ogg$/, "fillets") },
  { name: "fillets-ng-data-nl", version: "1.0.1-1.1", sha256: "afb4443fda9ab507dee578b75be857d121718a1cd6017a474f30e0eb13dc9d10", license: "GPL-2+", family: "fillets", members: ["*.ogg"], rule: byFolder(/^usr\/share\/games\/fillets-ng\/sound\/.+\/(nl)\/[^/]+\.ogg$/, "fillets") },
  {
    name: "tuxpaint-stamps-default",
    version: "2022.06.04-1",
    sha256: "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34",
    license: "GPL-2+",
    family: "tuxpaint",
    members: ["*_desc*.ogg"],
    rule: (rel) => {
      const m = /^usr\/share\/tuxpaint\/stamps\/.+_desc(?:_([a-z]{2,3}))?\.ogg$/.exec(rel);
      return m ? { group: `tux-${m[1] ?? "en"}`, lang: m[1] ?? "en" } : undefined;
    },
  },
  { name: "asterisk-core-sounds-en-wav", version: "1.6.1-1", sha256: "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d", license: "CC-BY-SA-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["en_US_f_Allison"]) },
  { name: "asterisk-core-sounds-es-wav", version: "1.6.1-1", sha256: "9283a09a6d56fccdcc2bcfe86c48f0f844289cfbd46a3184d8785a6f7f569903", license: "CC-BY-SA-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["es_MX_f_Allison"]) },
  { name: "asterisk-core-sounds-fr-wav", version: "1.6.1-1", sha256: "8d4e1bc32ed5ba7fbda40841ca1825ed20cc6232724a473c90f8bb0e53e6073e", license: "CC-BY-SA-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["fr_CA_f_June"]) },
  { name: "asterisk-core-sounds-it-wav", version: "1.6.1-1", sha256: "5a26638089e134b8ac39363fe249c5c93c50cd8bfdc9b2499ae61ec4a35e2fcb", license: "CC-BY-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["it_IT_m_Carlo"]) },
  { name: "asterisk-core-sounds-ru-wav", version: "1.6.1-1", sha256: "ccbfaebfa450b7a9ddf644ae0f3d1e9017d5df7c0aebe816e946345589d38201", license: "CC-BY-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["ru_RU_f_IvrvoiceRU"]) },
  { name: "asterisk-prompt-it-menardi-wav", version: "1:1.4.22+mm20110907-3.1", sha256: "3094530d98f8758ac275572d59624c41f60969fef883f34f4886d144f3dfeb21", license: "CC-BY-SA-3.0", family: "asterisk", members: ["*.wav"], rule: asteriskVoice(["it_IT_f_Menardi"]) },
  { name: "asterisk-prompt-es-co", version: "0.20070403-2.1", sha256: "6702696e045514699e87dc8fb70f370717e5df91f821f7bec8dd0df1be008e83", license: "GPL-2+", family: "asterisk", members: ["*.gsm"], rule: gsmPrompt("es", "asterisk-prompt-es-co") },
  { name: "asterisk-prompt-fr-armelle", version: "20070613-2.2", sha256: "162570b1a9b3512a98f06b89f60c7c17cf1b9b52297315adca9a4e5be728bea3", license: "GPL-2+", family: "asterisk", members: ["*.gsm"], rule: gsmPrompt("fr", "asterisk-prompt-fr-armelle") },
  { name: "klettres-data", version: "4:22.12.3-1", sha256: "1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8", license: "GPL-2+", family: "klettres", members: ["*.ogg"], rule: byFolder(/^usr\/share\/klettres\/([^/]+)\/(?:alpha|syllab)\/[^/]+\.ogg$/, "klettres") },
  { name: "ktuberling-data", version: "4:22.12.3-1", sha256: "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed", license: "GPL-2+", family: "ktuberling", members: ["*.ogg", "*.wav"], rule: byFolder(/^usr\/share\/ktuberling\/sounds\/([^/]+)\/[^/]+\.(?:ogg|wav)$/, "ktuberling") },
  { name: "qabcs-data", version: "1.0.2-6", sha256: "3484da4cf258e6f3a39a1fc99bbfcaddfd679cff96a8fa792f261ab0a2bf9d86", license: "GPL-3+ (parts CC0 / MIT)", family: "qabcs", members: ["*.ogg"], rule: byFolder(/^usr\/share\/qabcs\/abcs\/((?!all\/)[^/]+)\/sounds\/(?:alpha|words)\/[^/]+\.ogg$/, "qabcs") },
];

/** Named package subsets (opts.packages may name one). "asterisk-ivr": the 8 IVR packages, 22 MB-ish per voice, all three splits. */
export const SPEECH_SUBSETS = {
  all: SPEECH_PACKAGES.map((p) => p.name),
  "asterisk-ivr": SPEECH_PACKAGES.filter((p) => p.family === "asterisk").map((p) => p.name),
  /** Smallest subset with a group in every split (tests): Menardi (train), es-co (val), armelle (test). */
  tiny: ["asterisk-prompt-it-menardi-wav", "asterisk-prompt-es-co", "asterisk-prompt-fr-armelle"],
} as const satisfies Record<string, readonly string[]>;
export type SpeechSubset = keyof typeof SPEECH_SUBSETS;

/** Speaker-disjoint split by group (datasets.md). */
export const SPEECH_VAL_GROUPS: readonly string[] = ["tux-ro", "it_IT_m_Carlo", "asterisk-prompt-es-co"];
export const SPEECH_TEST_GROUPS: readonly string[] = ["tux-es", "fr_CA_f_June", "asterisk-prompt-fr-armelle"];
/** Groups voiced by one person: each set must sit in one split. */
export const SPEECH_SAME_SPEAKER: readonly (readonly string[])[] = [["en_US_f_Allison", "es_MX_f_Allison"]];

export function speechSplitOf(group: string): Split {
  return SPEECH_VAL_GROUPS.includes(group) ? "val" : SPEECH_TEST_GROUPS.includes(group) ? "test" : "train";
}

/** The five languages of the language-ID probe (they occur in several sources). */
export const SPEECH_LID_LANGS = ["en", "es", "fr", "it", "ru"] as const;

// ---------------------------------------------------------------- sources

export interface SpeechSourceOptions {
  /** Package names, or a SPEECH_SUBSETS key (default "all"). */
  packages?: readonly string[] | SpeechSubset;
  /** Keep at most this many clips per group (the first in path order; for tests and smoke runs). */
  maxClipsPerGroup?: number;
  /** Directory holding the .debs; default env DYT_SPEECH_DEB_DIR, else dataDir()/sources/speech/debs (downloaded on first use). */
  debDir?: string;
  /** Download missing .debs into the managed dir (default true; env DYT_SPEECH_FETCH=0 turns it off). */
  fetch?: boolean;
  /** sox binary (default "sox" on PATH). */
  sox?: string;
}

function resolvePackages(p: SpeechSourceOptions["packages"]): SpeechPackage[] {
  const names: readonly string[] = p === undefined ? SPEECH_SUBSETS.all : typeof p === "string" ? (SPEECH_SUBSETS as Record<string, readonly string[]>)[p] ?? [p] : p;
  if (names.length === 0) throw new Error(`speech: empty package list; use names from SPEECH_PACKAGES or a subset (${Object.keys(SPEECH_SUBSETS).join(", ")})`);
  const out: SpeechPackage[] = [];
  for (const n of names) {
    const pkg = SPEECH_PACKAGES.find((q) => q.name === n);
    if (!pkg) throw new Error(`speech: unknown package or subset "${n}"; valid packages: ${SPEECH_PACKAGES.map((q) => q.name).join(", ")}; subsets: ${Object.keys(SPEECH_SUBSETS).join(", ")}`);
    if (!out.includes(pkg)) out.push(pkg);
  }
  // Recipe order, whatever order the caller gave.
  return SPEECH_PACKAGES.filter((q) => out.includes(q));
}

export function speechDebDir(opts: SpeechSourceOptions = {}): { dir: string; managed: boolean } {
  const o = opts.debDir ?? process.env.DYT_SPEECH_DEB_DIR;
  return o ? { dir: o, managed: false } : { dir: path.join(dataDir(), "sources", "speech", "debs"), managed: true };
}

const pkgSpec = (p: SpeechPackage) => `${p.name}=${p.version}`;
/** apt-get download writes ':' in versions as %3a. */
export const debFileName = (p: SpeechPackage) => `${p.name}_${p.version.replace(/:/g, "%3a")}_all.deb`;
const manualFix = (pkgs: SpeechPackage[]) => `\`apt-get download ${pkgs.map(pkgSpec).join(" ")}\` into a directory and point DYT_SPEECH_DEB_DIR at it`;

function fixFor(managed: boolean, dir: string, pkgs: SpeechPackage[]): string {
  return managed
    ? `delete ${dir} and load again (dyt-lab downloads the packages with apt-get download; run \`apt-get update\` first if apt cannot find them), or ${manualFix(pkgs)}`
    : `unset DYT_SPEECH_DEB_DIR / options.debDir to let dyt-lab download the packages into ${path.join(dataDir(), "sources", "speech", "debs")}, or ${manualFix(pkgs)}`;
}

const sha256 = (b: crypto.BinaryLike) => crypto.createHash("sha256").update(b).digest("hex");
const fileSha256 = (file: string) => {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
};

function progress(msg: string): void {
  if (process.env.DYT_QUIET !== "1") console.log(`[speech] ${msg}`);
}

/** Download the missing .debs of `pkgs` with apt-get download into `dir`. */
export function fetchSpeechDebs(pkgs: readonly SpeechPackage[], dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const missing = pkgs.filter((p) => !fs.existsSync(path.join(dir, debFileName(p))));
  if (missing.length === 0) return;
  progress(`downloading ${missing.length} Debian package(s): apt-get download ${missing.map((p) => p.name).join(" ")}`);
  try {
    execFileSync("apt-get", ["download", ...missing.map(pkgSpec)], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim().split("\n").slice(-2).join(" ") || (e as Error).message;
    throw new DatasetFileError(`speech sources: apt-get download failed (${err}). Fix: run \`sudo apt-get update\` (Debian 12 package lists), then load again; or ${manualFix(missing)}`, "missing", dir);
  }
}

/** The checked .deb of each package (downloading missing ones into the managed dir when allowed). */
export function ensureSpeechDebs(opts: SpeechSourceOptions = {}): Map<SpeechPackage, string> {
  const pkgs = resolvePackages(opts.packages);
  const { dir, managed } = speechDebDir(opts);
  const fetch = opts.fetch ?? process.env.DYT_SPEECH_FETCH !== "0";
  if (managed && fetch) fetchSpeechDebs(pkgs, dir);
  const out = new Map<SpeechPackage, string>();
  for (const p of pkgs) {
    const file = path.join(dir, debFileName(p));
    if (!fs.existsSync(file)) {
      const dirNote = fs.existsSync(dir) ? "" : ` (the directory ${dir} does not exist)`;
      throw new DatasetFileError(`speech source ${p.name}: ${file} is missing${dirNote}. Fix: ${fixFor(managed, dir, [p])}`, "missing", file);
    }
    const got = fileSha256(file);
    if (got !== p.sha256)
      throw new DatasetFileError(
        `speech source ${p.name}: ${file} is corrupt or another version (sha256 ${got.slice(0, 16)}…, recorded ${p.sha256.slice(0, 16)}… for ${p.version}). Fix: ${fixFor(managed, dir, [p])}`,
        "corrupt",
        file,
      );
    out.set(p, file);
  }
  return out;
}

// ---------------------------------------------------------------- build

/** One kept clip (a manifest row). */
export interface SpeechClip {
  /** Member path inside its package. */
  path: string;
  source: string;
  lang: string;
  group: string;
  split: Split;
}

interface IndexedClip {
  /** Index into SpeechIndex.clips source/group tables. */
  path: string;
  source: string;
  lang: string;
  group: string;
  /** Offset and length in samples in the split's .s16. */
  offset: number;
  length: number;
  mean: number;
  std: number;
}

interface SpeechIndex {
  format: 1;
  dataset: "speech";
  recipe: number;
  packages: Record<string, string>;
  maxClipsPerGroup: number | null;
  splits: Record<Split, { samples: number; sha256: string; clips: IndexedClip[] }>;
  dropped: { duplicate: number; short: number; silent: number };
  builtAt: string;
  buildSeconds: number;
}

/** Walk an extracted tree: every regular file (no symlinks), relative paths, sorted. */
function walk(root: string): string[] {
  const out: string[] = [];
  const rec = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) rec(r);
      else if (e.isFile()) out.push(r);
    }
  };
  if (fs.existsSync(root)) rec("");
  return out.sort();
}

/** List the speech clips of the given packages' extracted trees (dedup by content, cap per group). */
export function listSpeechClips(trees: { pkg: SpeechPackage; root: string }[], maxClipsPerGroup?: number): { clips: (SpeechClip & { file: string })[]; duplicates: number } {
  const seen = new Set<string>();
  const perGroup = new Map<string, number>();
  const clips: (SpeechClip & { file: string })[] = [];
  let duplicates = 0;
  for (const { pkg, root } of trees) {
    for (const rel of walk(root)) {
      const r = pkg.rule(rel);
      if (!r) continue;
      const n = perGroup.get(r.group) ?? 0;
      if (maxClipsPerGroup !== undefined && n >= maxClipsPerGroup) continue;
      const file = path.join(root, rel);
      const h = sha256(fs.readFileSync(file));
      if (seen.has(h)) {
        duplicates++;
        continue;
      }
      seen.add(h);
      perGroup.set(r.group, n + 1);
      clips.push({ path: rel, source: pkg.name, lang: r.lang, group: r.group, split: speechSplitOf(r.group), file });
    }
  }
  return { clips, duplicates };
}

/** Convert one clip to 16 kHz mono int16 with sox. */
export function soxToS16(file: string, sox = "sox"): Int16Array {
  const input = file.endsWith(".gsm") ? ["-t", "gsm", "-r", "8000", "-c", "1", file] : [file];
  let out: Buffer;
  try {
    // -D: no dither. sox dithers by default when it writes 16 bits, from an unseeded generator, so
    // two builds of the same clips differed (and seeded runs on them with it).
    out = execFileSync(sox, ["-V1", "-D", ...input, "-t", "raw", "-r", String(SPEECH_SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-", "remix", "-"], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer; message: string };
    if (err.code === "ENOENT")
      throw new DatasetFileError(`speech: sox not found (${sox}). Fix: \`sudo apt-get install -y sox libsox-fmt-all\` (scripts/setup.sh installs them)`, "missing", sox);
    throw new DatasetFileError(`speech: sox could not convert ${file}: ${err.stderr?.toString().trim() || err.message}. Fix: install libsox-fmt-all (\`sudo apt-get install -y libsox-fmt-all\`), or delete the .deb so it is downloaded again`, "corrupt", file);
  }
  const a = new Int16Array(out.length >> 1);
  for (let i = 0; i < a.length; i++) a[i] = out.readInt16LE(2 * i);
  return a;
}

function clipStats(a: Int16Array): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length) };
}

function buildSpeech(cacheDir: string, opts: SpeechSourceOptions): SpeechIndex {
  const t0 = Date.now();
  const debs = ensureSpeechDebs(opts);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-speech-x-"));
  try {
    const trees: { pkg: SpeechPackage; root: string }[] = [];
    for (const [pkg, deb] of debs) {
      const root = path.join(tmp, pkg.name);
      fs.mkdirSync(root);
      progress(`extracting ${pkg.name}`);
      execFileSync("bash", ["-o", "pipefail", "-c", 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "${@:3}"', "_", deb, root, ...pkg.members], { stdio: ["ignore", "ignore", "pipe"] });
      trees.push({ pkg, root });
    }
    const { clips, duplicates } = listSpeechClips(trees, opts.maxClipsPerGroup);
    for (const set of SPEECH_SAME_SPEAKER) {
      const splits = new Set(set.map(speechSplitOf));
      if (splits.size > 1) throw new Error(`speech split: the groups ${set.join(", ")} are one speaker but fall in ${[...splits].join(", ")}; fix SPEECH_VAL_GROUPS / SPEECH_TEST_GROUPS`);
    }
    // Split, then group, then path: each group's clips are contiguous in its split file.
    clips.sort((a, b) => SPLITS.indexOf(a.split) - SPLITS.indexOf(b.split) || (a.group < b.group ? -1 : a.group > b.group ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    fs.mkdirSync(cacheDir, { recursive: true });
    const index: SpeechIndex = {
      format: 1,
      dataset: "speech",
      recipe: SPEECH_RECIPE_VERSION,
      packages: Object.fromEntries([...debs.keys()].map((p) => [p.name, p.sha256])),
      maxClipsPerGroup: opts.maxClipsPerGroup ?? null,
      splits: { train: { samples: 0, sha256: "", clips: [] }, val: { samples: 0, sha256: "", clips: [] }, test: { samples: 0, sha256: "", clips: [] } },
      dropped: { duplicate: duplicates, short: 0, silent: 0 },
      builtAt: "",
      buildSeconds: 0,
    };
    const manifest: string[] = ["path\tsource\tlanguage\tgroup\tsplit"];
    for (const split of SPLITS) {
      const part = path.join(cacheDir, `${split}.s16.tmp-${process.pid}`);
      const fd = fs.openSync(part, "w");
      const h = crypto.createHash("sha256");
      const sp = index.splits[split];
      try {
        const mine = clips.filter((c) => c.split === split);
        let done = 0;
        let last = Date.now();
        for (const c of mine) {
          const a = soxToS16(c.file, opts.sox);
          done++;
          if (Date.now() - last > 5000) {
            progress(`converting ${split}: ${done}/${mine.length} clips (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
            last = Date.now();
          }
          if (a.length < SPEECH_MIN_CLIP_SAMPLES) {
            index.dropped.short++;
            continue;
          }
          const st = clipStats(a);
          if (!(st.std > 1)) {
            index.dropped.silent++;
            continue;
          }
          const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
          fs.writeSync(fd, bytes);
          h.update(bytes);
          sp.clips.push({ path: c.path, source: c.source, lang: c.lang, group: c.group, offset: sp.samples, length: a.length, mean: st.mean, std: st.std });
          sp.samples += a.length;
          manifest.push([c.path, c.source, c.lang, c.group, split].join("\t"));
        }
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(part, path.join(cacheDir, `${split}.s16`));
      sp.sha256 = h.digest("hex");
    }
    writeFileAtomic(path.join(cacheDir, "manifest.tsv"), manifest.join("\n") + "\n");
    index.builtAt = new Date().toISOString();
    index.buildSeconds = (Date.now() - t0) / 1000;
    writeJsonAtomic(path.join(cacheDir, "index.json"), index);
    const hours = (s: number) => (s / SPEECH_SAMPLE_RATE / 3600).toFixed(2);
    progress(`built in ${index.buildSeconds.toFixed(1)} s: ${SPLITS.map((s) => `${s} ${index.splits[s].clips.length} clips ${hours(index.splits[s].samples)} h`).join(", ")}`);
    return index;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- cache

export interface SpeechLoadOptions extends SpeechSourceOptions {
  /** Cache root; default dataDir()/cache/speech (each subset in its own folder below it). */
  cacheDir?: string;
}

/** The cache folder of a subset: packages + clip cap + recipe in its name. */
export function speechCacheDir(opts: SpeechLoadOptions = {}): string {
  const pkgs = resolvePackages(opts.packages);
  const all = pkgs.length === SPEECH_PACKAGES.length;
  const key = `${all ? "all" : sha256(pkgs.map((p) => p.name).join(",")).slice(0, 12)}${opts.maxClipsPerGroup !== undefined ? `-max${opts.maxClipsPerGroup}` : ""}`;
  return path.join(opts.cacheDir ?? path.join(dataDir(), "cache", "speech"), key);
}

function readIndex(dir: string, pkgs: SpeechPackage[], maxClips: number | undefined): SpeechIndex | undefined {
  let ix: SpeechIndex;
  try {
    ix = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as SpeechIndex;
  } catch {
    return undefined;
  }
  if (ix.format !== 1 || ix.recipe !== SPEECH_RECIPE_VERSION || ix.maxClipsPerGroup !== (maxClips ?? null)) return undefined;
  if (JSON.stringify(ix.packages) !== JSON.stringify(Object.fromEntries(pkgs.map((p) => [p.name, p.sha256])))) return undefined;
  return ix;
}

/**
 * What a built subset's content depends on (the recipe, each package's
 * sha256, the clip cap): a short hash that names it without building it.
 */
export function speechSourceKey(opts: SpeechSourceOptions = {}): string {
  const pkgs = resolvePackages(opts.packages);
  return sha256(JSON.stringify({ recipe: SPEECH_RECIPE_VERSION, packages: pkgs.map((p) => [p.name, p.sha256]), maxClipsPerGroup: opts.maxClipsPerGroup ?? null })).slice(0, 16);
}

/** Whether the subset's cache is built and current (its index matches the recipe and packages); builds nothing. */
export function speechCacheReady(opts: SpeechLoadOptions = {}): boolean {
  return memo.has(speechCacheDir(opts)) || readIndex(speechCacheDir(opts), resolvePackages(opts.packages), opts.maxClipsPerGroup) !== undefined;
}

/** A split's audio: int16 samples of its clips back to back, and the clips. */
export interface SpeechSplitAudio {
  split: Split;
  samples: Int16Array;
  clips: IndexedClip[];
}

const memo = new Map<string, { ix: SpeechIndex; audio: Partial<Record<Split, Int16Array>> }>();

/** Drop the in-process copies (the disk cache stays). */
export function forgetSpeech(): void {
  memo.clear();
}

/** Load one split's audio (building the cache on first use); the .s16 is checked against its recorded sha256 once per process. */
export function loadSpeechSplit(split: Split, opts: SpeechLoadOptions = {}): SpeechSplitAudio & { origin: "files" | "cache" | "memory" } {
  if (!SPLITS.includes(split)) throw new Error(`speech: unknown split "${split}"; use train, val or test`);
  if (opts.maxClipsPerGroup !== undefined && !(Number.isInteger(opts.maxClipsPerGroup) && opts.maxClipsPerGroup > 0)) throw new Error(`speech: maxClipsPerGroup must be a positive integer, got ${opts.maxClipsPerGroup}`);
  const pkgs = resolvePackages(opts.packages);
  const dir = speechCacheDir(opts);
  let origin: "files" | "cache" | "memory" = "memory";
  let m = memo.get(dir);
  if (!m) {
    let ix = readIndex(dir, pkgs, opts.maxClipsPerGroup);
    origin = "cache";
    if (!ix) {
      progress(`building the speech data (${pkgs.length} package(s)${opts.maxClipsPerGroup ? `, <= ${opts.maxClipsPerGroup} clips per group` : ""}) into ${dir}`);
      ix = buildSpeech(dir, opts);
      origin = "files";
    }
    m = { ix, audio: {} };
    memo.set(dir, m);
  }
  let audio = m.audio[split];
  if (!audio) {
    const file = path.join(dir, `${split}.s16`);
    const sp = m.ix.splits[split];
    let buf: Buffer | undefined;
    try {
      buf = fs.readFileSync(file);
    } catch {
      buf = undefined;
    }
    if (!buf || buf.length !== 2 * sp.samples || sha256(buf) !== sp.sha256) {
      // A damaged cache is rebuilt once; the sources are checked again on the way.
      console.warn(`[speech] cache file ${file} is ${buf ? "corrupt" : "missing"}; rebuilding from the packages`);
      memo.delete(dir);
      fs.rmSync(path.join(dir, "index.json"), { force: true });
      const ix = buildSpeech(dir, opts);
      m = { ix, audio: {} };
      memo.set(dir, m);
      buf = fs.readFileSync(file);
      origin = "files";
    }
    audio = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    m.audio[split] = audio;
  }
  return { split, samples: audio, clips: m.ix.splits[split].clips, origin };
}

/** Manifest rows of the built subset (every kept clip, with its split). */
export function loadSpeechManifest(opts: SpeechLoadOptions = {}): SpeechClip[] {
  loadSpeechSplit("train", opts);
  const rows = fs.readFileSync(path.join(speechCacheDir(opts), "manifest.tsv"), "utf8").trim().split("\n").slice(1);
  return rows.map((r) => {
    const [p, source, lang, group, split] = r.split("\t") as [string, string, string, string, Split];
    return { path: p, source, lang, group, split };
  });
}

/** Clips, groups and hours per split of the built subset. */
export function speechSummary(opts: SpeechLoadOptions = {}): Record<Split, { clips: number; groups: number; hours: number }> {
  const out = {} as Record<Split, { clips: number; groups: number; hours: number }>;
  for (const s of SPLITS) {
    const a = loadSpeechSplit(s, opts);
    out[s] = { clips: a.clips.length, groups: new Set(a.clips.map((c) => c.group)).size, hours: a.samples.length / SPEECH_SAMPLE_RATE / 3600 };
  }
  return out;
}

// ---------------------------------------------------------------- windows

/** Fixed-length windows of one split. */
export interface SpeechWindows {
  name: string;
  split: Split;
  n: number;
  windowSamples: number;
  /** Start of window i in the split's samples. */
  starts: Int32Array;
  /** Group / language / source of window i (indices into the tables below). */
  group: Int32Array;
  groups: string[];
  langs: string[];
  sources: string[];
  /** Language and source family index per group. */
  groupLang: Int32Array;
  groupSource: Int32Array;
  /** Copy window i, standardised per clip, into out[offset ..]. */
  read(i: number, out: Float32Array, offset?: number): void;
  origin: "files" | "cache" | "memory";
}

export interface SpeechWindowOptions extends SpeechLoadOptions {
  split?: Split;
  /** Samples per window (default 16,000 = 1 s). */
  windowSamples?: number;
  /** Keep only windows of these groups. */
  groups?: readonly string[];
  /** Keep at most this many windows (evenly spread over the split, deterministic). */
  limit?: number;
}

/** Non-overlapping windows of each group's clips laid back to back; see the file comment. */
export function loadSpeechWindows(opts: SpeechWindowOptions = {}): SpeechWindows {
  const split = opts.split ?? "train";
  const W = opts.windowSamples ?? SPEECH_SAMPLE_RATE;
  if (!Number.isInteger(W) || W < 400) throw new Error(`loadSpeechWindows: windowSamples must be an integer >= 400 (25 ms), got ${W}`);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 0)) throw new Error(`loadSpeechWindows: limit must be a non-negative integer, got ${opts.limit}`);
  const a = loadSpeechSplit(split, opts);
  const clips = a.clips;
  const groups: string[] = [];
  const langs: string[] = [];
  const sources: string[] = [];
  const groupLang: number[] = [];
  const groupSource: number[] = [];
  const starts: number[] = [];
  const wg: number[] = [];
  for (let i = 0; i < clips.length; ) {
    const g = clips[i]!.group;
    let j = i;
    while (j < clips.length && clips[j]!.group === g) j++;
    if (!opts.groups || opts.groups.includes(g)) {
      const gi = groups.push(g) - 1;
      const li = langs.indexOf(clips[i]!.lang);
      groupLang.push(li >= 0 ? li : langs.push(clips[i]!.lang) - 1);
      const si = sources.indexOf(clips[i]!.source);
      groupSource.push(si >= 0 ? si : sources.push(clips[i]!.source) - 1);
      const s0 = clips[i]!.offset;
      const e0 = clips[j - 1]!.offset + clips[j - 1]!.length;
      for (let s = s0; s + W <= e0; s += W) {
        starts.push(s);
        wg.push(gi);
      }
    }
    i = j;
  }
  let keep = starts.map((_, k) => k);
  if (opts.limit !== undefined && opts.limit < keep.length) {
    const n = opts.limit;
    const total = keep.length;
    keep = Array.from({ length: n }, (_, k) => Math.floor((k * total) / n));
  }
  // Clip boundaries for per-clip standardisation.
  const offs = Float64Array.from(clips.map((c) => c.offset));
  const clipAt = (s: number) => {
    let lo = 0;
    let hi = offs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offs[mid]! <= s) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const st = Int32Array.from(keep.map((k) => starts[k]!));
  const samples = a.samples;
  return {
    name: `speech:${opts.packages === undefined ? "all" : typeof opts.packages === "string" ? opts.packages : opts.packages.join("+")}`,
    split,
    n: st.length,
    windowSamples: W,
    starts: st,
    group: Int32Array.from(keep.map((k) => wg[k]!)),
    groups,
    langs,
    sources,
    groupLang: Int32Array.from(groupLang),
    groupSource: Int32Array.from(groupSource),
    read(i, out, offset = 0) {
      if (!(i >= 0 && i < st.length)) throw new RangeError(`speech window ${i} out of range (${st.length} windows in ${split})`);
      const s = st[i]!;
      let c = clipAt(s);
      for (let t = 0; t < W; ) {
        const clip = clips[c]!;
        const end = Math.min(s + W, clip.offset + clip.length);
        const inv = 1 / clip.std;
        for (let p = s + t; p < end; p++, t++) out[offset + t] = (samples[p]! - clip.mean) * inv;
        c++;
      }
    },
    origin: a.origin,
  };
}

/** Labelled windows of the language-ID probe. */
export interface SpeechLanguageIdSet {
  windows: SpeechWindows;
  /** Window indices (into `windows`) and their labels (index into SPEECH_LID_LANGS). */
  index: Int32Array;
  labels: Int32Array;
  n: number;
  classNames: readonly string[];
}

export interface SpeechLanguageIdOptions extends Omit<SpeechWindowOptions, "groups" | "split" | "limit"> {
  /**
   * "ivr": windows of the asterisk IVR voices (train side of the probe);
   * "other": windows of the other sources (Tux Paint, klettres, ktuberling,
   * qabcs, fillets): the probe is trained on one recording condition and
   * tested on another. Both take every pretraining split (the probe's labels
   * were never seen in pretraining; its split is by source, not by group).
   */
  side: "ivr" | "other";
  /** Pretraining splits to draw from (default all three). */
  splits?: readonly Split[];
  /** At most this many windows per language (evenly spread; balances the classes). */
  perClass?: number;
}

/** Language ID (en/es/fr/it/ru) as labelled windows; several splits are merged into one list of (split, window). */
export function loadSpeechLanguageId(opts: SpeechLanguageIdOptions): { sets: SpeechLanguageIdSet[]; n: number; counts: Record<string, number> } {
  if (opts.side !== "ivr" && opts.side !== "other") throw new Error(`loadSpeechLanguageId: side must be "ivr" or "other", got "${String(opts.side)}"`);
  const fam = (src: string) => SPEECH_PACKAGES.find((p) => p.name === src)!.family;
  const sets: SpeechLanguageIdSet[] = [];
  const counts: Record<string, number> = Object.fromEntries(SPEECH_LID_LANGS.map((l) => [l, 0]));
  const pool: { set: number; w: number; y: number }[] = [];
  for (const split of opts.splits ?? SPLITS) {
    const w = loadSpeechWindows({ ...opts, split });
    const idx: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < w.n; i++) {
      const g = w.group[i]!;
      const y = (SPEECH_LID_LANGS as readonly string[]).indexOf(w.langs[w.groupLang[g]!]!);
      const isIvr = fam(w.sources[w.groupSource[g]!]!) === "asterisk";
      if (y < 0 || isIvr !== (opts.side === "ivr")) continue;
      idx.push(i);
      ys.push(y);
    }
    sets.push({ windows: w, index: Int32Array.from(idx), labels: Int32Array.from(ys), n: idx.length, classNames: SPEECH_LID_LANGS });
    idx.forEach((wi, k) => pool.push({ set: sets.length - 1, w: wi, y: ys[k]! }));
  }
  if (opts.perClass !== undefined) {
    for (const s of sets) {
      s.index = new Int32Array(0);
      s.labels = new Int32Array(0);
    }
    const by: { set: number; w: number; y: number }[][] = SPEECH_LID_LANGS.map(() => []);
    for (const p of pool) by[p.y]!.push(p);
    const keep = by.flatMap((l) => (l.length <= opts.perClass! ? l : Array.from({ length: opts.perClass! }, (_, k) => l[Math.floor((k * l.length) / opts.perClass!)]!)));
    sets.forEach((s, si) => {
      const mine = keep.filter((p) => p.set === si);
      s.index = Int32Array.from(mine.map((p) => p.w));
      s.labels = Int32Array.from(mine.map((p) => p.y));
      s.n = mine.length;
    });
  }
  for (const s of sets) for (const y of s.labels) counts[SPEECH_LID_LANGS[y]!]!++;
  return { sets, n: sets.reduce((a, s) => a + s.n, 0), counts };
}

/** Copy windows of a language-ID side into one [n, W] buffer with labels (for the probe). */
export function gatherLanguageId(lid: { sets: SpeechLanguageIdSet[] }): { x: Float32Array; y: Int32Array; n: number; windowSamples: number } {
  const n = lid.sets.reduce((a, s) => a + s.n, 0);
  const W = lid.sets[0]?.windows.windowSamples ?? SPEECH_SAMPLE_RATE;
  const x = new Float32Array(n * W);
  const y = new Int32Array(n);
  let k = 0;
  for (const s of lid.sets)
    for (let j = 0; j < s.n; j++, k++) {
      s.windows.read(s.index[j]!, x, k * W);
      y[k] = s.labels[j]!;
    }
  return { x, y, n, windowSamples: W };
}
