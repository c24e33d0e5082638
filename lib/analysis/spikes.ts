/**
 * Loss-spike detection (baselines.md rule, a project convention):
 *   b_t = median of the previous W losses (W = 50; only for t >= 10, with
 *         fewer than W steps available the window is what exists),
 *   d_t = 1.4826 * MAD of that window (a robust std),
 *   spike at t when L_t > 1.1 b_t AND L_t > b_t + 5 d_t.
 * Both conditions: the ratio alone fires on noisy small losses, the MAD one
 * alone fires on a perfectly flat curve with a tiny bump (d = 0).
 * Flagged steps less than W apart merge into one event.
 */
import { median } from "./stats";

export interface SpikeOptions {
  /** Baseline window W (default 50). */
  window?: number;
  /** First step that can be flagged (default 10). */
  minStep?: number;
  /** Ratio threshold (default 1.1). */
  ratio?: number;
  /** MAD multiple (default 5). */
  madK?: number;
  /** Recovered when L <= recover * b (default 1.05). */
  recover?: number;
}

export interface SpikeEvent {
  /** First and last flagged step of the event. */
  start: number;
  end: number;
  /** Step of the largest L_t/b_t in the event. */
  peakStep: number;
  peakLoss: number;
  /** b_t at the peak step. */
  baseline: number;
  /** L_t / b_t at the peak step. */
  peakRatio: number;
  /** Steps after the peak until L <= recover * baseline(peak); null if it never recovers. */
  recoverySteps: number | null;
}

export interface SpikeReport {
  events: SpikeEvent[];
  count: number;
  /** Every flagged step, before merging. */
  flagged: number[];
}

/**
 * Non-finite losses are left out of the windows; a NaN loss is never a spike
 * (divergence.ts reports it), +inf is.
 */
export function detectSpikes(losses: ArrayLike<number>, opts: SpikeOptions = {}): SpikeReport {
  const W = opts.window ?? 50;
  const minStep = opts.minStep ?? 10;
  const ratio = opts.ratio ?? 1.1;
  const madK = opts.madK ?? 5;
  const recover = opts.recover ?? 1.05;
  const n = losses.length;
  const flagged: number[] = [];
  const base: number[] = new Array(n).fill(NaN);
  for (let t = minStep; t < n; t++) {
    const win: number[] = [];
    for (let i = Math.max(0, t - W); i < t; i++) if (Number.isFinite(losses[i]!)) win.push(losses[i]!);
    if (win.length === 0) continue;
    const b = median(win);
    const d = 1.4826 * median(win.map((v) => Math.abs(v - b)));
    base[t] = b;
    const L = losses[t]!;
    if (L > ratio * b && L > b + madK * d) flagged.push(t);
  }
  const events: SpikeEvent[] = [];
  let cur: number[] = [];
  const close = (): void => {
    if (cur.length === 0) return;
    let peakStep = cur[0]!;
    for (const t of cur) if (losses[t]! / base[t]! > losses[peakStep]! / base[peakStep]!) peakStep = t;
    const b = base[peakStep]!;
    let recoverySteps: number | null = null;
    for (let u = peakStep + 1; u < n; u++) {
      if (losses[u]! <= recover * b) {
        recoverySteps = u - peakStep;
        break;
      }
    }
    events.push({
      start: cur[0]!,
      end: cur[cur.length - 1]!,
      peakStep,
      peakLoss: losses[peakStep]!,
      baseline: b,
      peakRatio: losses[peakStep]! / b,
      recoverySteps,
    });
    cur = [];
  };
  for (const t of flagged) {
    if (cur.length > 0 && t - cur[cur.length - 1]! >= W) close();
    cur.push(t);
  }
  close();
  return { events, count: events.length, flagged };
}
