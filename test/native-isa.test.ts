/**
 * The measured machine peak (the addon's fmaPeak, lib/bench/peak.ts) and the
 * addon built without AVX-512 (DYT_NATIVE_MAX_ISA=x86-64-v3, loaded through
 * DYT_NATIVE_ADDON; scripts/bench.ts --isa avx2): it loads, reports the capped
 * ISA, and gives bit-identical elementwise results to the full build (both
 * compiled with -ffp-contract=off).
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "path";
import { buildCappedAddon, cappedAddonPath, nativeInfo, nativeLoadError } from "../lib/engine/native";
import { cpuFlags, estimatePeak, measurePeak, peakGflops, type CpuPeak } from "../lib/bench/peak";

const ISAS = ["avx512", "avx2", "sse2", "generic"];
const reason = nativeLoadError();

test("measured peak: positive, finite, within 0.3-3x of the nominal estimate; its ISA is the clones' one", { skip: reason ? `native engine unavailable: ${reason}` : false }, () => {
  const r = measurePeak(100);
  assert.ok("measured" in r, "error" in r ? r.error : "");
  const m = r.measured;
  assert.ok(Number.isFinite(m.gflops) && m.gflops > 0, `gflops ${m.gflops}`);
  assert.ok(ISAS.includes(m.isa), `isa ${m.isa}`);
  // Under GCC on x86-64 fmaPeak and the elementwise clones make the same choice.
  if (process.arch === "x64") assert.equal(m.isa, nativeInfo()!.simd);
  assert.equal(m.lanes, { avx512: 16, avx2: 8, sse2: 4, generic: 4 }[m.isa]);
  const est = estimatePeak(m.isa === "avx512" ? "native" : "avx2");
  if (est.gflops > 0) {
    const ratio = m.gflops / est.gflops;
    assert.ok(ratio > 0.3 && ratio < 3, `measured ${m.gflops.toFixed(0)} vs estimate ${est.gflops.toFixed(0)} GFLOP/s (x${ratio.toFixed(2)})`);
  }
  if (m.ghz !== null) assert.ok(m.ghz > 0.5 && m.ghz < 7, `clock ${m.ghz} GHz`);
});

test("nominal estimate: lanes and pipes by vendor and family; --isa avx2 counts 8 lanes", () => {
  const cpuinfo = (family: number, flags: string) =>
    [0, 1].map((c) => `processor\t: ${c}\nvendor_id\t: AuthenticAMD\ncpu family\t: ${family}\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2600.000\nphysical id\t: 0\ncore id\t\t: ${c}\nflags\t\t: ${flags}\n`).join("\n");
  const avx512 = "sse2 avx fma avx2 avx512f avx512bw";
  const zen5 = estimatePeak("native", cpuinfo(26, avx512));
  assert.deepEqual([zen5.cores, zen5.lanes, zen5.fmaUnits, zen5.ghz], [2, 16, 2, 2.6]);
  assert.ok(Math.abs(zen5.gflops - 2 * 16 * 2 * 2 * 2.6) < 1e-9);
  assert.equal(estimatePeak("native", cpuinfo(25, avx512)).lanes, 8); // Zen 4: 512-bit ops on 256-bit pipes
  assert.equal(estimatePeak("avx2", cpuinfo(26, avx512)).lanes, 8);
  assert.equal(estimatePeak("native", cpuinfo(23, "sse2 avx fma avx2")).lanes, 8);
  assert.deepEqual(cpuFlags(cpuinfo(26, avx512)), new Set(avx512.split(" ")));
});

test("peakGflops: the measured peak when recorded, the estimate in older files", () => {
  const old = { model: "AMD EPYC", cores: 2, ghz: 2.6, lanes: 8, fmaUnits: 2, gflops: 166.15, note: "" } satisfies CpuPeak;
  assert.equal(peakGflops(old), 166.15);
  assert.equal(peakGflops({ ...old, basis: "measured", peakGflops: 568 }), 568);
});

test("a DYT_NATIVE_ADDON naming no file: the load error names it", () => {
  const script = `process.env.DYT_NATIVE_ADDON = "/nonexistent/dyt.node"; console.log(require(${JSON.stringify(require.resolve("../lib/engine/native"))}).nativeLoadError());`;
  const out = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout.trim();
  assert.match(out, /not built at DYT_NATIVE_ADDON=\/nonexistent\/dyt\.node \(no such file/);
});

// ---------------------------------------------------------------------------
// The capped build.

function cappedSkip(): string | false {
  if (process.arch !== "x64") return "x86-64 only (the cap is an x86-64 level)";
  if (spawnSync("g++", ["--version"], { stdio: "ignore" }).status !== 0) return "g++ not found: the capped addon cannot be built";
  if (reason) return `the default addon is not built either (${reason})`;
  const f = cpuFlags();
  if (!(f.has("avx2") && f.has("fma"))) return "this CPU has no AVX2 + FMA: the capped build would run its baseline code";
  return false;
}
const skipCapped = cappedSkip();
const built = skipCapped ? undefined : buildCappedAddon("x86-64-v3");

/**
 * Runs in a child with DYT_NATIVE_ADDON set (through loadAddon: the ABI check
 * too): info, a short fmaPeak, and the elementwise kernels on a fixed input,
 * every output as base64.
 */
const ELEMENTWISE = `
const lib = require(${JSON.stringify(require.resolve("../lib/engine/native"))}).loadAddon();
if (!lib) throw new Error("no addon");
const n = 4163, R = 64, C = 64, B = 4 * n; // 4163 = 65 x 64 + 3: vector bodies and tails
const heap = new ArrayBuffer(B * 34);
const f = new Float32Array(heap);
const blk = (k) => f.subarray(k * n, (k + 1) * n);
let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
blk(0).forEach((_, i, a) => (a[i] = rnd() * 12 - 6)); // x: exp, erf and tanh's ranges
blk(1).forEach((_, i, a) => (a[i] = rnd() * 2 - 1));  // dy, gradients
blk(8).forEach((_, i, a) => (a[i] = 0.5 + rnd()));    // gamma
blk(9).forEach((_, i, a) => (a[i] = rnd() - 0.5));    // beta
f[10 * n] = 0.7;                                       // DyT alpha
blk(15).set(blk(0));
blk(16).forEach((_, i, a) => (a[i] = 0.1 * f[n + i]));
blk(18).forEach((_, i, a) => (a[i] = f[n + i] ** 2));
for (let op = 0; op < 4; op++) lib.unary(heap, op, 0, (2 + op) * B, n);
lib.gelu(heap, 0, 0, 0, 6 * B, n);
lib.gelu(heap, 1, 0, B, 7 * B, n);
lib.dytFwd(heap, 0, 10 * B, 8 * B, 9 * B, 11 * B, R, C);
lib.normFwd(heap, 0, 0, 8 * B, 9 * B, 12 * B, 13 * B, 14 * B, R, C, 1e-6);
lib.adamw(heap, Float64Array.from([15 * B, 20 * B, B, 16 * B, 17 * B, 18 * B, 19 * B, n, 1]), Float64Array.from([0.9, 0.999, 1e-8, 1e-3, 0.05, 0.19, 0.002]));
// The FFT conv's hand-dispatched kernels (8 channels per transform; 40 = 5 blocks): y, dx, dh over blocks 20-22.
lib.fftConvFwd(heap, 0, B, 20 * B, 3, 33, 40, 20);
lib.fftConvBwd(heap, 0, B, B, 21 * B, 22 * B, 3, 33, 40, 20);
// The norm backwards (row statistics in eight partial sums): dx, dgamma, dbeta and dalpha over blocks 23-28.
lib.normBwd(heap, 0, B, 0, 13 * B, 14 * B, 8 * B, 23 * B, 24 * B, 24 * B + 4 * C, R, C);
lib.dytBwd(heap, B, 0, 10 * B, 8 * B, 25 * B, 26 * B, 27 * B, 28 * B, R, C);
// The attention core (softmax rows and their backward in clones), causal, 4 slices of 20 x 16: blocks 29-33.
lib.attnFwd(heap, 0, B, 9 * B, 29 * B, 30 * B, 4, 20, 20, 16, 16, 0.25, true);
lib.attnBwd(heap, 16 * B, 0, B, 9 * B, 30 * B, 31 * B, 32 * B, 33 * B, 4, 20, 20, 16, 16, 0.25);
console.log(JSON.stringify({ info: lib.info(), peak: lib.fmaPeak(50), out: Buffer.from(heap, 2 * B).toString("base64") }));
`;

function runElementwise(addon: string | undefined): { info: { isaCap: string; simd: string }; peak: { isa: string; gflops: number }; out: string } {
  const env = { ...process.env };
  if (addon) env.DYT_NATIVE_ADDON = addon;
  else delete env.DYT_NATIVE_ADDON;
  const r = spawnSync(process.execPath, ["-e", ELEMENTWISE], { encoding: "utf8", env, maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("capped addon (x86-64-v3): loads, its info and peak report AVX2, its elementwise, norm, attention and FFT-conv kernels are bit-identical to the full build's", { skip: skipCapped }, () => {
  assert.ok(built && "path" in built, built && "error" in built ? built.error : "");
  const capped = runElementwise(cappedAddonPath("x86-64-v3"));
  assert.equal(capped.info.isaCap, "x86-64-v3");
  assert.equal(capped.info.simd, "avx2");
  assert.equal(capped.peak.isa, "avx2");
  assert.ok(capped.peak.gflops > 0);
  const full = runElementwise(undefined);
  assert.equal(full.info.isaCap, "x86-64-v4");
  // On an AVX2-only CPU both run the AVX2 clones: still equal, just not a cross-ISA check.
  const v4 = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"].every((x) => cpuFlags().has(x));
  assert.equal(full.info.simd, v4 ? "avx512" : "avx2");
  const a = Buffer.from(capped.out, "base64");
  const b = Buffer.from(full.out, "base64");
  const diff = a.findIndex((x, i) => x !== b[i]);
  assert.equal(diff, -1, `first differing float: block ${Math.floor(diff / 4 / 4163) + 2}, index ${Math.floor(diff / 4) % 4163}`);
});

test("capped addon: the fused AdamW and fused norm test files pass on it (no test skipped)", { skip: skipCapped }, () => {
  assert.ok(built && "path" in built);
  const env: NodeJS.ProcessEnv = { ...process.env, DYT_NATIVE_ADDON: cappedAddonPath("x86-64-v3") };
  delete env.NODE_TEST_CONTEXT; // else the nested runner reports to this one instead of printing TAP
  const files = ["fused-adamw", "fused-norm"].map((f) => path.join(__dirname, `${f}.test.js`));
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], { encoding: "utf8", env, maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr);
  assert.match(r.stdout, /^# skipped 0$/m);
  assert.match(r.stdout, /^# fail 0$/m);
});
