/**
 * The committed efficiency results (results/efficiency/<scale>/layers.json and
 * step.json, written by `npm run bench -- ... --save DIR`): loaders with
 * clear errors, and the tables and figure of notebooks/12-efficiency.ipynb
 * and the README's Efficiency section.
 */
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../util/paths";
import type { Row } from "../tables";
import type { Figure } from "../plot/types";
import { scatterFigure, type ScatterSeries } from "../plot/figures";
import { medianOf, type NormLayerBench, type NormLayerRow } from "./layers";
import type { CpuPeak } from "./peak";

/** Where `npm run bench` and this module put the bench results. */
export interface BenchProvenance {
  gitCommit: string;
  gitDirty: boolean;
  /** Engine name -> detail (e.g. "wasm SIMD + OpenBLAS Cooperlake, 2 threads"). */
  engines: Record<string, string>;
  tfjs: string;
  node: string;
  cpuModel: string;
  /** 1, 5, 15 minute load averages at start. */
  load: number[];
  date: string;
  note?: string;
}

export interface LayersFile {
  provenance?: BenchProvenance;
  date: string;
  load: number[];
  /** The machine's peak (read its GFLOP/s with peak.ts peakGflops(): older files hold only the nominal estimate). */
  peak?: CpuPeak;
  shapes: [number, number][];
  results: Record<string, NormLayerBench>;
}

export interface TorchStep {
  msPerStep: number;
  torch: string;
  threads: number;
  ompWait: string;
  /** Step times (wall ms) by setting ("default" = as Debian ships it, "passive" = OMP_WAIT_POLICY=PASSIVE, "passive-cpublas" = PASSIVE with OpenBLAS's kernels for this CPU). */
  byPolicy: Record<string, number[]>;
  cpuByPolicy: Record<string, number[]>;
  profile?: { op: string; ms: number; calls: number }[];
}

export interface KernelTime {
  name: string;
  ms: number;
  calls: number;
}

export interface EngineStep {
  engine: string;
  detail: string;
  norm: string;
  msPerStep: number;
  stepsMs: number[];
  cpuMs: number[];
  profile?: { stepMs: number; kernelMs: number; nestedMs: number; kernels: KernelTime[]; shapes: KernelTime[] };
}

export interface StepFile {
  provenance?: BenchProvenance;
  date: string;
  load: number[];
  /** As in LayersFile; "isa" (bench.ts --isa) records a forced ISA, absent in older files. */
  peak?: CpuPeak;
  isa?: { isa: string; emulated: boolean; env: Record<string, string>; note: string };
  results: EngineStep[];
  torch: Record<string, TorchStep>;
}

export const EFFICIENCY_COMMANDS = {
  layers: "npm run bench -- --layers --engines native,wasm,cpu --save results/efficiency/full",
  step: "npm run bench -- --engines native,wasm --norms layernorm,dyt --steps 10 --save results/efficiency/full",
} as const;

/** The committed full-scale results (independent of DYT_RESULTS_DIR: they are part of the repository). */
export function efficiencyDir(): string {
  return path.join(repoRoot(), "results", "efficiency", "full");
}

function loadJson(file: string, command: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); regenerate it with: ${command}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`corrupt JSON in ${file} (${(e as Error).message}); regenerate it with: ${command}`);
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** results/efficiency/full/layers.json (or `file`), checked for the fields the tables use. */
export function loadLayerBench(file = path.join(efficiencyDir(), "layers.json")): LayersFile {
  const cmd = EFFICIENCY_COMMANDS.layers;
  const d = loadJson(file, cmd);
  const bad = (what: string) => new Error(`malformed ${file}: ${what}; regenerate it with: ${cmd}`);
  if (!isObj(d) || !isObj(d.results)) throw bad("no 'results' object");
  for (const [eng, r] of Object.entries(d.results)) {
    if (!isObj(r) || !Array.isArray(r.rows)) throw bad(`results.${eng} has no 'rows' array`);
    for (const row of r.rows as unknown[]) {
      if (!isObj(row) || typeof row.norm !== "string" || !["rows", "channels", "fwdMs", "fwdBwdMs"].every((k) => typeof row[k] === "number"))
        throw bad(`results.${eng}.rows has a row without norm/rows/channels/fwdMs/fwdBwdMs`);
    }
  }
  return d as unknown as LayersFile;
}

/** results/efficiency/full/step.json (or `file`), checked for the fields the tables use. */
export function loadStepBench(file = path.join(efficiencyDir(), "step.json")): StepFile {
  const cmd = EFFICIENCY_COMMANDS.step;
  const d = loadJson(file, cmd);
  const bad = (what: string) => new Error(`malformed ${file}: ${what}; regenerate it with: ${cmd}`);
  if (!isObj(d) || !Array.isArray(d.results)) throw bad("no 'results' array");
  if (!isObj(d.torch)) throw bad("no 'torch' object (run without --no-torch)");
  for (const r of d.results as unknown[])
    if (!isObj(r) || typeof r.engine !== "string" || typeof r.norm !== "string" || !Array.isArray(r.stepsMs) || !Array.isArray(r.cpuMs))
      throw bad("a result without engine/norm/stepsMs/cpuMs");
  for (const [n, t] of Object.entries(d.torch))
    if (!isObj(t) || !isObj(t.byPolicy) || !isObj(t.cpuByPolicy)) throw bad(`torch.${n} has no byPolicy/cpuByPolicy`);
  return d as unknown as StepFile;
}

// ---------------------------------------------------------------------------
// Layer speed.

const shapeName = (r: { rows: number; channels: number }) => `${r.rows}x${r.channels}`;

/**
 * One row per engine x norm x shape: wall and CPU ms forward and forward +
 * backward, and the norm's fwd+bwd time over LayerNorm's on the same engine
 * and shape ("vs LN"; < 1 = faster than LayerNorm).
 */
export function layerSpeedRows(results: Record<string, NormLayerBench>): Row[] {
  const out: Row[] = [];
  for (const [engine, r] of Object.entries(results)) {
    const ln = new Map(r.rows.filter((x) => x.norm === "layernorm").map((x) => [shapeName(x), x] as const));
    for (const x of r.rows) {
      const base = ln.get(shapeName(x));
      out.push({
        engine,
        norm: x.norm,
        shape: shapeName(x),
        elements: x.rows * x.channels,
        "fwd ms": x.fwdMs,
        "fwd+bwd ms": x.fwdBwdMs,
        "fwd cpu ms": x.fwdCpu,
        "fwd+bwd cpu ms": x.fwdBwdCpu,
        "fwd+bwd vs LN": base ? x.fwdBwdMs / base.fwdBwdMs : NaN,
      });
    }
  }
  return out;
}

/** DyT fwd+bwd time / LayerNorm's, per engine, at the largest shape measured on that engine. */
export function dytVsLnAtLargest(results: Record<string, NormLayerBench>): { engine: string; shape: string; fwd: number; fwdBwd: number }[] {
  const out: { engine: string; shape: string; fwd: number; fwdBwd: number }[] = [];
  for (const [engine, r] of Object.entries(results)) {
    const dyt = r.rows.filter((x) => x.norm === "dyt").sort((a, b) => b.rows * b.channels - a.rows * a.channels)[0];
    const ln = dyt && r.rows.find((x) => x.norm === "layernorm" && x.rows === dyt.rows && x.channels === dyt.channels);
    if (dyt && ln) out.push({ engine, shape: shapeName(dyt), fwd: dyt.fwdMs / ln.fwdMs, fwdBwd: dyt.fwdBwdMs / ln.fwdBwdMs });
  }
  return out;
}

const NORM_DASH: Record<string, "solid" | "dot" | "dash"> = { layernorm: "solid", rmsnorm: "dot", dyt: "dash" };

/** fwd+bwd ms vs tensor size (elements), one trace per engine x norm, log-log. */
export function layerSpeedFigure(results: Record<string, NormLayerBench>, opts: { title?: string; cpu?: boolean } = {}): Figure {
  const series: ScatterSeries[] = [];
  const style: { color: string; dash: "solid" | "dot" | "dash" }[] = [];
  Object.entries(results).forEach(([engine, r], e) => {
    for (const norm of [...new Set(r.rows.map((x) => x.norm))]) {
      const rows: NormLayerRow[] = r.rows.filter((x) => x.norm === norm).sort((a, b) => a.rows * a.channels - b.rows * b.channels);
      series.push({
        name: `${engine} ${norm}`,
        x: rows.map((x) => x.rows * x.channels),
        y: rows.map((x) => (opts.cpu ? x.fwdBwdCpu : x.fwdBwdMs)),
        text: rows.map((x) => shapeName(x)),
        mode: "lines+markers",
      });
      // One colour per engine, one dash style per norm.
      style.push({ color: ENGINE_COLORS[e % ENGINE_COLORS.length]!, dash: NORM_DASH[norm] ?? "solid" });
    }
  });
  const fig = scatterFigure(series, {
    title: opts.title ?? "Norm layer forward+backward time vs tensor size",
    xLabel: "elements (rows x channels)",
    yLabel: opts.cpu ? "fwd+bwd CPU ms (median)" : "fwd+bwd ms (median wall)",
    logX: true,
    logY: true,
  });
  fig.data.forEach((t, i) => {
    t.line = { ...(t.line ?? {}), ...style[i]! };
    if (t.marker) t.marker = { ...t.marker, color: style[i]!.color };
  });
  return fig;
}

/**
 * A live measurement next to the committed one for the same engine, norm and
 * shape: fwd+bwd ms of each and live / committed (> 1: slower now, e.g. a
 * busy machine).
 */
export function layerLiveVsCommittedRows(live: NormLayerBench, committed: Record<string, NormLayerBench>): Row[] {
  const ref = committed[live.engine];
  return live.rows.map((x) => {
    const c = ref?.rows.find((y) => y.norm === x.norm && y.rows === x.rows && y.channels === x.channels);
    return {
      engine: live.engine,
      norm: x.norm,
      shape: shapeName(x),
      "live fwd ms": x.fwdMs,
      "live fwd+bwd ms": x.fwdBwdMs,
      "committed fwd+bwd ms": c ? c.fwdBwdMs : NaN,
      "live / committed": c ? x.fwdBwdMs / c.fwdBwdMs : NaN,
    };
  });
}
const ENGINE_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

// ---------------------------------------------------------------------------
// Training step vs PyTorch.

export interface TorchReference {
  /** As Debian ships it: OMP_WAIT_POLICY unset. */
  shippedMs: number;
  shippedCpu: number;
  /** The faster policy (default or PASSIVE), by median wall time. */
  bestMs: number;
  bestCpu: number;
  bestPolicy: string;
  torch: string;
}

/** PyTorch's shipped and best setting for one norm, from the per-policy step times. */
export function torchReference(t: TorchStep): TorchReference {
  const pol = Object.keys(t.byPolicy).filter((k) => (t.byPolicy[k] ?? []).length > 0);
  if (!pol.includes("default")) throw new Error("torchReference: no steps with OMP_WAIT_POLICY default (as shipped)");
  const med = (k: string) => medianOf(t.byPolicy[k]!);
  const cpu = (k: string) => medianOf(t.cpuByPolicy[k] ?? []);
  const best = pol.reduce((a, b) => (med(b) < med(a) ? b : a));
  return { shippedMs: med("default"), shippedCpu: cpu("default"), bestMs: med(best), bestCpu: cpu(best), bestPolicy: best, torch: t.torch };
}

/**
 * One row per engine x norm (and PyTorch's two settings): median ms/step and
 * CPU ms/step, and the ratio tfjs/PyTorch vs PyTorch as shipped and vs its
 * best setting, by wall and by CPU time (< 1 = faster than PyTorch).
 */
export function stepVsTorchRows(step: StepFile): Row[] {
  const out: Row[] = [];
  for (const r of step.results) {
    const t = step.torch[r.norm];
    const ref = t ? torchReference(t) : undefined;
    const ms = medianOf(r.stepsMs);
    const cpu = medianOf(r.cpuMs);
    out.push({
      engine: r.engine,
      norm: r.norm,
      "ms/step": ms,
      "cpu ms": cpu,
      "x shipped": ref ? ms / ref.shippedMs : NaN,
      "x shipped (cpu)": ref ? cpu / ref.shippedCpu : NaN,
      "x best": ref ? ms / ref.bestMs : NaN,
      "x best (cpu)": ref ? cpu / ref.bestCpu : NaN,
    });
  }
  for (const [norm, t] of Object.entries(step.torch)) {
    const ref = torchReference(t);
    out.push({ engine: `pytorch ${ref.torch} shipped`, norm, "ms/step": ref.shippedMs, "cpu ms": ref.shippedCpu, "x shipped": 1, "x shipped (cpu)": 1, "x best": ref.shippedMs / ref.bestMs, "x best (cpu)": ref.shippedCpu / ref.bestCpu });
    out.push({ engine: `pytorch ${ref.torch} OMP ${ref.bestPolicy}`, norm, "ms/step": ref.bestMs, "cpu ms": ref.bestCpu, "x shipped": ref.bestMs / ref.shippedMs, "x shipped (cpu)": ref.bestCpu / ref.shippedCpu, "x best": 1, "x best (cpu)": 1 });
  }
  return out;
}

/** The largest matmul of a step and all its matmuls together, as rates (from MatmulCall logs of lib/engine/native.ts). */
export interface MatmulRates {
  /** "batch x m x k x n" of the product with the most FLOPs per call. */
  largest: string;
  /** Its median rate over its calls, GFLOP/s. */
  largestGflops: number;
  /** Every logged product: total FLOPs / total time, GFLOP/s. */
  allGflops: number;
  /** Logged products per step. */
  callsPerStep: number;
}

/** Rates of the matmuls logged over `steps` steps (shapes with the same sizes pooled); undefined when none were logged. */
export function matmulRates(calls: readonly { batch: number; m: number; k: number; n: number; flops: number; ms: number }[], steps: number): MatmulRates | undefined {
  if (calls.length === 0) return undefined;
  const by = new Map<string, { flops: number; ms: number[] }>();
  for (const c of calls) {
    const key = `${c.batch}x${c.m}x${c.k}x${c.n}`;
    const g = by.get(key) ?? { flops: c.flops, ms: [] };
    g.ms.push(c.ms);
    by.set(key, g);
  }
  const [largest, g] = [...by.entries()].sort((a, b) => b[1].flops - a[1].flops || a[0].localeCompare(b[0]))[0]!;
  const totalFlops = calls.reduce((a, c) => a + c.flops, 0);
  const totalMs = calls.reduce((a, c) => a + c.ms, 0);
  return { largest, largestGflops: g.flops / medianOf(g.ms) / 1e6, allGflops: totalFlops / totalMs / 1e6, callsPerStep: calls.length / steps };
}

/** Each bench model's step file in a folder written by `npm run bench -- --model M --save DIR`, in report order. */
export const BENCH_MODEL_FILES: readonly { model: string; file: string }[] = [
  { model: "ViT", file: "step.json" },
  { model: "LM (Llama)", file: "lm-step.json" },
  { model: "ConvNeXt", file: "convnext-step.json" },
  { model: "DiT", file: "dit-step.json" },
  { model: "HyenaDNA", file: "hyena-step.json" },
  { model: "wav2vec 2.0", file: "wav2vec-step.json" },
];

/** The newest measurement of every bench model on one machine (results/efficiency/full/<this>/), which the README quotes. */
export const ALL_MODELS_BENCH_DIR = "zen5-2026-12-05e";
/** The same, with AVX2 kernels forced on every side (`npm run bench -- --isa avx2`): the ISA half of an AVX2-only CPU. */
export const AVX2_BENCH_DIR = "zen5-avx2-2026-12-05e";

/** stepVsTorchRows of every model file in `dir` (default the newest all-model folder), with a model column; a missing file throws, naming the command. */
export function allModelStepRows(dir = ALL_MODELS_BENCH_DIR): Row[] {
  // A bare folder name lies under results/efficiency/full/.
  const full = path.isAbsolute(dir) ? dir : path.join(efficiencyDir(), dir);
  return BENCH_MODEL_FILES.flatMap(({ model, file }) => stepVsTorchRows(loadStepBench(path.join(full, file))).map((r) => ({ model, ...r })));
}

export interface StepGoal {
  engine: string;
  /** Worst ratio over the norms. */
  vsShipped: number;
  vsShippedCpu: number;
  vsBest: number;
  vsBestCpu: number;
  /** Goal: <= 1.0 vs PyTorch as shipped (wall time). */
  goalMet: boolean;
  /** Stretch: <= 1.0 vs PyTorch's best setting (wall time). */
  stretchMet: boolean;
}

/** Per engine: the worst (largest) ratio over the norms, and whether goal and stretch are met (wall time). */
export function stepGoals(step: StepFile): StepGoal[] {
  const rows = stepVsTorchRows(step).filter((r) => !String(r.engine).startsWith("pytorch"));
  const engines = [...new Set(rows.map((r) => String(r.engine)))];
  return engines.map((engine) => {
    const mine = rows.filter((r) => r.engine === engine);
    const worst = (k: string) => Math.max(...mine.map((r) => Number(r[k])));
    const g = { engine, vsShipped: worst("x shipped"), vsShippedCpu: worst("x shipped (cpu)"), vsBest: worst("x best"), vsBestCpu: worst("x best (cpu)") };
    return { ...g, goalMet: g.vsShipped <= 1, stretchMet: g.vsBest <= 1 };
  });
}

/** The top kernels of an engine's profiled step, with their share of the kernel total. */
export function kernelRows(step: StepFile, engine: string, norm: string, top = 10): Row[] {
  const r = step.results.find((x) => x.engine === engine && x.norm === norm);
  if (!r?.profile) return [];
  const p = r.profile;
  const rows: Row[] = p.kernels.slice(0, top).map((k) => ({ kernel: k.name, ms: k.ms, "%": (100 * k.ms) / p.kernelMs, calls: k.calls }));
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    rows.push({ kernel: `(${rest.length} other kernels)`, ms, "%": (100 * ms) / p.kernelMs, calls: rest.reduce((a, k) => a + k.calls, 0) });
  }
  return rows;
}

/** PyTorch's profiled ops (torch.profiler self CPU time, one step), if the step file has them. */
export function torchOpRows(step: StepFile, top = 10): Row[] {
  for (const t of Object.values(step.torch)) if (t.profile) return t.profile.slice(0, top).map((o) => ({ op: o.op, ms: o.ms, calls: o.calls }));
  return [];
}
