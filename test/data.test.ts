import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BatchSampler,
  BatchSamplerState,
  FASHION_MNIST_DEBIAN,
  FASHION_MNIST_FILES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  ImageDataset,
  classCounts,
  encodeIdx,
  forgetFashionMnist,
  gatherImages,
  gatherLabels,
  loadFashionMnist,
  loadFashionMnistU8,
  parseIdx,
  readIdxFile,
} from "../lib/data";

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-data-test-"));
process.on("exit", () => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const srcDir = process.env.DYT_FASHION_MNIST_DIR || FASHION_MNIST_DEBIAN.dir;
const haveDebianFiles = fs.existsSync(path.join(srcDir, FASHION_MNIST_FILES.test.images.file));

/** Run fn with console.warn captured; returns the warnings. */
function captureWarn(fn: () => void): string[] {
  const seen: string[] = [];
  const orig = console.warn;
  console.warn = (...a: unknown[]) => void seen.push(a.map(String).join(" "));
  try {
    fn();
  } finally {
    console.warn = orig;
  }
  return seen;
}

// ---------------------------------------------------------------- IDX

test("IDX: tiny synthetic file round-trips, gzipped and plain", () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
  for (const gzip of [false, true]) {
    const file = path.join(tmpRoot, `tiny-${gzip}.idx`);
    fs.writeFileSync(file, encodeIdx([2, 3, 4], data, { gzip }));
    const a = readIdxFile(file);
    assert.deepEqual(a.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(a.data), Array.from(data));
  }
  // Hand-written header: magic 0x00000801, one dim of 3.
  const raw = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 9, 8, 7]);
  assert.deepEqual(parseIdx(raw), { dims: [3], data: Uint8Array.from([9, 8, 7]) });
});

test("IDX: bad magic, type, truncated header and payload are named errors", () => {
  const good = encodeIdx([2, 2], Uint8Array.from([1, 2, 3, 4]));
  const write = (name: string, bytes: Uint8Array): string => {
    const f = path.join(tmpRoot, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const badMagic = Buffer.from(good);
  badMagic[0] = 0x12;
  let f = write("bad-magic.idx", badMagic);
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /bad magic 0x12000802/.test(e.message));

  const badType = Buffer.from(good);
  badType[2] = 0x0d;
  f = write("bad-type.idx", badType);
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /0x0d \(float32\) is not supported/.test(e.message));

  f = write("short-payload.idx", good.subarray(0, good.length - 1));
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /payload is 3 bytes but dims \[2, 2\] need 4 \(truncated\)/.test(e.message));

  f = write("long-payload.idx", Buffer.concat([good, Buffer.from([0])]));
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /trailing bytes/.test(e.message));

  f = write("short-header.idx", good.subarray(0, 9));
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /truncated header/.test(e.message));

  const gz = encodeIdx([2, 2], Uint8Array.from([1, 2, 3, 4]), { gzip: true });
  f = write("bad.idx.gz", gz.subarray(0, gz.length - 6));
  assert.throws(() => readIdxFile(f), (e: Error) => e.message.includes(f) && /gzip data is corrupt/.test(e.message));

  assert.throws(() => readIdxFile(path.join(tmpRoot, "nope.idx")), /nope\.idx: cannot read it/);
});

// ---------------------------------------------------------------- Fashion-MNIST

test("Fashion-MNIST: split sizes, label counts, normalisation, cold load then cache", { skip: !haveDebianFiles && "dataset-fashion-mnist not installed (run npm run setup)" }, () => {
  const cacheDir = path.join(tmpRoot, "cache-ok");
  forgetFashionMnist();
  const test10k = loadFashionMnist({ split: "test", dir: srcDir, cacheDir });
  assert.equal(test10k.origin, "files");
  assert.equal(test10k.n, 10000);
  assert.equal(test10k.images.length, 10000 * 28 * 28);
  assert.equal(test10k.labels.length, 10000);
  assert.deepEqual([test10k.height, test10k.width, test10k.channels, test10k.numClasses], [28, 28, 1, 10]);
  assert.equal(test10k.classNames.length, 10);
  assert.equal(test10k.classNames[9], "Ankle boot");
  assert.deepEqual(classCounts(test10k), new Array(10).fill(1000));

  const train = loadFashionMnist({ split: "train", dir: srcDir, cacheDir });
  const val = loadFashionMnist({ split: "val", dir: srcDir, cacheDir });
  assert.equal(train.n, 55000);
  assert.equal(val.n, 5000);
  assert.equal(val.origin, "memory");
  // Pins the split: the last 5,000 official training images.
  assert.deepEqual(classCounts(val), [521, 497, 490, 508, 527, 503, 467, 450, 515, 522]);
  const all = classCounts(train).map((c, i) => c + classCounts(val)[i]!);
  assert.deepEqual(all, new Array(10).fill(6000));

  // Normalisation: (p/255 - mean)/std, so min/max are the images of 0 and 255.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of test10k.images) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  assert.ok(Math.abs(lo - (0 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD) < 1e-6);
  assert.ok(Math.abs(hi - (1 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD) < 1e-6);
  const unit = loadFashionMnist({ split: "test", limit: 5, normalize: "unit", cacheDir });
  const u8 = loadFashionMnistU8({ split: "test", limit: 5, cacheDir });
  assert.ok(Math.abs(unit.images[300]! - u8.images[300]! / 255) < 1e-7);

  // The recorded mean/std are the statistics of all 60,000 training images.
  const px = loadFashionMnistU8({ split: "train", cacheDir }).images;
  const pxVal = loadFashionMnistU8({ split: "val", cacheDir }).images;
  let s = 0;
  let s2 = 0;
  for (const arr of [px, pxVal]) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      s += v;
      s2 += v * v;
    }
  }
  const count = px.length + pxVal.length;
  const mean = s / count / 255;
  const std = Math.sqrt(s2 / count / 255 / 255 - mean * mean);
  assert.ok(Math.abs(mean - FASHION_MNIST_MEAN) < 1e-4, `mean ${mean}`);
  assert.ok(Math.abs(std - FASHION_MNIST_STD) < 1e-4, `std ${std}`);

  // limit keeps the first examples.
  const few = loadFashionMnist({ split: "test", limit: 100, cacheDir });
  assert.equal(few.n, 100);
  assert.equal(few.images.length, 100 * 784);
  assert.deepEqual(Array.from(few.labels), Array.from(test10k.labels.subarray(0, 100)));
  assert.deepEqual(Array.from(few.images.subarray(0, 784)), Array.from(test10k.images.subarray(0, 784)));

  // A fresh process would read the disk cache: simulate by dropping the memo.
  forgetFashionMnist();
  const cached = loadFashionMnist({ split: "test", cacheDir, dir: path.join(tmpRoot, "no-such-dir") });
  assert.equal(cached.origin, "cache");
  assert.deepEqual(Array.from(cached.labels.subarray(0, 1000)), Array.from(test10k.labels.subarray(0, 1000)));
  const manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, "manifest.json"), "utf8"));
  assert.equal(manifest.debianVersion, FASHION_MNIST_DEBIAN.version);
  assert.equal(manifest.files["t10k-images-idx3-ubyte"].sha256, FASHION_MNIST_FILES.test.images.rawSha256);
  forgetFashionMnist();
});

test("Fashion-MNIST: a corrupt cache file is detected and rebuilt", { skip: !haveDebianFiles && "dataset-fashion-mnist not installed" }, () => {
  const cacheDir = path.join(tmpRoot, "cache-corrupt");
  forgetFashionMnist();
  assert.equal(loadFashionMnistU8({ split: "test", dir: srcDir, cacheDir }).origin, "files");
  forgetFashionMnist();
  const cacheFile = path.join(cacheDir, "t10k-images-idx3-ubyte");
  const bytes = fs.readFileSync(cacheFile);
  bytes[5000] = bytes[5000]! ^ 0xff;
  fs.writeFileSync(cacheFile, bytes);
  let again: ReturnType<typeof loadFashionMnistU8> | undefined;
  const warnings = captureWarn(() => {
    again = loadFashionMnistU8({ split: "test", dir: srcDir, cacheDir });
  });
  assert.equal(again!.origin, "files");
  assert.ok(warnings.some((w) => w.includes(cacheFile) && w.includes("corrupt")), warnings.join("\n"));
  forgetFashionMnist();
  assert.equal(loadFashionMnistU8({ split: "test", dir: srcDir, cacheDir }).origin, "cache");
  forgetFashionMnist();
});

test("Fashion-MNIST: missing directory names the path and the fix", () => {
  const dir = path.join(tmpRoot, "missing-fashion-mnist");
  assert.throws(
    () => loadFashionMnist({ split: "test", dir, cache: false }),
    (e: Error) => e.message.includes(path.join(dir, "t10k-labels-idx1-ubyte.gz")) && e.message.includes("npm run setup") && e.message.includes("DYT_FASHION_MNIST_DIR"),
  );
});

test("Fashion-MNIST: a corrupted copy names the file, sha256 and the fix; env DYT_FASHION_MNIST_DIR is honoured", { skip: !haveDebianFiles && "dataset-fashion-mnist not installed" }, () => {
  const dir = path.join(tmpRoot, "fm-copy");
  fs.mkdirSync(dir);
  for (const part of ["train", "test"] as const) {
    for (const kind of ["images", "labels"] as const) {
      const f = FASHION_MNIST_FILES[part][kind].file;
      fs.copyFileSync(path.join(srcDir, f), path.join(dir, f));
    }
  }
  const prev = process.env.DYT_FASHION_MNIST_DIR;
  process.env.DYT_FASHION_MNIST_DIR = dir;
  try {
    assert.equal(loadFashionMnistU8({ split: "test", cache: false }).n, 10000);
    const flip = (name: string, at: number): string => {
      const file = path.join(dir, name);
      const b = fs.readFileSync(file);
      b[at] = b[at]! ^ 0x01;
      fs.writeFileSync(file, b);
      return file;
    };
    const labels = flip(FASHION_MNIST_FILES.test.labels.file, 1000);
    assert.throws(
      () => loadFashionMnist({ split: "test", cache: false }),
      (e: Error) =>
        e.message.includes(labels) && e.message.includes("sha256") && e.message.includes(FASHION_MNIST_FILES.test.labels.sha256) && e.message.includes("apt-get install --reinstall dataset-fashion-mnist"),
    );
    const images = flip(FASHION_MNIST_FILES.train.images.file, 20_000_000);
    assert.throws(() => loadFashionMnist({ split: "val", cache: false }), (e: Error) => e.message.includes(images) && e.message.includes("sha256"));
  } finally {
    if (prev === undefined) delete process.env.DYT_FASHION_MNIST_DIR;
    else process.env.DYT_FASHION_MNIST_DIR = prev;
  }
});

// ---------------------------------------------------------------- sampler

test("BatchSampler: deterministic, epochs are permutations, batches straddle epochs", () => {
  const a = new BatchSampler(10, 42);
  const b = new BatchSampler(10, 42);
  const c = new BatchSampler(10, 43);
  const stream: number[] = [];
  const streamC: number[] = [];
  for (let i = 0; i < 10; i++) {
    const x = a.next(3);
    assert.ok(x instanceof Int32Array);
    assert.deepEqual(x, b.next(3));
    stream.push(...x);
    streamC.push(...c.next(3));
  }
  assert.notDeepEqual(stream, streamC);
  for (let e = 0; e < 3; e++) {
    assert.deepEqual([...stream.slice(e * 10, e * 10 + 10)].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }
  assert.notDeepEqual(stream.slice(0, 10), stream.slice(10, 20));
  assert.equal(a.progress, 3);
  assert.equal(a.next(25).length, 25);
  assert.throws(() => a.next(0), RangeError);
});

test("BatchSampler: state()/restore() resumes with exactly the same batches", () => {
  for (const k of [0, 1, 7, 10, 13]) {
    // n = 20, batch 4: k = 10 stops exactly at an epoch boundary.
    const s = new BatchSampler(20, 7);
    for (let i = 0; i < k; i++) s.next(4);
    const saved = JSON.parse(JSON.stringify(s.state())) as BatchSamplerState;
    const rest = Array.from({ length: 12 }, () => Array.from(s.next(4)));
    const r1 = BatchSampler.fromState(saved);
    const r2 = new BatchSampler(20, 999);
    r2.restore(saved);
    for (const batch of rest) {
      assert.deepEqual(Array.from(r1.next(4)), batch);
      assert.deepEqual(Array.from(r2.next(4)), batch);
    }
    assert.deepEqual(r1.state(), s.state());
  }
  assert.throws(() => new BatchSampler(5, 1).restore(new BatchSampler(6, 1).state()), /n = 6/);
});

test("gatherImages / gatherLabels copy the right examples", () => {
  const n = 5;
  const size = 2 * 3 * 1;
  const ds: ImageDataset = {
    name: "toy",
    split: "train",
    n,
    height: 2,
    width: 3,
    channels: 1,
    numClasses: 3,
    classNames: ["a", "b", "c"],
    images: Float32Array.from({ length: n * size }, (_, i) => i),
    labels: Int32Array.from([0, 1, 2, 0, 1]),
    normalization: { kind: "unit", mean: 0, std: 1 },
    origin: "memory",
  };
  const idx = Int32Array.from([4, 0, 4]);
  const x = gatherImages(ds, idx);
  assert.deepEqual(Array.from(x), [24, 25, 26, 27, 28, 29, 0, 1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29]);
  assert.deepEqual(Array.from(gatherLabels(ds, idx)), [1, 0, 1]);
  const out = new Float32Array(100);
  assert.equal(gatherImages(ds, [1], out).length, size);
  assert.equal(out[0], 6);
  assert.throws(() => gatherImages(ds, [5]), RangeError);
  assert.throws(() => gatherLabels(ds, [-1]), RangeError);
});
