/**
 * The "native" engine: the tfjs wasm backend with its heaviest kernels
 * (BatchMatMul, _FusedMatMul, Transpose, Sum, Unpack, Identity, depthwise
 * convolution and its gradients, and the transcendental elementwise ops Exp, Erf, Tanh) replaced by calls into a small
 * N-API addon over the system OpenBLAS (native/dyt_native.cc, built by
 * native/build.sh into native/build/dyt_native.node).
 *
 * Design: the overrides are registered for backend "wasm" itself rather than as
 * a separate backend. Every tensor stays in the one WebAssembly.Memory; the
 * addon reads and writes that heap in place (ArrayBuffer + byte offsets), so
 * there is no copy, and every other op keeps using the wasm kernels. A
 * separate backend would need a second wasm module instance, and the wasm
 * package keeps each kernel's cwrap'ed entry point in a module-level variable
 * set by the last backend initialised, so two wasm-based backends in one
 * process would call into each other's heaps. The cost of this choice:
 * "native" and "wasm" share a backend name, so the engine layer swaps the
 * overrides in on activate() and back out on deactivate() (switching to any
 * other engine), and tf.getBackend() says "wasm" for both.
 *
 * Heap growth: makeOutput() may grow the wasm memory, which replaces its
 * ArrayBuffer. The heap buffer is therefore read after every allocation of a
 * kernel, right before the addon call; offsets stay valid across growth.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import type { EngineProvider } from "./index";

/** native/dyt_native.cc's "abi" export this file was written against. */
const NATIVE_ABI = 14;

/** x86-64 levels native/build.sh can cap a build at (DYT_NATIVE_MAX_ISA); the default build goes up to x86-64-v4 (AVX-512). */
export type NativeIsaCap = "x86-64-v3";

/** The addon's fmaPeak(): measured FP32 FMA throughput of the whole machine and its clock. */
export interface MeasuredPeak {
  /** Sum over threads of FLOPs / the thread's CPU seconds (robust to other processes); gflopsWall: over wall seconds. */
  gflops: number;
  gflopsWall: number;
  /** The loop's ISA: "avx512", "avx2", "sse2" (x86-64 baseline) or "generic" (4-lane vectors elsewhere); capped by the build. */
  isa: string;
  lanes: number;
  threads: number;
  ms: number;
  /** Clock under load from a dependent add chain, when an imul chain agrees within 10 %; else null (ghzAdd, ghzImul: both; null off x86-64). */
  ghz: number | null;
  ghzAdd: number | null;
  ghzImul: number | null;
  checksum: number;
}

/** The addon's JS surface (see native/dyt_native.cc). */
export interface NativeAddon {
  abi: number;
  /** threads: the addon's pool (OPENBLAS_NUM_THREADS or the core count); blasThreads: OpenBLAS's own (1). */
  /**
   * isaCap: the build's widest x86-64 level ("x86-64-v4", "x86-64-v3", "none" off x86-64); simd: what its elementwise clones run here;
   * gemm: who computes the large products ("own avx512 (large products)" on AVX-512 unless DYT_NATIVE_GEMM=openblas, else "openblas").
   */
  info(): { corename: string; config: string; threads: number; blasThreads: number; coretypeEnv: string | null; isaCap: string; simd: string; gemm?: string };
  /** Measured machine peak: every thread (default: all hardware threads) runs FMA chains for ms (default 200), then clock chains. */
  fmaPeak(ms?: number, threads?: number): MeasuredPeak;
  setThreads(n: number): void;
  sgemm(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    cOff: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    aIndex?: Int32Array | null,
    bIndex?: Int32Array | null,
  ): void;
  transpose(heap: ArrayBuffer, xOff: number, yOff: number, shape: number[], perm: number[]): void;
  /** op: 0 exp, 1 erf, 2 tanh, 3 sigmoid. */
  unary(heap: ArrayBuffer, op: number, xOff: number, yOff: number, n: number): void;
  /** y[a, b] = sum_r x[a, r, b], x of shape [A, R, B]. */
  sum(heap: ArrayBuffer, xOff: number, yOff: number, a: number, r: number, b: number): void;
  /** y[r * dstStride + c] = x[r * srcStride + c] for r < rows, c < cols (float offsets in strides). */
  copyRows(heap: ArrayBuffer, xOff: number, yOff: number, rows: number, cols: number, srcStride: number, dstStride: number): void;
  /** One AdamW update of every parameter: table 9 per param (wIn, wOut, g, mIn, mOut, vIn, vOut, n, decay), hyper [b1, b2, eps, lr, wd, bc1, bc2]. */
  adamw(heap: ArrayBuffer, table: Float64Array, hyper: Float64Array): void;
  /** kind 0 LayerNorm, 1 RMSNorm; x as [R, C]; -1 for an absent buffer. */
  normFwd(heap: ArrayBuffer, kind: number, x: number, g: number, b: number, y: number, mean: number, rstd: number, R: number, C: number, eps: number): void;
  normBwd(heap: ArrayBuffer, kind: number, dy: number, x: number, mean: number, rstd: number, g: number, dx: number, dg: number, db: number, R: number, C: number): void;
  dytFwd(heap: ArrayBuffer, x: number, alpha: number, g: number, b: number, y: number, R: number, C: number): void;
  dytBwd(heap: ArrayBuffer, dy: number, x: number, alpha: number, g: number, dx: number, da: number, dg: number, db: number, R: number, C: number): void;
  /** Attention core per slice: P = softmax(scale q k^T [causal]), o = P v; BH slices of q [Tq, dh], k [Tk, dh], v [Tk, dv]. */
  /** Contiguous [BH, T, d] slices, or with `layout` [H, ldq, ldk, ldv, ldo] heads of packed rows (slice (b, h) at b T ld + h d). */
  attnFwd(heap: ArrayBuffer, q: number, k: number, v: number, o: number, p: number, BH: number, Tq: number, Tk: number, dh: number, dv: number, scale: number, causal: boolean, ...layout: number[]): void;
  /**
   * Depthwise conv2d NHWC, multiplier 1, dilation 1; geo [B, H, W, C, kh, kw, sh, sw, padTop, padLeft, Ho, Wo].
   * op 0: a = x, b = filter, c = y; op 1: a = dy, b = filter, c = dx; op 2: a = x, b = dy, c = dfilter.
   */
  depthwise(heap: ArrayBuffer, op: number, aOff: number, bOff: number, cOff: number, geo: number[]): void;
  attnBwd(heap: ArrayBuffer, dO: number, q: number, k: number, v: number, p: number, dq: number, dk: number, dv: number, BH: number, Tq: number, Tk: number, dh: number, dvDim: number, scale: number, ...layout: number[]): void;
  /** Causal per-channel convolution by FFT: x [B, L, C], h [Lh, C] -> y [B, L, C]. */
  fftConvFwd(heap: ArrayBuffer, x: number, h: number, y: number, B: number, L: number, C: number, Lh: number): void;
  /** Its gradient: dx [B, L, C] and dh [Lh, C] from dy. */
  fftConvBwd(heap: ArrayBuffer, x: number, h: number, dy: number, dx: number, dh: number, B: number, L: number, C: number, Lh: number): void;
  /** Strided 1-D conv patches, channels last: op 0 x [B, L, C] -> cols [B, To, k C]; op 1 dcols -> dx (overlap-add). */
  unfold1d(heap: ArrayBuffer, op: number, x: number, cols: number, B: number, L: number, C: number, k: number, stride: number, To: number): void;
  /** op 0: y[i] = x[idx[i]] (x: V rows of d); op 1: y [V, d] = scatter-add of the n rows of x at idx. idx int32 in the heap. */
  rows(heap: ArrayBuffer, op: number, x: number, idx: number, y: number, n: number, d: number, V: number): void;
  /** op 0: y = gelu(x) (dy unused); op 1: y = dy * gelu'(x). n floats each. */
  gelu(heap: ArrayBuffer, op: number, x: number, dy: number, y: number, n: number): void;
  /**
   * adaLN over x [B, T, D] with [B, D] coefficients: op 0 y = a (1 + b) + c; op 1 its gradient (a dy, b x, c scale -> d dx,
   * e dscale, f dshift); op 2 y = a + b c (b the gate); op 3 its gradient (a dy, b gate, c u -> d du, e dgate). Unused offsets -1.
   */
  modulate(heap: ArrayBuffer, op: number, a: number, b: number, c: number, d: number, e: number, f: number, B: number, T: number, D: number): void;
}

let addon: NativeAddon | undefined;
let loadError: string | undefined;

function repoRoot(): string {
  // Compiled to build/lib/engine/native.js, run from lib/engine/native.ts by
  // ts tooling: walk up to the directory holding package.json.
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, "package.json")) && fs.existsSync(path.join(d, "native"))) return d;
    d = path.dirname(d);
  }
  return path.resolve(__dirname, "../../..");
}

/** Path of the built addon (env DYT_NATIVE_ADDON overrides it; a relative one is taken from the working directory). */
export function addonPath(): string {
  const o = process.env.DYT_NATIVE_ADDON;
  return o ? path.resolve(o) : path.join(repoRoot(), "native", "build", "dyt_native.node");
}

/** Where native/build.sh puts the build capped at `cap` (DYT_NATIVE_MAX_ISA=cap). */
export function cappedAddonPath(cap: NativeIsaCap): string {
  return path.join(repoRoot(), "native", "build", `dyt_native-${cap}.node`);
}

/** Build the capped addon with native/build.sh if it is missing or stale: its path, or the build's one-line reason. */
export function buildCappedAddon(cap: NativeIsaCap): { path: string } | { error: string } {
  const r = spawnSync("bash", [path.join(repoRoot(), "native", "build.sh")], { encoding: "utf8", env: { ...process.env, DYT_NATIVE_MAX_ISA: cap } });
  if (r.status !== 0) return { error: ((r.stderr || r.stdout || "").trim().split("\n").pop() || `native/build.sh exited ${r.status}`).replace(/^\[native\] /, "") };
  return { path: cappedAddonPath(cap) };
}

/** Load the addon once; undefined (with the reason in nativeLoadError()) when absent or broken. */
export function loadAddon(): NativeAddon | undefined {
  if (addon || loadError) return addon;
  const p = addonPath();
  const rel = path.relative(process.cwd(), p);
  const shown = rel && !rel.startsWith("..") ? rel : p;
  if (!fs.existsSync(p)) {
    // An override names the file itself: say so, or a typo reads like a failed build.
    const o = process.env.DYT_NATIVE_ADDON;
    loadError = o
      ? `addon not built at DYT_NATIVE_ADDON=${o} (no such file${o === p ? "" : `: ${p}`}; unset it for the default build, or build the capped one: DYT_NATIVE_MAX_ISA=x86-64-v3 bash native/build.sh)`
      : `addon not built (${shown} missing; npm run setup builds it with g++ and libopenblas-dev)`;
    return undefined;
  }
  try {
    const m = require(p) as NativeAddon;
    if (m.abi !== NATIVE_ABI) {
      loadError = `addon ${shown} is stale (abi ${m.abi}, need ${NATIVE_ABI}; rebuild with: bash native/build.sh)`;
      return undefined;
    }
    m.info();
    addon = m;
  } catch (e) {
    addon = undefined;
    loadError = `addon failed to load: ${String((e as Error).message).split("\n")[0]}`;
  }
  return addon;
}

export function nativeLoadError(): string | undefined {
  loadAddon();
  return loadError;
}

// ---------------------------------------------------------------------------
// Kernels. Types of the wasm backend are structural here to avoid a type
// dependency on its internals.

interface WasmData {
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
}
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): WasmData | undefined; has(id: object): boolean };
  refCount(id: object): number;
  incRef(id: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(id: object, force?: boolean): boolean;
}
type KArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs?: tf.NamedAttrMap };

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const offsetOf = (backend: WasmBackendLike, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
const heapOf = (backend: WasmBackendLike) => backend.wasm.HEAPU8.buffer as ArrayBuffer;

/** Counts of kernel calls served natively vs delegated (for tests and the bench). */
export const nativeStats = { matmul: 0, fusedMatmul: 0, transpose: 0, unary: 0, sum: 0, unpack: 0, delegated: 0, adamw: 0, norm: 0, attention: 0, depthwise: 0, fftConv: 0, unfold: 0, split: 0, rows: 0, concat: 0, gelu: 0, modulate: 0 };

/** One native matmul: its sizes, multiply-add FLOPs (2 per multiply-add) and wall time. */
export interface MatmulCall {
  batch: number;
  m: number;
  k: number;
  n: number;
  flops: number;
  ms: number;
}

/** While `on`, every native matmul appends a MatmulCall (the bench's per-matmul rates; off otherwise: no cost). */
export const matmulLog: { on: boolean; calls: MatmulCall[] } = { on: false, calls: [] };

/**
 * out = op(a) @ op(b) for float32 tensors on the wasm heap, with numpy-style
 * broadcasting of the batch (outer) dims, written to a fresh output.
 */
function nativeMatMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, tA: boolean, tB: boolean): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const kA = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kB = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (kA !== kB)
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`,
    );
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = sizeOf(outer);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const out = backend.makeOutput([...outer, m, n], "float32");
  if (batch === 0 || m === 0 || n === 0) return out;
  const aOff = offsetOf(backend, a);
  const bOff = offsetOf(backend, b);
  const cOff = offsetOf(backend, out);
  const heap = heapOf(backend); // after makeOutput: the heap may have grown
  let sA = m * kA;
  let sB = kA * n;
  let aIdx: Int32Array | null = null;
  let bIdx: Int32Array | null = null;
  if (batchA === 1) sA = 0;
  if (batchB === 1) sB = 0;
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
    // General broadcast ([2,1,..] x [1,3,..]): per-output batch index of each operand.
    aIdx = broadcastIndex(outer, outerA);
    bIdx = broadcastIndex(outer, outerB);
  }
  const t0 = matmulLog.on ? performance.now() : 0;
  if (!tA && sB === 0 && !aIdx && batch > 1) {
    // One shared right operand: fold the batch into the rows of one big gemm.
    addon!.sgemm(heap, aOff, bOff, cOff, 1, batch * m, n, kA, false, tB, 0, 0);
  } else {
    addon!.sgemm(heap, aOff, bOff, cOff, batch, m, n, kA, tA, tB, sA, sB, aIdx, bIdx);
  }
  if (matmulLog.on) matmulLog.calls.push({ batch, m, k: kA, n, flops: 2 * batch * m * n * kA, ms: performance.now() - t0 });
  return out;
}

/** For each flat index of `outer`, the flat index into the (broadcast) `dims`. */
function broadcastIndex(outer: number[], dims: number[]): Int32Array {
  const total = sizeOf(outer);
  const idx = new Int32Array(total);
  const pad = outer.length - dims.length;
  const full = [...Array(pad).fill(1), ...dims];
  const strides = new Array<number>(full.length);
  let s = 1;
  for (let i = full.length - 1; i >= 0; i--) {
    strides[i] = full[i] === 1 ? 0 : s;
    s *= full[i]!;
  }
  for (let f = 0; f < total; f++) {
    let rem = f;
    let j = 0;
    for (let i = outer.length - 1; i >= 0; i--) {
      const d = outer[i]!;
      j += (rem % d) * strides[i]!;
      rem = Math.floor(rem / d);
    }
    idx[f] = j;
  }
  return idx;
}

type KernelFn = (args: KArgs) => tf.TensorInfo | tf.TensorInfo[];
const originals = new Map<string, tf.KernelConfig>();

function delegate(name: string, args: KArgs): tf.TensorInfo | tf.TensorInfo[] {
  nativeStats.delegated++;
  return (originals.get(name)!.kernelFunc as unknown as KernelFn)(args);
}

const batchMatMulKernel: KernelFn = (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2)
    return delegate("BatchMatMul", args);
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  nativeStats.matmul++;
  return nativeMatMul(args.backend, a, b, !!transposeA, !!transposeB);
};

/** Activation of a _FusedMatMul, run with the wasm kernels on the product. */
function applyKernel(backend: WasmBackendLike, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const k = tf.getKernel(name, "wasm");
  if (!k) throw new Error(`native: wasm kernel ${name} missing`);
  return (k.kernelFunc as unknown as KernelFn)({ inputs, backend, attrs }) as tf.TensorInfo;
}

const fusedMatMulKernel: KernelFn = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
  if (a!.dtype !== "float32" || b!.dtype !== "float32") return delegate("_FusedMatMul", args);
  const backend = args.backend;
  nativeStats.fusedMatmul++;
  let y = nativeMatMul(backend, a!, b!, !!attrs.transposeA, !!attrs.transposeB);
  const replace = (next: tf.TensorInfo) => {
    backend.disposeData(y.dataId);
    y = next;
  };
  if (bias) replace(applyKernel(backend, "Add", { a: y, b: bias }));
  switch (attrs.activation) {
    case undefined:
    case null:
    case "linear":
      break;
    case "relu":
      replace(applyKernel(backend, "Relu", { x: y }));
      break;
    case "relu6":
      replace(applyKernel(backend, "Relu6", { x: y }));
      break;
    case "elu":
      replace(applyKernel(backend, "Elu", { x: y }));
      break;
    case "sigmoid":
      replace(applyKernel(backend, "Sigmoid", { x: y }));
      break;
    case "leakyrelu":
      replace(applyKernel(backend, "LeakyRelu", { x: y }, { alpha: attrs.leakyreluAlpha ?? 0.2 }));
      break;
    case "prelu":
      replace(applyKernel(backend, "Prelu", { x: y, alpha: preluActivationWeights! }));
      break;
    default:
      throw new Error(`native _FusedMatMul: activation ${attrs.activation} not supported`);
  }
  return y;
};

/**
 * Reduce a transpose to its essential form: drop size-1 dims, then merge runs
 * of input axes that stay adjacent and in order in the output. E.g. shape
 * [64,50,3,4,16] perm [2,0,3,1,4] stays rank 5, [B,H,T,D] perm [0,1,3,2]
 * becomes [B*H,T,D] perm [0,2,1], and an identity becomes rank <= 1.
 */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const renum = new Map(keep.map((v, i) => [v, i] as [number, number]));
  const q = perm.filter((i) => shape[i] !== 1).map((i) => renum.get(i)!);
  const s = keep.map((i) => shape[i]!);
  // Groups of consecutive input axes, in output order.
  const groups: number[][] = [];
  for (const ax of q) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1]! + 1 === ax) g.push(ax);
    else groups.push([ax]);
  }
  // Input order of the groups gives the reduced input shape.
  const byInput = [...groups].sort((x, y) => x[0]! - y[0]!);
  const newShape = byInput.map((g) => g.reduce((acc, ax) => acc * s[ax]!, 1));
  const pos = new Map(byInput.map((g, i) => [g[0]!, i] as [number, number]));
  return { shape: newShape, perm: groups.map((g) => pos.get(g[0]!)!) };
}

/**
 * Transpose, any rank: the wasm kernel is fast for rank <= 4 but slow for
 * rank 5-6 (measured 86 ms for the q/k/v split [64,50,3,4,16] perm
 * [2,0,3,1,4]; 0.2 ms for 4-D perms of the same size). Native: contiguous row
 * copies when the last axis stays last, cache-blocked tiles for batched 2-D
 * swaps, a strided gather otherwise.
 */
const transposeKernel: KernelFn = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { perm } = args.attrs as { perm: number[] };
  if (x.dtype !== "float32" || sizeOf(x.shape) < 256) return delegate("Transpose", args);
  const red = simplifyTranspose(x.shape, perm);
  if (red.perm.every((p, i) => p === i)) return delegate("Transpose", args); // a reshape: wasm clones
  const backend = args.backend;
  const out = backend.makeOutput(
    perm.map((i) => x.shape[i]!),
    "float32",
  );
  nativeStats.transpose++;
  addon!.transpose(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), red.shape, red.perm);
  return out;
};

/**
 * exp / erf / tanh: the wasm kernels run one scalar libm call per element
 * (the profile of the ViT step showed Erf and Exp, GELU and its gradient, at
 * ~15% of the native step; measured on 819200 elements: exp 6 ms, erf 16 ms,
 * tanh 19 ms in wasm vs ~1 ms each in the addon). The addon's versions are
 * vectorised (AVX-512/AVX2); erf uses the same Abramowitz-Stegun formula as
 * the cpu backend, exp and tanh are within a few ulp of libm.
 */
function unaryKernel(name: string, op: number): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const n = sizeOf(x.shape);
    if (x.dtype !== "float32" || n < 512) return delegate(name, args);
    const backend = args.backend;
    const out = backend.makeOutput(x.shape, "float32");
    nativeStats.unary++;
    addon!.unary(heapOf(backend), op, offsetOf(backend, x), offsetOf(backend, out), n);
    return out;
  };
}

/**
 * Sum over a block of axes that is contiguous once size-1 dims are ignored,
 * i.e. x viewed as [A, R, B] summed over R. The wasm kernel transposes the
 * reduced axes innermost first, so the bias and norm-parameter gradients
 * (sums over the leading [batch, tokens] axes) paid a full transpose each
 * (measured ~31 ms of a ~250 ms native ViT step). Accumulates in double like
 * the cpu backend. Other axis sets are delegated.
 */
export function sumGeometry(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  const red = new Set(axes);
  let a = 1;
  let r = 1;
  let b = 1;
  let phase = 0; // 0: before the reduced block, 1: in it, 2: after it
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    if (red.has(i)) {
      if (phase === 2) return undefined;
      phase = 1;
      r *= d;
    } else if (phase === 0) a *= d;
    else {
      phase = 2;
      b *= d;
    }
  }
  return [a, r, b];
}

const sumKernel: KernelFn = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  if (x.dtype !== "float32" || sizeOf(x.shape) < 256) return delegate("Sum", args);
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const geo = sumGeometry(x.shape, axes);
  if (!geo) return delegate("Sum", args);
  let [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  if (keepDims) outShape = tf.backend_util.expandShapeToKeepDim(outShape, axes);
  const backend = args.backend;
  const out = backend.makeOutput(outShape, "float32");
  nativeStats.sum++;
  addon!.sum(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), geo[0], geo[1], geo[2]);
  return out;
};

/**
 * Unpack (tf.unstack): N strided copies. The wasm kernel slices each output
 * with its generic rank-N slice (3 ms per q/k/v split of [3,64,4,50,16]).
 */
const unpackKernel: KernelFn = (args) => {
  const { value } = args.inputs as { value: tf.TensorInfo };
  let { axis } = args.attrs as { axis: number };
  if (value.dtype !== "float32" || sizeOf(value.shape) < 256) return delegate("Unpack", args);
  const rank = value.shape.length;
  if (axis < 0) axis += rank;
  const n = value.shape[axis]!;
  const a = sizeOf(value.shape.slice(0, axis));
  const b = sizeOf(value.shape.slice(axis + 1));
  const outShape = value.shape.filter((_, i) => i !== axis);
  const backend = args.backend;
  const outs = Array.from({ length: n }, () => backend.makeOutput(outShape, "float32"));
  const heap = heapOf(backend); // after every allocation
  const xOff = offsetOf(backend, value);
  nativeStats.unpack++;
  outs.forEach((o, i) => addon!.copyRows(heap, xOff + 4 * i * b, offsetOf(backend, o), a, b, n * b, b));
  return outs;
};

/**
 * GatherV2 along axis 0 (embedding lookups): one row copy per index. The
 * wasm kernel took ~6 ms for 4,096 rows of 64 (the LM's and Hyena's batch).
 */
const gatherKernel: KernelFn = (args) => {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  if (x.dtype !== "float32" || indices.dtype !== "int32" || (batchDims ?? 0) !== 0 || tf.util.parseAxisParam(axis, x.shape)[0] !== 0 || x.shape.length < 1)
    return delegate("GatherV2", args);
  const V = x.shape[0]!;
  const d = sizeOf(x.shape.slice(1));
  const n = sizeOf(indices.shape);
  if (d === 0 || n === 0) return delegate("GatherV2", args);
  const backend = args.backend;
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], "float32");
  nativeStats.rows++;
  addon!.rows(heapOf(backend), 0, offsetOf(backend, x), offsetOf(backend, indices), offsetOf(backend, out), n, d, V);
  return out;
};

/**
 * Concat: one strided copy per input. The wasm kernel copies each input's
 * rows with a typed-array set per row (3,200 rows x 3 inputs for the ViT's
 * q|k|v gradient: ~2 ms per call, four per step).
 */
const concatKernel: KernelFn = (args) => {
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  if (inputs.length < 2 || inputs.some((t) => t.dtype !== "float32")) return delegate("Concat", args);
  const ax = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0]!.shape)[0]!;
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), ax);
  if (sizeOf(outShape) < 256) return delegate("Concat", args);
  const a = sizeOf(outShape.slice(0, ax));
  const row = sizeOf(outShape.slice(ax));
  const backend = args.backend;
  const out = backend.makeOutput(outShape, "float32");
  const heap = heapOf(backend); // after the allocation
  const outOff = offsetOf(backend, out);
  nativeStats.concat++;
  let col = 0;
  for (const t of inputs) {
    const w = sizeOf(t.shape.slice(ax));
    if (w > 0 && a > 0) addon!.copyRows(heap, offsetOf(backend, t), outOff + 4 * col, a, w, w, row);
    col += w;
  }
  return out;
};

/**
 * SplitV (tf.split): one strided copy per output. The wasm kernel runs its
 * generic Slice per output: 9 ms per split of Hyena's [16, 256, 192] into
 * three along the last axis, 8 ms for wav2vec's [16, 49, 1024].
 */
const splitVKernel: KernelFn = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
  if (x.dtype !== "float32" || sizeOf(x.shape) < 256) return delegate("SplitV", args);
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax) as number[];
  const a = sizeOf(x.shape.slice(0, ax));
  const b = sizeOf(x.shape.slice(ax + 1));
  const n = x.shape[ax]!;
  const backend = args.backend;
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === ax ? s : d)), "float32"));
  const heap = heapOf(backend); // after every allocation
  const xOff = offsetOf(backend, x);
  nativeStats.split++;
  let at = 0;
  outs.forEach((o, i) => {
    if (sizes[i]! > 0) addon!.copyRows(heap, xOff + 4 * at * b, offsetOf(backend, o), a, sizes[i]! * b, n * b, sizes[i]! * b);
    at += sizes[i]!;
  });
  return outs;
};

/**
 * Identity (tf.clone, and the engine's copy of every tensor a gradient saves:
 * 229 calls, ~10 % of the kernel time of a native ViT step): shares the
 * buffer, as the cpu backend's Identity does, instead of the wasm kernel's
 * full copy. tfjs tensors are immutable; the one in-place writer, the native
 * AdamW, checks the buffer's refCount and writes a fresh buffer when shared.
 */
const identityKernel: KernelFn = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  // DYT_FUSED=0 also restores the copying Identity: the bench's "native-unfused" is the engine as before.
  if (x.dtype === "string" || process.env.DYT_FUSED === "0") return delegate("Identity", args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/**
 * Depthwise convolution (NHWC, channel multiplier 1, dilation 1, any stride
 * and padding tfjs computes): forward and both gradients. The wasm backend's
 * forward runs XNNPACK but registers neither backprop kernel, so on plain wasm
 * lib/ops/conv.ts writes both gradients as more forward calls, the filter one
 * with a huge filter ([1,1280,20,24] x [1274,14,24,1] for the bench's
 * ConvNeXt): ~60 % of the ConvNeXt step. Geometry from computeConv2DInfo with
 * depthwise = true, exactly as the cpu backend's kernels.
 */
type DwAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  dataFormat?: "NHWC" | "NCHW";
};

function dwInfo(xShape: number[], filterShape: number[], attrs: DwAttrs): tf.backend_util.Conv2DInfo | undefined {
  if (attrs.dataFormat === "NCHW" || filterShape[3] !== 1) return undefined;
  const dil = attrs.dilations ?? 1;
  if (!(dil === 1 || (Array.isArray(dil) && dil.every((d) => d === 1)))) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  if (info.padInfo.top < 0 || info.padInfo.left < 0) return undefined;
  return info;
}

const dwGeo = (c: tf.backend_util.Conv2DInfo) => [
  c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth,
  c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left, c.outHeight, c.outWidth,
];

/** Run addon op (0 forward, 1 input gradient, 2 filter gradient) on operands a, b into a fresh output of `shape`. */
function runDepthwise(args: Parameters<KernelFn>[0], op: 0 | 1 | 2, a: tf.TensorInfo, b: tf.TensorInfo, c: tf.backend_util.Conv2DInfo, shape: number[]): tf.TensorInfo {
  const backend = args.backend;
  const out = backend.makeOutput(shape, "float32");
  if (sizeOf(shape) === 0) return out;
  nativeStats.depthwise++;
  addon!.depthwise(heapOf(backend), op, offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), dwGeo(c));
  return out;
}

const depthwiseKernel: KernelFn = (args) => {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  if (x.dtype !== "float32" || filter.dtype !== "float32" || x.shape.length !== 4 || filter.shape.length !== 4)
    return delegate("DepthwiseConv2dNative", args);
  const c = dwInfo(x.shape, filter.shape, args.attrs as DwAttrs);
  if (!c) return delegate("DepthwiseConv2dNative", args);
  return runDepthwise(args, 0, x, filter, c, c.outShape);
};

/** Not registered by the wasm backend: what the native kernel does not cover throws, as tfjs would without it. */
function unsupportedDw(name: string): never {
  throw new Error(`native ${name}: only float32 NHWC with channel multiplier 1 and dilation 1 (the wasm backend has no ${name} kernel)`);
}

const depthwiseInputKernel: KernelFn = (args) => {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as DwAttrs & { inputShape: number[] };
  const c = dy.dtype === "float32" && filter.dtype === "float32" ? dwInfo(attrs.inputShape, filter.shape, attrs) : undefined;
  if (!c) unsupportedDw("DepthwiseConv2dNativeBackpropInput");
  return runDepthwise(args, 1, dy, filter, c, c.inShape);
};

const depthwiseFilterKernel: KernelFn = (args) => {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as DwAttrs & { filterShape: number[] };
  const c = x.dtype === "float32" && dy.dtype === "float32" ? dwInfo(x.shape, attrs.filterShape, attrs) : undefined;
  if (!c) unsupportedDw("DepthwiseConv2dNativeBackpropFilter");
  return runDepthwise(args, 2, x, dy, c, c.filterShape);
};

const overrides: Record<string, KernelFn> = {
  Identity: identityKernel,
  BatchMatMul: batchMatMulKernel,
  _FusedMatMul: fusedMatMulKernel,
  Transpose: transposeKernel,
  Exp: unaryKernel("Exp", 0),
  Erf: unaryKernel("Erf", 1),
  Tanh: unaryKernel("Tanh", 2),
  Sum: sumKernel,
  Unpack: unpackKernel,
  SplitV: splitVKernel,
  Concat: concatKernel,
  GatherV2: gatherKernel,
  DepthwiseConv2dNative: depthwiseKernel,
  // Registered only by the native engine (the wasm backend has neither; tf.grad
  // through tf.depthwiseConv2d needs both, and lib/ops/conv.ts uses them).
  DepthwiseConv2dNativeBackpropInput: depthwiseInputKernel,
  DepthwiseConv2dNativeBackpropFilter: depthwiseFilterKernel,
  // Sigmoid (op 3) stays on wasm: its kernel is already SIMD there (measured
  // 0.9 ms for 819200 elements, the addon's 1.0 ms).
};


// ---------------------------------------------------------------------------
// Fused kernels with no tfjs counterpart (lib/ops/fused-norm.ts calls them
// through tf.engine().runKernel inside tf.customGrad, so they show up in the
// profiler and in tidy scopes like any kernel). Channels-last, float32: x is
// viewed as [R, C] with C its last dim. Absent optional inputs pass offset -1.

/** Names of the fused kernels registered on "wasm" while the native engine is active. */
export const FUSED_KERNELS = {
  normFwd: "DytLabNormFwd",
  normBwd: "DytLabNormBwd",
  dytFwd: "DytLabDytFwd",
  dytBwd: "DytLabDytBwd",
  attnFwd: "DytLabAttnFwd",
  attnBwd: "DytLabAttnBwd",
  attnPackedFwd: "DytLabAttnPackedFwd",
  attnPackedBwd: "DytLabAttnPackedBwd",
  fftConvFwd: "DytLabFftConvFwd",
  fftConvBwd: "DytLabFftConvBwd",
  unfold1dFwd: "DytLabUnfold1dFwd",
  unfold1dBwd: "DytLabUnfold1dBwd",
  scatterAddRows: "DytLabScatterAddRows",
  geluFwd: "DytLabGeluFwd",
  geluBwd: "DytLabGeluBwd",
  modulateFwd: "DytLabModulateFwd",
  modulateBwd: "DytLabModulateBwd",
  gatedAddFwd: "DytLabGatedAddFwd",
  gatedAddBwd: "DytLabGatedAddBwd",
} as const;

const optOff = (backend: WasmBackendLike, t: tf.TensorInfo | undefined) => (t ? offsetOf(backend, t) : -1);
const rowsCols = (shape: number[]): [number, number] => {
  const C = shape[shape.length - 1]!;
  return [sizeOf(shape) / C, C];
};

/** inputs x, gamma?, beta?; attrs kind (0 LN, 1 RMS), eps. Outputs [y, rstd[R]] (+ mean[R] after y for LN). */
const normFwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { kind, eps } = attrs as { kind: number; eps: number };
  const [R, C] = rowsCols(x!.shape);
  const y = backend.makeOutput(x!.shape, "float32");
  const mean = kind === 0 ? backend.makeOutput([R], "float32") : undefined;
  const rstd = backend.makeOutput([R], "float32");
  nativeStats.norm++;
  addon!.normFwd(heapOf(backend), kind, offsetOf(backend, x!), optOff(backend, gamma), optOff(backend, beta), offsetOf(backend, y), optOff(backend, mean), offsetOf(backend, rstd), R, C, eps);
  return mean ? [y, mean, rstd] : [y, rstd];
};

/** inputs dy, x, mean? (LN), rstd, gamma?; attrs kind, hasBeta. Outputs [dx, dgamma?, dbeta?]. */
const normBwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, rstd, gamma } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { kind, hasBeta } = attrs as { kind: number; hasBeta: boolean };
  const [R, C] = rowsCols(x!.shape);
  const dx = backend.makeOutput(x!.shape, "float32");
  const dg = gamma ? backend.makeOutput([C], "float32") : undefined;
  const db = hasBeta ? backend.makeOutput([C], "float32") : undefined;
  nativeStats.norm++;
  addon!.normBwd(heapOf(backend), kind, offsetOf(backend, dy!), offsetOf(backend, x!), optOff(backend, mean), offsetOf(backend, rstd!), optOff(backend, gamma), offsetOf(backend, dx), optOff(backend, dg), optOff(backend, db), R, C);
  return [dx, ...(dg ? [dg] : []), ...(db ? [db] : [])];
};

/** inputs x, alpha [1], gamma?, beta?. Output y = tanh(alpha x) gamma + beta. */
const dytFwdKernel: KernelFn = ({ inputs, backend }) => {
  const { x, alpha, gamma, beta } = inputs as Record<string, tf.TensorInfo | undefined>;
  const [R, C] = rowsCols(x!.shape);
  const y = backend.makeOutput(x!.shape, "float32");
  nativeStats.norm++;
  addon!.dytFwd(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, alpha!), optOff(backend, gamma), optOff(backend, beta), offsetOf(backend, y), R, C);
  return y;
};

/** inputs dy, x, alpha, gamma?; attrs hasBeta. Outputs [dx, dalpha [1], dgamma?, dbeta?]. */
const dytBwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { dy, x, alpha, gamma } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { hasBeta } = attrs as { hasBeta: boolean };
  const [R, C] = rowsCols(x!.shape);
  const dx = backend.makeOutput(x!.shape, "float32");
  const da = backend.makeOutput([1], "float32");
  const dg = gamma ? backend.makeOutput([C], "float32") : undefined;
  const db = hasBeta ? backend.makeOutput([C], "float32") : undefined;
  nativeStats.norm++;
  addon!.dytBwd(heapOf(backend), offsetOf(backend, dy!), offsetOf(backend, x!), offsetOf(backend, alpha!), optOff(backend, gamma), offsetOf(backend, dx), offsetOf(backend, da), optOff(backend, dg), optOff(backend, db), R, C);
  return [dx, da, ...(dg ? [dg] : []), ...(db ? [db] : [])];
};

/** Slices, query/key lengths and head dims of q [..., Tq, dh], k [..., Tk, dh], v [..., Tk, dv]. */
function attnGeometry(q: tf.TensorInfo, k: tf.TensorInfo, v: tf.TensorInfo) {
  const r = q.shape.length;
  return { BH: sizeOf(q.shape.slice(0, -2)), Tq: q.shape[r - 2]!, Tk: k.shape[r - 2]!, dh: q.shape[r - 1]!, dv: v.shape[r - 1]! };
}

/** inputs q, k, v; attrs scale, causal. Outputs [o [..., Tq, dv], p [..., Tq, Tk]]. */
const attnFwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { q, k, v } = inputs as Record<string, tf.TensorInfo>;
  const { scale, causal } = attrs as { scale: number; causal: boolean };
  const g = attnGeometry(q!, k!, v!);
  const lead = q!.shape.slice(0, -2);
  const o = backend.makeOutput([...lead, g.Tq, g.dv], "float32");
  const p = backend.makeOutput([...lead, g.Tq, g.Tk], "float32");
  nativeStats.attention++;
  addon!.attnFwd(heapOf(backend), offsetOf(backend, q!), offsetOf(backend, k!), offsetOf(backend, v!), offsetOf(backend, o), offsetOf(backend, p), g.BH, g.Tq, g.Tk, g.dh, g.dv, scale, !!causal);
  return [o, p];
};

/** inputs dy, q, k, v, p; attrs scale. Outputs [dq, dk, dv]. */
const attnBwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { dy, q, k, v, p } = inputs as Record<string, tf.TensorInfo>;
  const { scale } = attrs as { scale: number };
  const g = attnGeometry(q!, k!, v!);
  const dq = backend.makeOutput(q!.shape, "float32");
  const dk = backend.makeOutput(k!.shape, "float32");
  const dv = backend.makeOutput(v!.shape, "float32");
  nativeStats.attention++;
  addon!.attnBwd(heapOf(backend), offsetOf(backend, dy!), offsetOf(backend, q!), offsetOf(backend, k!), offsetOf(backend, v!), offsetOf(backend, p!), offsetOf(backend, dq), offsetOf(backend, dk), offsetOf(backend, dv), g.BH, g.Tq, g.Tk, g.dh, g.dv, scale);
  return [dq, dk, dv];
};

/**
 * Packed heads (lib/ops/fused-attention.ts attentionPacked): qkv [B, T, 3 D] is
 * the q/k/v projection with D = H dh, its three column blocks the q, k, v of
 * every head; the output is [B, T, D]. The kernels read and write the heads
 * in place through row strides: no split, transposes or concat.
 */
function packedGeometry(qkv: tf.TensorInfo, heads: number) {
  const [B, T, D3] = qkv.shape as [number, number, number];
  const D = D3 / 3;
  return { B, T, D, dh: D / heads, layout: [heads, D3, D3, D3, D] };
}

/** inputs qkv [B, T, 3 D]; attrs heads, scale, causal. Outputs [o [B, T, D], p [B, H, T, T]]. */
const attnPackedFwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { qkv } = inputs as Record<string, tf.TensorInfo>;
  const { heads, scale, causal } = attrs as { heads: number; scale: number; causal: boolean };
  const g = packedGeometry(qkv!, heads);
  const o = backend.makeOutput([g.B, g.T, g.D], "float32");
  const p = backend.makeOutput([g.B, heads, g.T, g.T], "float32");
  nativeStats.attention++;
  const base = offsetOf(backend, qkv!);
  addon!.attnFwd(heapOf(backend), base, base + 4 * g.D, base + 8 * g.D, offsetOf(backend, o), offsetOf(backend, p), g.B * heads, g.T, g.T, g.dh, g.dh, scale, !!causal, ...g.layout);
  return [o, p];
};

/** inputs dy [B, T, D], qkv, p; attrs heads, scale. Output dqkv [B, T, 3 D]. */
const attnPackedBwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { dy, qkv, p } = inputs as Record<string, tf.TensorInfo>;
  const { heads, scale } = attrs as { heads: number; scale: number };
  const g = packedGeometry(qkv!, heads);
  const dqkv = backend.makeOutput(qkv!.shape, "float32");
  nativeStats.attention++;
  const base = offsetOf(backend, qkv!), dbase = offsetOf(backend, dqkv);
  addon!.attnBwd(heapOf(backend), offsetOf(backend, dy!), base, base + 4 * g.D, base + 8 * g.D, offsetOf(backend, p!), dbase, dbase + 4 * g.D, dbase + 8 * g.D, g.B * heads, g.T, g.T, g.dh, g.dh, scale, ...g.layout);
  return dqkv;
};

/** inputs x [B, L, C], h [Lh, C]. Output y [B, L, C] (lib/ops/fft-conv.ts). */
const fftConvFwdKernel: KernelFn = ({ inputs, backend }) => {
  const { x, h } = inputs as Record<string, tf.TensorInfo>;
  const [B, L, C] = x!.shape as [number, number, number];
  const y = backend.makeOutput(x!.shape, "float32");
  nativeStats.fftConv++;
  addon!.fftConvFwd(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, h!), offsetOf(backend, y), B, L, C, h!.shape[0]!);
  return y;
};

/** inputs dy, x, h. Outputs [dx, dh]. */
const fftConvBwdKernel: KernelFn = ({ inputs, backend }) => {
  const { dy, x, h } = inputs as Record<string, tf.TensorInfo>;
  const [B, L, C] = x!.shape as [number, number, number];
  const dx = backend.makeOutput(x!.shape, "float32");
  const dh = backend.makeOutput(h!.shape, "float32");
  nativeStats.fftConv++;
  addon!.fftConvBwd(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, h!), offsetOf(backend, dy!), offsetOf(backend, dx), offsetOf(backend, dh), B, L, C, h!.shape[0]!);
  return [dx, dh];
};

/** inputs x [B, L, C]; attrs k, stride, outLength To (conv1dOutLength, computed by the caller). Output cols [B, To, k C] (lib/ops/conv1d.ts unfold1d). */
const unfold1dFwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const { k, stride, outLength: To } = attrs as { k: number; stride: number; outLength: number };
  const [B, L, C] = x!.shape as [number, number, number];
  const cols = backend.makeOutput([B, To, k * C], "float32");
  nativeStats.unfold++;
  addon!.unfold1d(heapOf(backend), 0, offsetOf(backend, x!), offsetOf(backend, cols), B, L, C, k, stride, To);
  return cols;
};

/** inputs dcols [B, To, k C]; attrs k, stride, length L. Output dx [B, L, C]. */
const unfold1dBwdKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { dcols } = inputs as Record<string, tf.TensorInfo>;
  const { k, stride, length } = attrs as { k: number; stride: number; length: number };
  const [B, To, kC] = dcols!.shape as [number, number, number];
  const C = kC / k;
  const dx = backend.makeOutput([B, length, C], "float32");
  nativeStats.unfold++;
  addon!.unfold1d(heapOf(backend), 1, offsetOf(backend, dx), offsetOf(backend, dcols!), B, length, C, k, stride, To);
  return dx;
};

/** inputs x [n, d], indices int32 [n]; attrs rows V. Output y [V, d]: y[v] = sum of x[i] with indices[i] = v (embedding gradient). */
const scatterAddRowsKernel: KernelFn = ({ inputs, backend, attrs }) => {
  const { x, indices } = inputs as Record<string, tf.TensorInfo>;
  const { rows } = attrs as { rows: number };
  const [n, d] = x!.shape as [number, number];
  const y = backend.makeOutput([rows, d], "float32");
  nativeStats.rows++;
  addon!.rows(heapOf(backend), 1, offsetOf(backend, x!), offsetOf(backend, indices!), offsetOf(backend, y), n, d, rows);
  return y;
};

/** inputs x. Output gelu(x) (exact, erf). */
const geluFwdKernel: KernelFn = ({ inputs, backend }) => {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const y = backend.makeOutput(x!.shape, "float32");
  nativeStats.gelu++;
  addon!.gelu(heapOf(backend), 0, offsetOf(backend, x!), -1, offsetOf(backend, y), sizeOf(x!.shape));
  return y;
};

/** inputs dy, x. Output dx = dy * gelu'(x). */
const geluBwdKernel: KernelFn = ({ inputs, backend }) => {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  const dx = backend.makeOutput(x!.shape, "float32");
  nativeStats.gelu++;
  addon!.gelu(heapOf(backend), 1, offsetOf(backend, x!), offsetOf(backend, dy!), offsetOf(backend, dx), sizeOf(x!.shape));
  return dx;
};

/**
 * One call of the addon's modulate op: operands a, b, c (their roles per op in
 * the NativeAddon docs), a fresh output d shaped like `full` ([B, T, D]) and
 * `coefOuts` fresh [B, D] outputs (e, f). Returns [d, ...those].
 */
function runModulate(backend: WasmBackendLike, op: 0 | 1 | 2 | 3, [a, b, c]: tf.TensorInfo[], full: tf.TensorInfo, coefShape: number[], coefOuts: 0 | 1 | 2): tf.TensorInfo[] {
  const d = backend.makeOutput(full.shape, "float32");
  const coefs = Array.from({ length: coefOuts }, () => backend.makeOutput(coefShape, "float32"));
  nativeStats.modulate++;
  const [B, T, D] = full.shape as [number, number, number];
  addon!.modulate(heapOf(backend), op, offsetOf(backend, a!), offsetOf(backend, b!), offsetOf(backend, c!), offsetOf(backend, d), optOff(backend, coefs[0]), optOff(backend, coefs[1]), B, T, D);
  return [d, ...coefs];
}

/** inputs x [B, T, D], scale, shift [B, D]. Output y = x * (1 + scale) + shift. */
const modulateFwdKernel: KernelFn = ({ inputs, backend }) => {
  const { x, scale, shift } = inputs as Record<string, tf.TensorInfo>;
  return runModulate(backend, 0, [x!, scale!, shift!], x!, scale!.shape, 0)[0]!;
};

/** inputs dy, x, scale. Outputs [dx, dscale, dshift]. */
const modulateBwdKernel: KernelFn = ({ inputs, backend }) => {
  const { dy, x, scale } = inputs as Record<string, tf.TensorInfo>;
  return runModulate(backend, 1, [dy!, x!, scale!], x!, scale!.shape, 2);
};

/** inputs x [B, T, D], gate [B, D], u [B, T, D]. Output y = x + gate * u. */
const gatedAddFwdKernel: KernelFn = ({ inputs, backend }) => {
  const { x, gate, u } = inputs as Record<string, tf.TensorInfo>;
  return runModulate(backend, 2, [x!, gate!, u!], x!, gate!.shape, 0)[0]!;
};

/** inputs dy, gate, u. Outputs [du, dgate] (dx is dy itself). */
const gatedAddBwdKernel: KernelFn = ({ inputs, backend }) => {
  const { dy, gate, u } = inputs as Record<string, tf.TensorInfo>;
  return runModulate(backend, 3, [dy!, gate!, u!], u!, gate!.shape, 1);
};

const fusedKernels: Record<string, KernelFn> = {
  [FUSED_KERNELS.modulateFwd]: modulateFwdKernel,
  [FUSED_KERNELS.modulateBwd]: modulateBwdKernel,
  [FUSED_KERNELS.gatedAddFwd]: gatedAddFwdKernel,
  [FUSED_KERNELS.gatedAddBwd]: gatedAddBwdKernel,
  [FUSED_KERNELS.geluFwd]: geluFwdKernel,
  [FUSED_KERNELS.geluBwd]: geluBwdKernel,
  [FUSED_KERNELS.scatterAddRows]: scatterAddRowsKernel,
  [FUSED_KERNELS.unfold1dFwd]: unfold1dFwdKernel,
  [FUSED_KERNELS.unfold1dBwd]: unfold1dBwdKernel,
  [FUSED_KERNELS.fftConvFwd]: fftConvFwdKernel,
  [FUSED_KERNELS.fftConvBwd]: fftConvBwdKernel,
  [FUSED_KERNELS.attnFwd]: attnFwdKernel,
  [FUSED_KERNELS.attnBwd]: attnBwdKernel,
  [FUSED_KERNELS.attnPackedFwd]: attnPackedFwdKernel,
  [FUSED_KERNELS.attnPackedBwd]: attnPackedBwdKernel,
  [FUSED_KERNELS.normFwd]: normFwdKernel,
  [FUSED_KERNELS.normBwd]: normBwdKernel,
  [FUSED_KERNELS.dytFwd]: dytFwdKernel,
  [FUSED_KERNELS.dytBwd]: dytBwdKernel,
};

/**
 * Whether the fused kernels can run on `tensors` now: the native engine is
 * active (and the backend is still wasm), every tensor is float32, and
 * DYT_FUSED is not "0" (the switch the bench uses for before/after rows).
 */
export function fusedKernelsUsable(...tensors: (tf.Tensor | undefined)[]): boolean {
  if (!installed || process.env.DYT_FUSED === "0" || tf.getBackend() !== "wasm") return false;
  return tensors.every((t) => !t || t.dtype === "float32");
}

/** One parameter's AdamW state for nativeAdamW. */
export interface AdamWSlot {
  w: tf.Variable;
  g: tf.Tensor;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
}

/**
 * One AdamW step over every slot in a single addon call (no per-parameter
 * tfjs ops). Each weight is written to a fresh buffer, assigned to its
 * variable afterwards (as tfjs's own assign does); the moments m and v are
 * updated in place unless their data is shared with another tensor (backend
 * refCount > 1), when they get a fresh buffer too.
 * Returns false, having changed nothing, when the native path cannot run
 * (another backend, a non-float32 tensor, DYT_FUSED=0): the caller then runs
 * the tfjs ops.
 */
export function nativeAdamW(slots: AdamWSlot[], hyper: { beta1: number; beta2: number; eps: number; lr: number; weightDecay: number; bc1: number; bc2: number }): boolean {
  if (!fusedKernelsUsable()) return false;
  const backend = tf.backend() as unknown as WasmBackendLike;
  for (const s of slots)
    for (const t of [s.w, s.g, s.m, s.v]) if (t.dtype !== "float32" || t.isDisposed || !backend.dataIdMap.has(t.dataId)) return false;
  const table = new Float64Array(9 * slots.length);
  const fresh: [tf.Variable, tf.TensorInfo][] = [];
  const outOf = (t: tf.Variable): tf.TensorInfo => {
    if (backend.refCount(t.dataId) <= 1) return t;
    const o = backend.makeOutput(t.shape, "float32");
    fresh.push([t, o]);
    return o;
  };
  // Weights always get a fresh buffer: the wasm backend's XNNPACK convolutions
  // cache their packed filter under the filter's data id, so a weight written
  // in place under the same id would be convolved with its old values (what
  // broke ResNet training and BatchNorm resume). m and v are read by nothing but
  // this update, so they are written in place unless shared.
  const freshOut = (t: tf.Variable): tf.TensorInfo => {
    const o = backend.makeOutput(t.shape, "float32");
    fresh.push([t, o]);
    return o;
  };
  const outs = slots.map((s) => [freshOut(s.w), outOf(s.m), outOf(s.v)] as const);
  // Offsets after every allocation (they stay valid when the heap grows; the buffer does not).
  slots.forEach((s, i) => {
    const [wo, mo, vo] = outs[i]!;
    table.set(
      [offsetOf(backend, s.w), offsetOf(backend, wo), offsetOf(backend, s.g), offsetOf(backend, s.m), offsetOf(backend, mo), offsetOf(backend, s.v), offsetOf(backend, vo), s.w.size, s.decay ? 1 : 0],
      9 * i,
    );
  });
  nativeStats.adamw++;
  addon!.adamw(heapOf(backend), table, Float64Array.from([hyper.beta1, hyper.beta2, hyper.eps, hyper.lr, hyper.weightDecay, hyper.bc1, hyper.bc2]));
  for (const [variable, info] of fresh) {
    const t = tf.engine().makeTensorFromTensorInfo(info);
    variable.assign(t);
    t.dispose();
  }
  return true;
}

/** Exposed for tests: which kernels the native engine replaces. */
export const OVERRIDDEN_KERNELS = Object.keys(overrides);

/** Overrides the wasm backend may lack (tfjs 4.22 registers neither): added while active, removed after. */
export const ADDED_KERNELS: ReadonlySet<string> = new Set(["DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter"]);

/**
 * Whether tf.depthwiseConv2d's own gradient runs natively now (the native
 * engine is active on wasm): lib/ops/conv.ts then calls it with the padding
 * inside the kernel instead of its custom gradient of forward calls.
 */
export function nativeDepthwiseUsable(...tensors: tf.Tensor[]): boolean {
  return installed && tf.getBackend() === "wasm" && tensors.every((t) => t.dtype === "float32");
}

let installed = false;

function install(): void {
  if (installed) return;
  for (const [name, fn] of Object.entries(overrides)) {
    const orig = tf.getKernel(name, "wasm");
    if (!orig) {
      if (!ADDED_KERNELS.has(name)) throw new Error(`wasm kernel ${name} is not registered`);
      tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
      continue;
    }
    originals.set(name, orig);
    tf.unregisterKernel(name, "wasm");
    // Keep the original setupFunc: the delegated path needs the wasm entry
    // points it initialises, whichever kernel table the backend starts with.
    const cfg: tf.KernelConfig = { kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc };
    if (orig.setupFunc) cfg.setupFunc = orig.setupFunc;
    if (orig.disposeFunc) cfg.disposeFunc = orig.disposeFunc;
    tf.registerKernel(cfg);
  }
  for (const [name, fn] of Object.entries(fusedKernels))
    if (!tf.getKernel(name, "wasm")) tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
  installed = true;
}

function uninstall(): void {
  if (!installed) return;
  for (const [name, orig] of originals) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(orig);
  }
  for (const name of Object.keys(fusedKernels)) if (tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
  for (const name of ADDED_KERNELS) if (!originals.has(name) && tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
  originals.clear();
  installed = false;
}

/** True while the native kernels are swapped into the wasm backend. */
export function nativeKernelsActive(): boolean {
  return installed;
}

/** The addon's report: OpenBLAS core, config string, thread counts. */
export function nativeInfo(): ReturnType<NativeAddon["info"]> | undefined {
  return loadAddon()?.info();
}

export const provider: EngineProvider = {
  name: "native",
  async activate(): Promise<string> {
    const lib = loadAddon();
    if (!lib) throw new Error(loadError!);
    // The wasm backend first (set up exactly as the wasm engine does), then the swap.
    const { activateWasm } = require("./index") as typeof import("./index");
    await activateWasm();
    install();
    const i = lib.info();
    const forced = i.coretypeEnv ? `, OPENBLAS_CORETYPE=${i.coretypeEnv}` : "";
    const capped = i.isaCap === "x86-64-v3" ? `, addon capped at x86-64-v3 (${i.simd})` : "";
    const gemm = i.gemm && i.gemm !== "openblas" ? `, ${i.gemm.replace("own avx512", "own AVX-512 sgemm")}` : "";
    return `wasm SIMD + OpenBLAS ${i.corename}${forced}${capped}${gemm}, ${i.threads} thread${i.threads === 1 ? "" : "s"}`;
  },
  deactivate(): void {
    uninstall();
  },
};
