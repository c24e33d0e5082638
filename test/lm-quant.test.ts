/**
 * lm-quant: the LM rules (R-outliers (LM), R-quant (LM)) on hand-built
 * records; the tracked Linears exist in the LLaMA under the names the
 * measurement matches; the fake-quant hooks change the LM's output and never
 * touch the embedding or head; the measurement leaks no tensors; the lrs are
 * lm-rmsnorm-dyt's committed picks; the experiment end to end at smoke.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  captureBatch,
  LM_QUANT_LRS,
  LM_QUANT_SCALES,
  lmOutlierVerdict,
  lmQuantArm,
  lmQuantEntry,
  lmQuantIncreaseFigure,
  lmOutlierTrackFigure,
  lmQuantJobs,
  lmQuantPoints,
  lmQuantVerdict,
  lmTensorFigure,
  measureLmOutliers,
  runLmQuant,
  trackSteps,
  type LmQuantPoint,
  type LmQuantWidthSummary,
} from "../lib/experiments/lm-quant";
import { captureLinearInputs, quantHooks, QUANT_SCHEMES, TRACKED } from "../lib/experiments/quantization/measure";
import { EXPERIMENTS } from "../lib/experiments/registry";
import { arm } from "../lib/experiments/protocol/arms";
import type { LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { Llama } from "../lib/models/llama";
import { useEngine, useTempResultsDirs } from "./helpers";

const UNIGRAM = 4.5;

/** A synthetic LM evaluation record with the hook's final measurement in its last log line. */
function rec(armId: string, seed: number, o: { dim?: number; bpb?: number; increase?: number; outliers?: number; status?: "completed" | "diverged" } = {}): LmProtocolRecord {
  const bpb = o.bpb ?? 2.6;
  const point: LmQuantPoint = {
    step: 10,
    outliersAbs: { count: o.outliers ?? 0, features: [] },
    outliersRel: { count: 0, features: [] },
    tensors: [{ layer: 0, tensor: "attn.qkv", maxAbs: 5, rms: 1, maxOverRms: 5, kurtosis: 3 }],
    quantBpb: Object.fromEntries(QUANT_SCHEMES.map((s) => [s, bpb + (o.increase ?? 0.01)])),
  };
  return {
    experiment: "lm-quant",
    scale: "smoke",
    run: `w${o.dim ?? 64}-${armId}-s${seed}`,
    seed,
    epoch: 2,
    role: "eval",
    arm: armId,
    label: arm(armId).label,
    axes: { lr: 1e-2 },
    config: { task: "lm-text", model: { dim: o.dim ?? 64, depth: 2 }, data: { seqLen: 128, testLimit: 16 }, train: { steps: 10, batchSize: 32, lr: 1e-2 } },
    result: {
      status: o.status ?? "completed",
      log: [{ step: 9, loss: 1, lr: 1e-2, gradNorm: 1, lmQuant: point }],
      evals: [{ step: 10, loss: 1, acc: 0.4, bpb }],
      test: { loss: 1, acc: 0.4, bpb },
      baselines: { val: { unigramBpb: UNIGRAM, uniformBpb: 8 }, test: { unigramBpb: UNIGRAM, uniformBpb: 8 } },
      msPerStep: 1,
      trainWallTimeSec: 1,
      params: 1234,
    },
  } as unknown as LmProtocolRecord;
}

/** Summaries per width from records (RMSNorm first, as the experiment orders them). */
function widths(records: LmProtocolRecord[]): LmQuantWidthSummary[] {
  const dims = [...new Set(records.map((r) => r.config.model.dim))].sort((a, b) => a - b);
  return dims.map((d) => ({ width: d, arms: [lmQuantArm(records, "rmsnorm", d), lmQuantArm(records, "dyt-lm", d)] }));
}
const seeds3 = (armId: string, f: (s: number) => Parameters<typeof rec>[2]) => [1, 2, 3].map((s) => rec(armId, s, f(s)));

describe("lm-quant rules", () => {
  it("R-quant (LM): equal bpb increases are supported; DyT losing 0.05 bpb more is not; a did-not-learn run is not testable", () => {
    const rms = seeds3("rmsnorm", (s) => ({ increase: 0.01 + 0.002 * s }));
    const same = widths([...rms, ...seeds3("dyt-lm", (s) => ({ increase: 0.011 + 0.002 * s }))]);
    const v = lmQuantVerdict(same);
    assert.equal(v.verdict, "supported");
    assert.equal(v.evidence!.units, "bpb");
    assert.equal(v.evidence!.margin, 0.02);
    assert.match(v.statement, /DyT's test-bpb increase − RMSNorm's/);
    const worse = widths([...rms, ...seeds3("dyt-lm", (s) => ({ increase: 0.06 + 0.002 * s }))]);
    assert.equal(lmQuantVerdict(worse).verdict, "not supported");
    // A run whose test bpb is not 0.25 below the unigram rate did not learn: not testable, whatever the increases.
    const stuck = widths([...rms, ...seeds3("dyt-lm", (s) => ({ bpb: s === 2 ? UNIGRAM - 0.1 : 2.6 }))]);
    const st = lmQuantVerdict(stuck);
    assert.equal(st.verdict, "not testable");
    assert.match(st.reason, /DyT \(LLaMA recipe\) did not learn on 1 of 3 runs/);
    const one = widths([rec("rmsnorm", 1), rec("dyt-lm", 1)]);
    assert.equal(lmQuantVerdict(one).verdict, "not testable", "one paired unit");
  });

  it("R-quant (LM) pairs over (width, seed) units across widths", () => {
    const rs = [...seeds3("rmsnorm", () => ({})), ...seeds3("dyt-lm", () => ({ increase: 0.012 })), rec("rmsnorm", 1, { dim: 128 }), rec("dyt-lm", 1, { dim: 128, increase: 0.013 })];
    const v = lmQuantVerdict(widths(rs));
    assert.equal(v.evidence!.test.n, 4);
  });

  it("R-outliers (LM) is not testable without outlier features at any width, naming the widths and the largest model", () => {
    const rs = [...seeds3("rmsnorm", () => ({})), ...seeds3("dyt-lm", () => ({})), rec("rmsnorm", 1, { dim: 128 }), rec("dyt-lm", 1, { dim: 128 })];
    const v = lmOutlierVerdict(widths(rs), "LLaMA-style LM width 128, depth 2");
    assert.equal(v.verdict, "not testable");
    assert.match(v.reason, /no outlier features at widths 64\/128/);
    assert.match(v.reason, /largest tried: LLaMA-style LM width 128, depth 2/);
    assert.equal(v.evidence, undefined);
  });

  it("R-outliers (LM) follows the paired counts once outlier features exist (in one arm, at one width, is enough)", () => {
    const rms = seeds3("rmsnorm", (s) => ({ outliers: [3, 4, 3][s - 1] }));
    assert.equal(lmOutlierVerdict(widths([...rms, ...seeds3("dyt-lm", (s) => ({ outliers: [0, 0, 1][s - 1] }))]), "m").verdict, "supported");
    assert.equal(lmOutlierVerdict(widths([...rms, ...seeds3("dyt-lm", (s) => ({ outliers: [3, 4, 4][s - 1] }))]), "m").verdict, "not supported");
    const onlyWide = [...seeds3("rmsnorm", () => ({})), ...seeds3("dyt-lm", () => ({})), rec("rmsnorm", 1, { dim: 128, outliers: 2 }), rec("dyt-lm", 1, { dim: 128 })];
    assert.notEqual(lmOutlierVerdict(widths(onlyWide), "m").verdict, "not testable");
  });

  it("the lrs are lm-rmsnorm-dyt's committed tuned picks at full (a re-tuned lm-rmsnorm-dyt must fail this)", () => {
    const file = path.resolve(__dirname, "../../results/lm-rmsnorm-dyt/full/summary.json");
    if (!fs.existsSync(file)) return; // a fresh lab: nothing committed to compare with
    const picks = (JSON.parse(fs.readFileSync(file, "utf8")) as { picks: { arm: string; bestLr: number }[] }).picks;
    for (const a of LM_QUANT_SCALES.full.arms) assert.equal(LM_QUANT_LRS[a], picks.find((p) => p.arm === a)!.bestLr, a);
  });

  it("tracks ~5 evenly spaced logged steps, the last at the final step", () => {
    assert.deepEqual(trackSteps(996, 3, 5), [198, 396, 597, 795, 995]);
    for (const s of trackSteps(996, 3, 5).slice(0, -1)) assert.equal(s % 3, 0, "a logged step");
    assert.deepEqual(trackSteps(16, 1, 3), [4, 10, 15]);
  });

  it("full: lm-rmsnorm-dyt's model and budget; widths 64 (3 seeds) and 128; every job at its arm's fixed lr with the hook", () => {
    const jobs = lmQuantJobs(LM_QUANT_SCALES.full, "full");
    const w64 = jobs.filter((j) => j.resolved.model.dim === 64);
    assert.equal(w64.length, 6);
    assert.ok(jobs.some((j) => j.resolved.model.dim === 128 && j.resolved.model.depth === 2));
    for (const j of jobs) {
      assert.equal(j.resolved.train.steps, 996);
      assert.equal(j.resolved.train.batchSize, 32);
      assert.equal(j.resolved.train.lr, LM_QUANT_LRS[j.resolved.arm]);
      assert.match(j.resolved.hooks![0]!, /^lm-quant:/);
    }
  });
});

describe("lm-quant measurement on a LLaMA", () => {
  before(() => useEngine("cpu"));
  const cfg = { dim: 16, depth: 2, heads: 2, maxSeqLen: 16, seed: 5 } as const;

  it("the tracked Linears exist in the LLaMA under the names the measurement matches (q/k/v, Wo, SwiGLU gate/up; not the down projection)", () => {
    const m = new Llama({ ...cfg, norm: "dyt" });
    const seen = new Set<string>();
    const x = tf.tensor2d(Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 7) % 257), [2, 8], "int32");
    tf.dispose(m.forward(x, { linearInput: (name) => void seen.add(name) }));
    for (let b = 0; b < cfg.depth; b++) for (const t of TRACKED) assert.ok(seen.has(`blocks.${b}.${t}`), `blocks.${b}.${t} is a Linear of the LLaMA`);
    assert.ok(seen.has("blocks.0.mlp.fc2"), "the down projection exists and is left out");
    const layers = captureLinearInputs(m, x);
    // SwiGLU's fc1 (gate + up, fused) takes the normed stream: width dim, as q/k/v's input and Wo's.
    assert.deepEqual(layers.map((l) => l.map((t) => t.features)), [[16, 16, 16], [16, 16, 16]]);
    assert.equal(layers[0]![0]!.positions, 2 * 8);
    tf.dispose(x);
    m.dispose();
  });

  it("every scheme changes the LM's logits a little; the embedding and the head are never quantised", () => {
    const m = new Llama({ ...cfg, norm: "rmsnorm" });
    const x = tf.tensor2d(Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 13) % 257), [2, 8], "int32");
    const y0 = m.forward(x);
    const ref = Array.from(y0.dataSync());
    y0.dispose();
    const scaleRef = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    for (const s of QUANT_SCHEMES) {
      const hooks = quantHooks(s);
      const changed = new Set<string>();
      const wrap = (f: typeof hooks.linearInput) => (name: string, t: tf.Tensor) => {
        const out = f!(name, t);
        if (out && out !== t) changed.add(name);
        return out;
      };
      const y = tf.tidy(() => m.forward(x, { linearInput: wrap(hooks.linearInput), linearWeight: wrap(hooks.linearWeight) }));
      const d = Array.from(y.dataSync()).reduce((a, v, i) => Math.max(a, Math.abs(v - ref[i]!)), 0);
      assert.ok(d > 0 && d < 0.5 * scaleRef, `${s}: max logit change ${d} (max |logit| ${scaleRef})`);
      assert.ok(!changed.has("head"), `${s}: the head is not quantised`);
      assert.ok([...changed].every((n) => n.startsWith("blocks.")), `${s}: only block Linears: ${[...changed].join(", ")}`);
      for (let b = 0; b < cfg.depth; b++) for (const t of [...TRACKED, "mlp.fc2"]) assert.ok(changed.has(`blocks.${b}.${t}`), `${s}: blocks.${b}.${t} is quantised`);
      y.dispose();
    }
    // The embedding is a lookup, not a Linear: no hook ever sees it, so it stays fp32.
    const names = new Set<string>();
    tf.dispose(m.forward(x, { linearWeight: (n) => void names.add(n) }));
    assert.ok(![...names].some((n) => /embed/.test(n)));
    tf.dispose(x);
    m.dispose();
  });

  it("the measurement leaks no tensors", () => {
    const m = new Llama({ ...cfg, norm: "dyt" });
    const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 31) % 256);
    const run = () => {
      const x = captureBatch(tokens, 8, 4);
      const o = measureLmOutliers(m, x);
      x.dispose();
      return o;
    };
    run(); // warm-up: kernels and constants the engine keeps
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const o = run();
      assert.equal(o.tensors.length, 3 * cfg.depth);
    }
    assert.equal(tf.memory().numTensors, before);
    m.dispose();
  });
});

describe("lm-quant experiment", () => {
  useTempResultsDirs("dyt-lm-quant-");

  it("smoke end to end: runs with the measurement in their records, the summary, the two claims rows and the figures; registered after lm-alpha0", async () => {
    await useEngine("native");
    const { records, summary } = await runLmQuant({ scale: "smoke", verbose: false });
    const s = LM_QUANT_SCALES.smoke;
    assert.equal(records.length, 2 * s.widths.reduce((n, w) => n + w.seeds.length, 0));
    for (const r of records) {
      assert.equal(r.config.train.lr, LM_QUANT_LRS[r.arm]);
      const pts = lmQuantPoints(r);
      assert.equal(pts.length, s.trackPoints, `${r.run}: outliers tracked over training`);
      assert.equal(pts.at(-1)!.step, r.config.train.steps);
      assert.equal(Object.keys(pts.at(-1)!.quantBpb!).length, QUANT_SCHEMES.length);
      assert.equal(pts.at(-1)!.tensors.length, 3 * r.config.model.depth);
    }
    assert.deepEqual(summary.byWidth.map((w) => w.width), s.widths.map((w) => w.model.dim));
    const rows = lmQuantEntry.claims(summary);
    assert.deepEqual(rows.map((r) => r.id), ["R-outliers (LM)", "R-quant (LM)"]);
    for (const r of rows) assert.ok(["supported", "not supported", "inconclusive", "not testable"].includes(r.verdict), r.verdict);
    for (const f of [lmQuantIncreaseFigure(summary), lmOutlierTrackFigure(records, summary), lmTensorFigure(records, "kurtosis", "smoke")]) assert.ok(f.data.length > 0);
    // Rebuilt from the saved records alone.
    const again = await runLmQuant({ scale: "smoke", verbose: false, cachedOnly: true });
    assert.deepEqual(again.summary, summary);
    const names = EXPERIMENTS.map((e) => e.name);
    assert.equal(names.indexOf("lm-quant"), names.indexOf("lm-alpha0") + 1);
  });
});
