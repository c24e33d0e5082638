/**
 * The HyenaDNA training step of `npm run bench -- --model hyena`
 * (lib/bench/hyena-step.ts): the model dna-hyena pretrains at full scale
 * (the same resolver, so a changed spec fails here), the lab's model has the
 * hand count of its parts, bench/torch_bench.py builds a model with the same
 * count (when Debian's python3-torch is importable), the arguments carry the
 * resolved sizes and norm, and a step runs without leaking tensors.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { HYENA_BENCH_ARMS, HYENA_BENCH_CONFIG, HYENA_STEP_MODEL, hyenaBenchModelConfig, hyenaBenchParamCount, hyenaBenchStep, hyenaBenchTokens, hyenaForwardMatmulFlops, type HyenaBenchConfig } from "../lib/bench/hyena-step";
import { assertBenchNorm, checkBenchParams, torchImportable, torchParamCount } from "../lib/bench/step-model";
import { resolveArm } from "../lib/experiments/protocol/arms";
import { resolveDnaRun } from "../lib/experiments/protocol/dna-task";
import { DNA_HYENA_SCALES } from "../lib/experiments/dna-hyena/spec";
import { ADAMW_DEFAULTS } from "../lib/train/adamw";
import { nativeLoadError } from "../lib/engine/native";
import type { EngineName } from "../lib/engine";
import { assertBenchParamCounts, runBenchSteps, useEngine } from "./helpers";

/** The full config with a small batch and short windows: the same model, a step cheap enough for the cpu engine. */
const SMALL: HyenaBenchConfig = { ...HYENA_BENCH_CONFIG, batch: 2, seqLen: 32 };

describe("HyenaDNA bench step", () => {
  it("is dna-hyena's full-scale model: the same resolved config per arm, batch, window and weight decay", () => {
    const full = DNA_HYENA_SCALES.full;
    assert.equal(HYENA_BENCH_CONFIG.batch, full.base.train.batchSize);
    assert.equal(HYENA_BENCH_CONFIG.seqLen, full.base.data.seqLen);
    assert.equal(HYENA_BENCH_CONFIG.weightDecay, full.base.train.weightDecay);
    assert.deepEqual(Object.values(HYENA_BENCH_ARMS).sort(), [...full.arms].sort(), "the bench's norms are the study's arms");
    for (const [norm, armId] of Object.entries(HYENA_BENCH_ARMS)) {
      const exp = resolveDnaRun(full.base, resolveArm(armId!), 0);
      assert.deepEqual(hyenaBenchModelConfig(norm as "layernorm" | "dyt"), exp.model, `${norm}: model config`);
      assert.equal(exp.train.batchSize, HYENA_BENCH_CONFIG.batch);
      assert.deepEqual([exp.train.beta1, exp.train.beta2, exp.train.eps], [ADAMW_DEFAULTS.beta1, ADAMW_DEFAULTS.beta2, ADAMW_DEFAULTS.eps], `${norm}: the bench's AdamW is the experiment's`);
    }
    const m = hyenaBenchModelConfig("dyt");
    assert.deepEqual([m.dim, m.depth, m.maxSeqLen, m.filterOrder, m.shortFilter, m.vocabSize, m.head, m.bidirectional], [64, 2, 256, 64, 3, 5, "lm", false]);
    assert.equal(m.normOptions.alpha0, 0.5);
  });

  it("parameter counts: the hand count, and the lab's HyenaDNA has exactly that for both norms", async () => {
    await useEngine("cpu");
    // Per Hyena operator: in_proj 12288+192, short conv 576+192, filter MLP 384+4160+4096, Sin 128, D 64, out_proj 4160 = 26240.
    // Per block: 2 LNs 256 + 26240 + MLP 16640+16448 = 59584. Embedding 320, final LN 128, head 320.
    assert.equal(hyenaBenchParamCount("layernorm"), 320 + 2 * 59584 + 128 + 320);
    assert.equal(hyenaBenchParamCount("layernorm"), 119936);
    assert.equal(hyenaBenchParamCount("dyt"), 119941, "+ one alpha per norm (2 per block, the final one)");
    // Window length and batch do not change the count.
    assertBenchParamCounts(HYENA_STEP_MODEL, (n) => hyenaBenchStep(n, SMALL), (n) => hyenaBenchParamCount(n, SMALL));
  });

  it("matmul FLOPs: per-token projections, short conv and MLP, the filter MLP per position, the head", () => {
    const c: HyenaBenchConfig = { ...HYENA_BENCH_CONFIG, batch: 1, seqLen: 4, depth: 1 };
    const perToken = 2 * (64 * 192 + 64 * 64 + 2 * 64 * 256 + 3 * 192);
    const filter = 2 * 4 * (5 * 64 + 64 * 64 + 64 * 64);
    assert.equal(hyenaForwardMatmulFlops(c), 4 * perToken + filter + 2 * 4 * 64 * 5);
  });

  it("the fixed batch: next-code targets within A C G T, identical on every call", () => {
    const a = hyenaBenchTokens(SMALL);
    const b = hyenaBenchTokens(SMALL);
    assert.deepEqual(a, b);
    assert.equal(a.x.length, SMALL.batch * SMALL.seqLen);
    assert.deepEqual(Array.from(a.y.subarray(0, SMALL.seqLen - 1)), Array.from(a.x.subarray(1, SMALL.seqLen)), "y is x shifted by one");
    assert.ok(a.x.every((v) => v >= 0 && v < 4));
    assert.equal(new Set(a.x).size, 4, "all four bases occur");
  });

  it("torch arguments carry the resolved sizes and the norm; a norm without a recipe names the fix", () => {
    const d = HYENA_STEP_MODEL.torchArgs("dyt").join(" ");
    assert.match(d, /--model hyena --batch 16 --seq-len 256 --vocab 5 --dim 64 --depth 2 --mlp-ratio 4 --max-seq-len 256 --filter-order 64 --filter-emb-dim 5/);
    assert.match(d, /--short-filter 3 --decay 0\.3,1\.5,0\.01/);
    assert.match(d, /--alpha0 0\.5/);
    assert.match(HYENA_STEP_MODEL.torchArgs("layernorm").join(" "), /--eps /);
    assert.throws(() => assertBenchNorm(HYENA_STEP_MODEL, "rmsnorm"), /--model hyena: norm "rmsnorm" is not one of HyenaDNA's norms \(layernorm, dyt\); pass --norms layernorm,dyt/);
    assert.throws(() => checkBenchParams(HYENA_STEP_MODEL, "layernorm", 119937, "test"), /PyTorch's model has 119937 parameters, the lab's HyenaDNA 119936 .*hyenaBenchParamCount/);
  });

  const skip = torchImportable() ? false : "python3-torch is not importable by /usr/bin/python3 (the bench installs it with apt; run apt-get install python3-torch to check here)";
  it("PyTorch's HyenaDNA (bench/torch_bench.py --params-only) has the lab's count for both norms", { skip }, () => {
    for (const norm of HYENA_STEP_MODEL.norms) {
      const pt = torchParamCount(["--norm", norm, ...HYENA_STEP_MODEL.torchArgs(norm)]);
      assert.equal(pt, HYENA_STEP_MODEL.paramCount(norm), `${norm}: PyTorch ${JSON.stringify(pt)} vs lab`);
    }
  });
});

const nativeReason = nativeLoadError();
const engines: EngineName[] = ["cpu", ...(nativeReason ? [] : (["native"] as const))];

describe("the HyenaDNA bench step runs without leaking tensors", () => {
  for (const engine of engines)
    it(`on ${engine}: two steps per norm, finite loss of the order of ln 5 at init, a gradient per parameter, tf.memory().numTensors flat`, async () => {
      await useEngine(engine);
      for (const norm of HYENA_STEP_MODEL.norms) {
        const s = hyenaBenchStep(norm, SMALL);
        try {
          const { losses, counts } = runBenchSteps(s, norm);
          // The init std (0.16 at width 64) gives logits of order 1: a loss above ln 5 = 1.61 at init, below 2 ln 5.
          assert.ok(losses.every((l) => Number.isFinite(l) && l > 0 && l < 2 * Math.log(5)), `${norm}: losses ${losses}`);
          assert.equal(counts[1], counts[0], `${norm} on ${engine}: tensors after step 1 and 2: ${counts.join(", ")}`);
        } finally {
          s.dispose();
        }
      }
    });
  if (nativeReason) it("native engine", { skip: `native engine unavailable: ${nativeReason}` }, () => {});
});
