/**
 * Norm layer speed: forward, and forward + backward, of one LayerNorm /
 * RMSNorm / DyT layer on x [rows, C], on the engine already initialised
 * (initEngine). Used by `npm run bench -- --layers` (one child process per
 * engine) and live by notebooks/12-efficiency.ipynb.
 */
import * as tf from "@tensorflow/tfjs";
import { engineInfo } from "../engine";
import { makeNorm } from "../norms/factory";
import type { NormKind } from "../norms/types";

/** The shapes [rows, C] of the committed measurement, 64x64 to 4096x1024. */
export const NORM_LAYER_SHAPES: [number, number][] = [
  [64, 64],
  [256, 256],
  [3200, 64],
  [1024, 1024],
  [4096, 1024],
];
export const NORM_LAYER_KINDS: NormKind[] = ["layernorm", "rmsnorm", "dyt"];

export interface NormLayerRow {
  norm: string;
  rows: number;
  channels: number;
  /** Median wall ms. */
  fwdMs: number;
  fwdBwdMs: number;
  /** Median process CPU ms, all threads (robust to other load). */
  fwdCpu: number;
  fwdBwdCpu: number;
}

export interface NormLayerBench {
  engine: string;
  detail: string;
  rows: NormLayerRow[];
}

export interface NormLayerBenchOptions {
  shapes?: [number, number][];
  /** Timed repetitions per measurement, after one untimed warm-up (default 7). */
  reps?: number;
  norms?: NormKind[];
}

export function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * Times each norm on each shape: forward (output read back), and forward +
 * backward (gradients for x and every parameter in one backward pass, all
 * read back). Returns median wall and CPU ms per measurement.
 */
export function benchNormLayers(opts: NormLayerBenchOptions = {}): NormLayerBench {
  const info = engineInfo();
  if (!info) throw new Error("benchNormLayers: call initEngine() first");
  const shapes = opts.shapes ?? NORM_LAYER_SHAPES;
  const reps = opts.reps ?? 7;
  const norms = opts.norms ?? NORM_LAYER_KINDS;
  if (!(reps >= 1)) throw new Error(`benchNormLayers: reps must be >= 1, got ${reps}`);
  const time = (f: () => void): [number, number] => {
    f();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      f();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    return [medianOf(wall), medianOf(cpu)];
  };
  const out: NormLayerRow[] = [];
  for (const [rows, ch] of shapes) {
    const x = tf.variable(tf.randomNormal([rows, ch], 0, 1, "float32", 7));
    const dy = tf.randomNormal([rows, ch], 0, 1, "float32", 8);
    for (const kind of norms) {
      const n = makeNorm(kind, ch);
      const vars = [x, ...n.params.map((p) => p.variable)];
      const fwd = () => {
        tf.tidy(() => {
          n.apply(x).dataSync();
        });
      };
      const fb = () => {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(n.apply(x), dy)) as tf.Scalar, vars);
          for (const g of Object.values(grads)) g.dataSync();
        });
      };
      const [fwdMs, fwdCpu] = time(fwd);
      const [fwdBwdMs, fwdBwdCpu] = time(fb);
      out.push({ norm: kind, rows, channels: ch, fwdMs, fwdBwdMs, fwdCpu, fwdBwdCpu });
      tf.dispose(n.params.map((p) => p.variable));
    }
    tf.dispose([x, dy]);
  }
  return { engine: info.name, detail: info.detail, rows: out };
}
