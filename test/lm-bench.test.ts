/**
 * The LM training step of `npm run bench -- --model llama` (lib/bench/lm-step.ts):
 * the model is the LM experiments' Llama, its parameter count is the one
 * bench/torch_bench.py's LlamaLM has (checked at bench time against PyTorch;
 * here against the hand count, without torch), and a step maps [B, T] tokens
 * to [B, T, vocab] logits with a gradient for every parameter.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  LM_BENCH_CONFIG,
  LM_BENCH_NORMS,
  assertLmBenchNorm,
  lmBenchLlamaConfig,
  lmBenchParamCount,
  lmBenchStep,
  lmBenchTokens,
  lmForwardMatmulFlops,
  lmTokensPerStep,
  type LmBenchConfig,
} from "../lib/bench/lm-step";
import { BYTE_VOCAB_SIZE } from "../lib/data/text";
import { LM_RMSNORM_DYT_SCALES } from "../lib/experiments/lm-rmsnorm-dyt/spec";
import { paperLlamaAlpha0 } from "../lib/models/llama";
import { useEngine } from "./helpers";

/** The full config with a small batch: the same model, a forward cheap enough for the cpu engine. */
const SMALL: LmBenchConfig = { ...LM_BENCH_CONFIG, batch: 1 };

describe("LM bench step", () => {
  it("is the LM experiments' size: width 64, depth 2, 4 heads, 128 tokens, batch 32, byte vocab", () => {
    const full = LM_RMSNORM_DYT_SCALES.full.base;
    const c = LM_BENCH_CONFIG;
    assert.deepEqual([c.dim, c.depth, c.heads, c.seqLen, c.batch, c.vocab], [64, 2, 4, 128, 32, 257]);
    assert.deepEqual({ dim: c.dim, depth: c.depth, heads: c.heads }, { dim: full.model.dim, depth: full.model.depth, heads: full.model.heads });
    assert.equal(c.seqLen, full.data.seqLen);
    assert.equal(c.batch, full.train.batchSize);
    assert.equal(c.weightDecay, full.train.weightDecay);
    assert.equal(c.vocab, BYTE_VOCAB_SIZE);
    assert.equal(lmTokensPerStep(), 32 * 128);
  });

  it("DyT follows the LLaMA recipe (gamma only, paper alpha0, embedding scalar); RMSNorm has gamma only", () => {
    const d = lmBenchLlamaConfig("dyt");
    assert.equal(d.norm, "dyt");
    assert.equal(d.embedScale, true);
    assert.deepEqual([d.alpha0Attn, d.alpha0Ffn, d.alpha0Final], Object.values(paperLlamaAlpha0(64)));
    assert.equal(d.ffnHidden, 176, "SwiGLU width 8d/3 rounded up to a multiple of 8");
    assert.equal(d.maxSeqLen, 128);
    const r = lmBenchLlamaConfig("rmsnorm");
    assert.equal(r.norm, "rmsnorm");
    assert.equal(r.embedScale, false);
  });

  it("parameter counts: the hand count of torch_bench.py's LlamaLM, and the lab's Llama has exactly that", async () => {
    await useEngine("cpu");
    // rmsnorm: embed 257*64 + 2 x (2*64 norms + 64*192 qkv + 64*64 o + 64*352 gate|up + 176*64 down) + 64 + head 64*257.
    assert.equal(lmBenchParamCount("rmsnorm"), 16448 + 2 * (128 + 12288 + 4096 + 22528 + 11264) + 64 + 16448);
    assert.equal(lmBenchParamCount("rmsnorm"), 133568);
    // dyt: + one alpha per norm (5) + the embedding scalar; no beta.
    assert.equal(lmBenchParamCount("dyt"), 133574);
    for (const norm of LM_BENCH_NORMS) {
      const s = lmBenchStep(norm, SMALL);
      try {
        assert.equal(s.model.parameterCount(), lmBenchParamCount(norm), `${norm}: lab Llama vs bench count`);
        assert.ok(!s.model.params.some((p) => /bias|beta/.test(p.name)), `${norm}: no biases or betas (${s.model.params.map((p) => p.name).join(", ")})`);
      } finally {
        s.dispose();
      }
    }
  });

  it("a step: tokens [B, T] -> logits [B, T, 257], finite loss, a gradient of each parameter's shape", async () => {
    await useEngine("cpu");
    for (const norm of LM_BENCH_NORMS) {
      const s = lmBenchStep(norm, SMALL);
      const before = tf.memory().numTensors;
      try {
        tf.tidy(() => {
          const logits = s.model.forward(tf.tensor2d(lmBenchTokens(SMALL).x, [SMALL.batch, SMALL.seqLen], "int32"));
          assert.deepEqual(logits.shape, [SMALL.batch, SMALL.seqLen, SMALL.vocab]);
          const { value, grads } = tf.variableGrads(() => s.loss(), s.vars);
          const loss = value.dataSync()[0]!;
          assert.ok(Number.isFinite(loss) && loss > 0, `${norm}: loss ${loss}`);
          for (const v of s.vars) assert.deepEqual(grads[v.name]?.shape, v.shape, `${norm}: gradient of ${v.name}`);
          s.optimizer.apply(
            s.vars.map((v) => grads[v.name]),
            1e-3,
          );
        });
        assert.equal(tf.memory().numTensors, before, `${norm}: the step leaks tensors`);
      } finally {
        s.dispose();
      }
    }
  });

  it("tokens: y is x shifted by one, ids in the vocabulary", () => {
    const { x, y } = lmBenchTokens(SMALL);
    const T = SMALL.seqLen;
    assert.equal(x.length, SMALL.batch * T);
    for (let b = 0; b < SMALL.batch; b++) for (let t = 0; t + 1 < T; t++) assert.equal(y[b * T + t], x[b * T + t + 1]);
    assert.ok([...x, ...y].every((v) => v >= 0 && v < SMALL.vocab));
  });

  it("matmul FLOPs: linears, full T x T attention and head, 2 FLOPs per multiply-add", () => {
    const c: LmBenchConfig = { batch: 1, seqLen: 2, vocab: 3, dim: 6, depth: 1, heads: 2, weightDecay: 0 };
    const H = 16; // 8 * ceil(16 / 8)
    const N = 2;
    assert.equal(lmForwardMatmulFlops(c), 2 * N * 6 * (18 + 6 + 2 * H) + 2 * N * H * 6 + 2 * 2 * 1 * 2 * 2 * 6 + 2 * N * 6 * 3);
  });

  it("names the fix for a norm the LM has no recipe for", () => {
    assert.throws(() => assertLmBenchNorm("layernorm"), /norm "layernorm".*--norms rmsnorm,dyt/);
    assert.doesNotThrow(() => assertLmBenchNorm("dyt"));
  });
});
