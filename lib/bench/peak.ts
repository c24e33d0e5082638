/**
 * The machine's float32 peak, the denominator of the bench's %peak: a nominal
 * estimate from /proc/cpuinfo (cores x lanes x FMA units x 2 x GHz) and, when
 * the native addon loads, a measured one (its fmaPeak(): independent FMA
 * chains on every hardware thread, then the clock under that load). %peak
 * uses the measured peak when there is one: "cpu MHz" is the nominal clock (a
 * VM reports no boost) and the FMA pipes per core are a guess by vendor and
 * family, so the estimate can be off by 2-3x either way.
 */
import * as fs from "fs";
import * as os from "os";
import { loadAddon, nativeLoadError, type MeasuredPeak } from "../engine/native";

/** The ISA the bench runs at: the CPU's own, or AVX2 forced (scripts/bench.ts --isa avx2). */
export const BENCH_ISAS = ["native", "avx2"] as const;
export type BenchIsa = (typeof BENCH_ISAS)[number];

/**
 * The `peak` object of the bench's result files. The first seven fields are
 * the nominal estimate, the only fields of files written before the measured
 * peak; read the denominator with peakGflops(), which falls back to them.
 */
export interface CpuPeak {
  model: string;
  cores: number;
  /** Nominal clock ("cpu MHz"). */
  ghz: number;
  lanes: number;
  fmaUnits: number;
  /** The nominal estimate: cores x lanes x fmaUnits x 2 x ghz. */
  gflops: number;
  note: string;
  /** The ISA the estimate's lanes and the measurement assume (absent in older files: the CPU's widest). */
  isa?: BenchIsa;
  measured?: MeasuredPeak;
  /** Why there is no measurement (the addon did not load). */
  measureError?: string;
  /** Which peak %peak divides by, and its GFLOP/s. */
  basis?: "measured" | "estimate";
  peakGflops?: number;
}

/** The GFLOP/s %peak divides by (older files: the nominal estimate). */
export function peakGflops(p: CpuPeak): number {
  return p.peakGflops ?? p.gflops;
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return ""; // not Linux
  }
}

const cpuField = (text: string, k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";

/** The first CPU's feature flags ("avx2", "fma", "avx512f", ...); empty off Linux. */
export function cpuFlags(text = readCpuinfo()): Set<string> {
  return new Set(cpuField(text, "flags").split(/\s+/).filter(Boolean));
}

/**
 * Nominal peak float32 GFLOP/s = cores x SIMD lanes x FMA units x 2 x GHz.
 * Lanes from the widest vector flag (8 under --isa avx2); FMA units per core
 * by vendor/family as best known: AMD Zen 5 (family 0x1A) has two 512-bit FMA
 * pipes on server and desktop parts (mobile ones split 512-bit ops, which this
 * cannot tell from a VM's "AMD EPYC"); Zen 4 (0x19 with AVX-512) executes
 * 512-bit ops on two 256-bit pipes (8 lanes x 2); Zen 2/3 two 256-bit pipes;
 * Intel AVX-512 server cores assumed to have two 512-bit FMA units (some SKUs
 * have one); AVX2 cores two. Clock: "cpu MHz" as reported (turbo ignored).
 */
export function estimatePeak(isa: BenchIsa = "native", text = readCpuinfo()): CpuPeak {
  const flags = cpuFlags(text);
  const vendor = cpuField(text, "vendor_id");
  const family = Number(cpuField(text, "cpu family")) || 0;
  const cores =
    new Set(
      text
        .split(/\n\n/)
        .filter((b) => b.includes("processor"))
        .map((b) => `${/physical id\s*:\s*(\d+)/.exec(b)?.[1] ?? 0}:${/core id\s*:\s*(\d+)/.exec(b)?.[1] ?? b}`),
    ).size || os.cpus().length;
  const ghz = (Number(cpuField(text, "cpu MHz")) || os.cpus()[0]?.speed || 0) / 1000;
  const avx512 = flags.has("avx512f") && isa === "native";
  let lanes = avx512 ? 16 : flags.has("avx") ? 8 : 4;
  let fmaUnits = flags.has("fma") ? 2 : 1;
  let note = "";
  if (vendor === "AuthenticAMD" && avx512 && family >= 0x1a) note = "AMD Zen 5: AVX-512 on 2x512-bit FMA pipes";
  else if (vendor === "AuthenticAMD" && avx512) {
    lanes = 8; // 512-bit ops run as two halves on 256-bit pipes (Zen 4)
    note = "AMD AVX-512 on 2x256-bit FMA pipes (Zen 4)";
  } else if (vendor === "AuthenticAMD" && family >= 0x17) note = "AMD Zen: 2x256-bit FMA pipes";
  else if (avx512) note = "Intel AVX-512: assumed 2 FMA units (1 on some SKUs)";
  else if (!flags.has("fma")) {
    fmaUnits = 1;
    note = "no FMA: one mul + one add per cycle";
  }
  if (isa === "avx2") note = `AVX2 forced: 256-bit FMA${note ? "; " + note : ""}`;
  const gflops = cores * lanes * fmaUnits * 2 * ghz;
  return { model: cpuField(text, "model name") || os.cpus()[0]?.model || "?", cores, ghz, lanes, fmaUnits, gflops, note, isa };
}

/** The addon's measured peak (whichever addon loadAddon() loads: DYT_NATIVE_ADDON picks a capped build), or why not. */
export function measurePeak(ms = 200): { measured: MeasuredPeak } | { error: string } {
  const lib = loadAddon();
  if (!lib) return { error: nativeLoadError() ?? "native addon unavailable" };
  const m = lib.fmaPeak(ms);
  if (!(Number.isFinite(m.gflops) && m.gflops > 0 && Number.isFinite(m.checksum))) return { error: `fmaPeak gave ${m.gflops} GFLOP/s (checksum ${m.checksum})` };
  return { measured: m };
}

/** The estimate plus the measurement when the addon loads; basis and peakGflops say which %peak uses. */
export function machinePeak(isa: BenchIsa = "native", ms = 200): CpuPeak {
  const p = estimatePeak(isa);
  const m = measurePeak(ms);
  if ("measured" in m) return { ...p, measured: m.measured, basis: "measured", peakGflops: m.measured.gflops };
  return { ...p, measureError: m.error, basis: "estimate", peakGflops: p.gflops };
}

/** The bench's peak lines: what %peak uses first, then the other figure. */
export function peakLines(p: CpuPeak): string[] {
  const f = (x: number, d = 0) => x.toFixed(d);
  const formula = `${p.lanes} lanes x ${p.fmaUnits} FMA x 2 x ${p.cores} cores x ${f(p.ghz, 2)} GHz nominal${p.note ? "; " + p.note : ""}`;
  const m = p.measured;
  if (!m) return [`[bench] peak fp32 for %peak: ~${f(p.gflops)} GFLOP/s, the nominal estimate (${formula}); not measured: ${p.measureError ?? "no measurement"}`];
  const clock = m.ghz !== null ? `clock ${f(m.ghz, 2)} GHz under load` : `clock not measured (add chain ${m.ghzAdd?.toFixed(2) ?? "-"}, imul chain ${m.ghzImul?.toFixed(2) ?? "-"} GHz disagree)`;
  // Both threads' CPU time is what counts; wall time falls when other processes take the cores.
  const shared = m.gflopsWall < 0.9 * m.gflops ? `; ${f(m.gflopsWall)} by wall time: the cores were shared` : "";
  const atClock = m.ghz !== null && p.ghz > 0 ? `; the same formula at the measured clock: ~${f((p.gflops / p.ghz) * m.ghz)}` : "";
  return [
    `[bench] peak fp32 for %peak: ${f(m.gflops)} GFLOP/s measured (${m.isa} FMA loop, ${m.threads} threads x ${f(m.ms)} ms; ${clock}${shared})`,
    `[bench] nominal estimate: ~${f(p.gflops)} GFLOP/s (${formula})${atClock}`,
  ];
}
