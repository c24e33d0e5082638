import * as assert from "node:assert/strict";
import { after, before } from "node:test";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine, type EngineName } from "../lib/engine";
import type { BenchStep, BenchStepModel } from "../lib/bench/step-model";
import type { NormKind } from "../lib/norms/types";

export async function useEngine(name: EngineName = "cpu"): Promise<void> {
  await initEngine({ engine: name, quiet: true });
}

/** Assert |a-b| <= atol + rtol*|b| elementwise, naming the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)))
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * Compare tf.grads of a scalar function against central finite differences
 * for every element of every input (keep inputs small).
 */
export function gradCheck(f: (xs: tf.Tensor[]) => tf.Scalar, inputs: { data: number[]; shape: number[] }[], h = 1e-2, tol = 2e-3): void {
  const ts = inputs.map((i) => tf.tensor(i.data, i.shape));
  const analytic = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => f(xs))(ts)).map((g) => {
    const d = Array.from(g.dataSync());
    g.dispose();
    return d;
  });
  inputs.forEach((inp, k) => {
    for (let j = 0; j < inp.data.length; j++) {
      const val = (delta: number) =>
        tf.tidy(() => {
          const xs = ts.map((t, m) => {
            if (m !== k) return t;
            const d = inp.data.slice();
            d[j]! += delta;
            return tf.tensor(d, inp.shape);
          });
          return f(xs).dataSync()[0]!;
        });
      const num = (val(h) - val(-h)) / (2 * h);
      const an = analytic[k]![j]!;
      if (!(Math.abs(an - num) <= tol * Math.max(1, Math.abs(num))))
        assert.fail(`gradient of input ${k} element ${j}: analytic ${an}, finite difference ${num}`);
    }
  });
  tf.dispose(ts);
}

/**
 * Call inside a describe(): its tests write results and runs to a fresh temp
 * directory (DYT_RESULTS_DIR / DYT_RUNS_DIR), restored and removed after.
 */
export function useTempResultsDirs(prefix: string): void {
  let tmp = "";
  const saved = { r: process.env.DYT_RESULTS_DIR, y: process.env.DYT_RUNS_DIR };
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    process.env.DYT_RESULTS_DIR = path.join(tmp, "results");
    process.env.DYT_RUNS_DIR = path.join(tmp, "runs");
  });
  after(() => {
    if (saved.r === undefined) delete process.env.DYT_RESULTS_DIR;
    else process.env.DYT_RESULTS_DIR = saved.r;
    if (saved.y === undefined) delete process.env.DYT_RUNS_DIR;
    else process.env.DYT_RUNS_DIR = saved.y;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
}

/** Deterministic pseudo-random values in [-1, 1) (an LCG), times `scale` plus `shift`: test data that is the same on every engine and run. */
export function lcgValues(n: number, seed: number, scale = 1, shift = 0): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * scale + shift;
  });
}

/**
 * `steps` training steps of a bench step (lib/bench/step-model.ts): every
 * variable gets a gradient of its own shape; returns the losses and the live
 * tensor count after each step (flat when nothing leaks).
 */
export function runBenchSteps(s: BenchStep, label: string, steps = 2): { losses: number[]; counts: number[] } {
  const counts: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => s.loss(), s.vars);
      for (const v of s.vars) assert.deepEqual(grads[v.name]?.shape, v.shape, `${label}: gradient of ${v.name}`);
      s.optimizer.apply(
        s.vars.map((v) => grads[v.name]),
        1e-3,
      );
      losses.push(value.dataSync()[0]!);
    });
    counts.push(tf.memory().numTensors);
  }
  return { losses, counts };
}

/** For each of the descriptor's norms, the lab model `make` builds has the hand count `hand(norm)` and the step reports the descriptor's count. */
export function assertBenchParamCounts(sm: BenchStepModel, make: (norm: NormKind) => BenchStep & { model: { parameterCount(): number } }, hand: (norm: NormKind) => number): void {
  for (const norm of sm.norms) {
    const s = make(norm);
    try {
      assert.equal(s.model.parameterCount(), hand(norm), `${norm}: lab ${sm.label} vs bench count`);
      assert.equal(s.params, sm.paramCount(norm));
    } finally {
      s.dispose();
    }
  }
}
