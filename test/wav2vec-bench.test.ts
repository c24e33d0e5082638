/**
 * The wav2vec 2.0 training step of `npm run bench -- --model wav2vec`
 * (lib/bench/wav2vec-step.ts): it is the model wav2vec-ln-dyt trains at full
 * scale, per study arm (the experiment's resolver on its own base, so a
 * changed spec fails here), the lab's model has the hand count of its parts,
 * bench/torch_bench.py builds a model with the same count (when Debian's
 * python3-torch is importable), and a step runs without leaking tensors.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
  WAV2VEC_BENCH_ARMS,
  WAV2VEC_BENCH_CONFIG,
  WAV2VEC_STEP_MODEL,
  wav2vecBenchDraws,
  wav2vecBenchModelConfig,
  wav2vecBenchParamCount,
  wav2vecBenchRun,
  wav2vecBenchStep,
  wav2vecForwardFlops,
  type Wav2VecBenchConfig,
} from "../lib/bench/wav2vec-step";
import { checkBenchParams, torchImportable, torchParamCount } from "../lib/bench/step-model";
import { resolveSpeechRun } from "../lib/experiments/protocol/speech-task";
import { WAV2VEC_SCALES, wav2vecStudy } from "../lib/experiments/wav2vec-ln-dyt/spec";
import { WAV2VEC_DEFAULTS } from "../lib/models/wav2vec";
import { ADAMW_DEFAULTS } from "../lib/train/adamw";
import type { TrainConfig } from "../lib/train/trainer";
import type { NormKind } from "../lib/norms/types";
import { nativeLoadError } from "../lib/engine/native";
import type { EngineName } from "../lib/engine";
import { assertBenchParamCounts, runBenchSteps, useEngine } from "./helpers";

/** The full config with a small batch of 0.5 s windows: the same model (its parameters do not depend on the window), a step cheap enough for the cpu engine. */
const SMALL: Wav2VecBenchConfig = { ...WAV2VEC_BENCH_CONFIG, batch: 2, windowSamples: 8000 };

/** What the bench's step shares with the experiment's training config: the batch and AdamW's settings. */
const adamw = (t: Pick<TrainConfig, "batchSize" | "weightDecay" | "beta1" | "beta2" | "eps">) => ({ batchSize: t.batchSize, weightDecay: t.weightDecay, beta1: t.beta1, beta2: t.beta2, eps: t.eps });

describe("wav2vec bench step", () => {
  it("is wav2vec-ln-dyt's full-scale model per study arm, with its batch, window and AdamW", () => {
    const full = WAV2VEC_SCALES.full;
    const study = wav2vecStudy(full);
    assert.deepEqual(Object.values(WAV2VEC_BENCH_ARMS).sort(), study.arms.map((a) => a.id).sort(), "the bench's norms are the study's arms");
    for (const a of study.arms) {
      const norm = Object.entries(WAV2VEC_BENCH_ARMS).find(([, id]) => id === a.id)![0] as NormKind;
      const exp = resolveSpeechRun(full.base, a, 0);
      const bench = wav2vecBenchRun(norm);
      assert.deepEqual(bench.model, exp.model, `${norm}: model config`);
      assert.equal(bench.data.windowSamples, exp.data.windowSamples, `${norm}: window length`);
      assert.deepEqual(adamw(bench.train), adamw(exp.train), `${norm}: batch and AdamW settings`);
      assert.deepEqual(adamw(exp.train), adamw({ ...ADAMW_DEFAULTS, batchSize: WAV2VEC_BENCH_CONFIG.batch, weightDecay: WAV2VEC_BENCH_CONFIG.weightDecay }), `${norm}: the bench's AdamW is the experiment's`);
    }
    // Amendment 2: batch 16 of 1 s windows; decay 0.01; LayerNorm in the conv encoder of both arms; DyT at alpha0 0.5.
    assert.deepEqual([WAV2VEC_BENCH_CONFIG.batch, WAV2VEC_BENCH_CONFIG.windowSamples, WAV2VEC_BENCH_CONFIG.weightDecay], [16, 16000, 0.01]);
    const dyt = wav2vecBenchModelConfig("dyt");
    assert.deepEqual([dyt.norm, dyt.convNorm, dyt.featureNorm, dyt.normOptions.alpha0], ["dyt", "layernorm", undefined, 0.5]);
    assert.deepEqual([dyt.convLayers, dyt.dim, dyt.depth, dyt.heads], [WAV2VEC_DEFAULTS.convLayers, 64, 2, 4]);
    assert.equal(wav2vecBenchModelConfig("layernorm").norm, "layernorm");
  });

  it("parameter counts: the hand count, and the lab's Wav2Vec2 has exactly that for both norms", async () => {
    await useEngine("cpu");
    // convs 320 + 4*3072 + 2*2048 and 7 LayerNorms of 64; feature norm 64; post_extract_proj 2112; mask_emb 64;
    // pos conv v 16384 + g 16 + b 64; 2 blocks of 49984; encoder norm 128; final_proj 2080; weight_proj 2112 + codewords 1024; project_q 1056.
    assert.equal(wav2vecBenchParamCount("layernorm"), 16704 + 448 + 64 + 2112 + 64 + 16464 + 2 * 49984 + 128 + 2080 + 2112 + 1024 + 1056);
    assert.equal(wav2vecBenchParamCount("layernorm"), 142224);
    assert.equal(wav2vecBenchParamCount("dyt"), 142230, "+ one alpha per DyT norm (feature norm, 2 per block, encoder norm); the conv encoder keeps LayerNorm");
    assertBenchParamCounts(WAV2VEC_STEP_MODEL, (n) => wav2vecBenchStep(n, SMALL), (n) => wav2vecBenchParamCount(n));
  });

  it("FLOPs: strided convs, projection, positional conv, blocks, the masked steps' heads and quantizer (2 per multiply-add)", () => {
    const m = { ...WAV2VEC_DEFAULTS, convLayers: [[2, 4, 2]] as const, dim: 4, depth: 1, heads: 1, mlpRatio: 2, posConvKernel: 3, posConvGroups: 2, quantGroups: 2, quantEntries: 3, finalDim: 2 };
    // 10 samples -> (10 - 4) / 2 + 1 = 4 steps; B = 1, M = 2 masked steps.
    const conv = 2 * 4 * 4 * 1 * 2;
    const proj = 2 * 4 * 2 * 4;
    const pos = 2 * 4 * 3 * 2 * 4;
    const block = 2 * 4 * 4 * (12 + 4 + 16) + 2 * 2 * 4 * 4 * 4;
    const heads = 2 * 2 * (4 * 2 + 2 * 6 + 3 * 2 + 2 * 2);
    assert.equal(wav2vecForwardFlops(m, 1, 10, 2), conv + proj + pos + block + heads);
  });

  it("torch arguments carry every size from the lab's config, the lab's M and K, and the norm as resolved", () => {
    const m = wav2vecBenchModelConfig("dyt");
    const M = wav2vecBenchDraws(m).M;
    const d = WAV2VEC_STEP_MODEL.torchArgs("dyt").join(" ");
    assert.match(d, /--model wav2vec --batch 16 --samples 16000 --conv-layers 32:10:5,32:3:2,32:3:2,32:3:2,32:3:2,32:2:2,32:2:2 --dim 64 --depth 2 --heads 4 --mlp-ratio 4 --pos-conv-kernel 16 --pos-conv-groups 4/);
    assert.match(d, new RegExp(`--masked ${M} --negatives 10 `));
    assert.match(d, /--conv-norm layernorm .*--weight-decay 0\.01 .*--alpha0 0\.5/);
    assert.doesNotMatch(WAV2VEC_STEP_MODEL.torchArgs("layernorm").join(" "), /--alpha0/);
  });
});

const nativeReason = nativeLoadError();
const engines: EngineName[] = ["cpu", ...(nativeReason ? [] : (["native"] as const))];

describe("wav2vec bench step runs without leaking tensors", () => {
  for (const engine of engines)
    it(`on ${engine}: two steps, finite loss, a gradient per parameter, tf.memory().numTensors flat`, async () => {
      await useEngine(engine);
      for (const norm of WAV2VEC_STEP_MODEL.norms) {
        const s = wav2vecBenchStep(norm, SMALL);
        try {
          const { losses, counts } = runBenchSteps(s, norm);
          // At init the contrastive loss is near chance, ln(K + 1) = 2.40, plus the diversity term (< 0.1).
          assert.ok(losses.every((l) => Number.isFinite(l) && l > 1 && l < 5), `${norm}: losses ${losses}`);
          assert.equal(counts[1], counts[0], `${norm} on ${engine}: tensors after step 1 and 2: ${counts.join(", ")}`);
        } finally {
          s.dispose();
        }
      }
    });
  if (nativeReason) it("native engine", { skip: `native engine unavailable: ${nativeReason}` }, () => {});
});

describe("PyTorch builds the same wav2vec 2.0 (bench/torch_bench.py --params-only)", () => {
  const skip = torchImportable() ? false : "python3-torch is not importable by /usr/bin/python3 (the bench installs it with apt; run apt-get install python3-torch to check here)";
  it(`PyTorch's parameter count equals the lab's for ${WAV2VEC_STEP_MODEL.norms.join(" and ")}`, { skip }, () => {
    for (const norm of WAV2VEC_STEP_MODEL.norms) {
      const pt = torchParamCount(["--norm", norm, ...WAV2VEC_STEP_MODEL.torchArgs(norm)]);
      assert.equal(typeof pt, "number", `${norm}: ${JSON.stringify(pt)}`);
      assert.equal(pt, WAV2VEC_STEP_MODEL.paramCount(norm), `${norm}: PyTorch vs lab`);
      assert.doesNotThrow(() => checkBenchParams(WAV2VEC_STEP_MODEL, norm, pt as number, "test"));
    }
  });
  it("a PyTorch count that differs stops the bench, naming both models and the hand count", () => {
    const lab = WAV2VEC_STEP_MODEL.paramCount("layernorm");
    assert.throws(() => checkBenchParams(WAV2VEC_STEP_MODEL, "layernorm", lab - 1, "test"), /PyTorch's model has 142223 parameters, the lab's wav2vec 2.0 142224 .*make Wav2Vec2 in bench\/torch_bench.py match lib\/models\/wav2vec.ts \(wav2vecBenchParamCount/);
  });
});
