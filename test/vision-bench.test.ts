/**
 * The ConvNeXt and DiT training steps of `npm run bench -- --model convnext`
 * and `--model dit` (lib/bench/convnext-step.ts, dit-step.ts): each is the
 * model its experiment trains at full scale (vision-families, dit-ln-dyt:
 * the same resolver, so a changed spec fails here), the lab's model has the
 * hand count of its parts, bench/torch_bench.py builds a model with the same
 * count (when Debian's python3-torch is importable; the LM's too), and a
 * step runs without leaking tensors. Also the shared descriptor checks
 * (lib/bench/step-model.ts): a norm without a recipe and a PyTorch count that
 * differs both stop the bench with a message naming the fix.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
  CONVNEXT_BENCH_ARMS,
  CONVNEXT_BENCH_CONFIG,
  CONVNEXT_STEP_MODEL,
  convnextBenchBase,
  convnextBenchModelConfig,
  convnextBenchParamCount,
  convnextBenchStep,
  convnextForwardFlops,
  type ConvNeXtBenchConfig,
} from "../lib/bench/convnext-step";
import { DIT_BENCH_ARMS, DIT_BENCH_CONFIG, DIT_STEP_MODEL, ditBenchModelConfig, ditBenchParamCount, ditBenchStep, ditForwardMatmulFlops, type DiTBenchConfig } from "../lib/bench/dit-step";
import { LM_STEP_MODEL } from "../lib/bench/lm-step";
import { assertBenchNorm, checkBenchParams, torchImportable, torchParamCount, type BenchStep } from "../lib/bench/step-model";
import { resolveArm } from "../lib/experiments/protocol/arms";
import { resolveDitRun } from "../lib/experiments/protocol/dit-task";
import { resolveImageRun } from "../lib/experiments/protocol/image-task";
import { DIT_SCALES } from "../lib/experiments/dit-ln-dyt/spec";
import { familyBase, visionScale } from "../lib/experiments/vision-families/spec";
import { DIFFUSION_DEFAULTS } from "../lib/train/diffusion";
import { ADAMW_DEFAULTS } from "../lib/train/adamw";
import type { TrainConfig } from "../lib/train/trainer";
import { nativeLoadError } from "../lib/engine/native";
import type { EngineName } from "../lib/engine";
import { assertBenchParamCounts, runBenchSteps, useEngine } from "./helpers";

/** The full configs with a small batch: the same models, a step cheap enough for the cpu engine. */
const SMALL_CONVNEXT: ConvNeXtBenchConfig = { ...CONVNEXT_BENCH_CONFIG, batch: 2 };
const SMALL_DIT: DiTBenchConfig = { ...DIT_BENCH_CONFIG, batch: 2 };

/** What a training step of the bench shares with the experiment's config: the batch and AdamW's settings (the bench's AdamW is ADAMW_DEFAULTS with the config's decay). */
const adamw = (t: Pick<TrainConfig, "batchSize" | "weightDecay" | "beta1" | "beta2" | "eps">) => ({ batchSize: t.batchSize, weightDecay: t.weightDecay, beta1: t.beta1, beta2: t.beta2, eps: t.eps });

const fullConvNeXt = () => {
  const d = visionScale("full", "fashion-mnist");
  const f = d.families.find((x) => x.family === "convnext");
  assert.ok(f, "vision-families has a ConvNeXt family at full scale");
  return { d, f };
};

describe("ConvNeXt bench step", () => {
  it("is vision-families' full-scale ConvNeXt: the same resolved model per arm, batch and weight decay", () => {
    const { d, f } = fullConvNeXt();
    assert.equal(CONVNEXT_BENCH_CONFIG.dataset, d.data.dataset);
    assert.equal(CONVNEXT_BENCH_CONFIG.batch, d.train.batchSize);
    assert.equal(CONVNEXT_BENCH_CONFIG.weightDecay, d.train.weightDecay);
    assert.deepEqual(Object.values(CONVNEXT_BENCH_ARMS).sort(), [...f.arms].sort(), "the bench's norms are the family's arms");
    for (const [norm, armId] of Object.entries(CONVNEXT_BENCH_ARMS)) {
      const exp = resolveImageRun(familyBase(d, f), resolveArm(armId!), 0);
      const bench = resolveImageRun(convnextBenchBase(), resolveArm(armId!), 0);
      assert.deepEqual(convnextBenchModelConfig(norm as "layernorm" | "dyt"), exp.model, `${norm}: model config`);
      assert.deepEqual(adamw(bench.train), adamw(exp.train), `${norm}: batch and AdamW settings`);
    }
    const e = resolveImageRun(familyBase(d, f), resolveArm("dyt"), 0).train;
    assert.deepEqual(adamw(e), adamw({ ...ADAMW_DEFAULTS, batchSize: CONVNEXT_BENCH_CONFIG.batch, weightDecay: CONVNEXT_BENCH_CONFIG.weightDecay }), "the bench's AdamW is the experiment's");
    const m = convnextBenchModelConfig("dyt");
    assert.deepEqual([m.imageSize, m.channels, m.numClasses, m.stemPatch, m.kernelSize, m.downsampleLayout], [28, 1, 10, 2, 7, "channels-first"]);
    assert.deepEqual([m.dims, m.depths], [[24, 48, 96], [1, 1, 1]]);
  });

  it("parameter counts: the hand count, and the lab's ConvNeXt has exactly that for both norms", async () => {
    await useEngine("cpu");
    // stem 4*24+24 + LN 48; stage 0 block 6000; downsample 48 + 4656; block 21216; downsample 96 + 18528; block 79296; final LN 192; head 970.
    assert.equal(convnextBenchParamCount("layernorm"), 120 + 48 + 6000 + 48 + 4656 + 21216 + 96 + 18528 + 79296 + 192 + 970);
    assert.equal(convnextBenchParamCount("layernorm"), 131170);
    assert.equal(convnextBenchParamCount("dyt"), 131177, "+ one alpha per norm (stem, 2 downsampling, 3 blocks, final)");
    assertBenchParamCounts(CONVNEXT_STEP_MODEL, (norm) => convnextBenchStep(norm, SMALL_CONVNEXT), (norm) => convnextBenchParamCount(norm));
  });

  it("FLOPs: stem, depthwise and pointwise convolutions per pixel, downsampling, head (2 per multiply-add)", () => {
    const c: ConvNeXtBenchConfig = { ...CONVNEXT_BENCH_CONFIG, batch: 1, dims: [2, 4], depths: [1, 1], kernelSize: 3 };
    // 28 px / 2 -> 14x14, then 7x7; 10 classes.
    const stem = 2 * 196 * 4 * 1 * 2;
    const s0 = 2 * 196 * (9 * 2 + 2 * 2 * 8);
    const ds = 2 * 49 * 4 * 2 * 4;
    const s1 = 2 * 49 * (9 * 4 + 2 * 4 * 16);
    assert.equal(convnextForwardFlops(c), stem + s0 + ds + s1 + 2 * 4 * 10);
  });
});

describe("DiT bench step", () => {
  it("is dit-ln-dyt's full-scale DiT: the same resolved model per arm, batch, weight decay and schedule", () => {
    const full = DIT_SCALES.full.base;
    assert.equal(DIT_BENCH_CONFIG.batch, full.train.batchSize);
    assert.equal(DIT_BENCH_CONFIG.weightDecay, full.train.weightDecay);
    assert.deepEqual(DIT_BENCH_CONFIG.diffusion, { ...DIFFUSION_DEFAULTS, ...full.diffusion });
    for (const [norm, armId] of Object.entries(DIT_BENCH_ARMS)) {
      const exp = resolveDitRun(full, resolveArm(armId!), 0);
      assert.deepEqual(ditBenchModelConfig(norm as "layernorm" | "dyt"), exp.model, `${norm}: model config`);
      assert.deepEqual(adamw(exp.train), adamw({ ...ADAMW_DEFAULTS, batchSize: DIT_BENCH_CONFIG.batch, weightDecay: DIT_BENCH_CONFIG.weightDecay }), `${norm}: batch and AdamW settings`);
    }
    // LayerNorm is DiT as published (adaLN-Zero); DyT the paper's arm (no adaLN-Zero).
    assert.equal(ditBenchModelConfig("layernorm").adaLNZero, true);
    assert.equal(ditBenchModelConfig("dyt").adaLNZero, false);
    const m = ditBenchModelConfig("dyt");
    assert.deepEqual([m.imageSize, m.patchSize, m.dim, m.depth, m.heads, m.mlpRatio, m.freqDim], [28, 4, 64, 4, 4, 4, 256]);
  });

  it("parameter counts: the hand count, and the lab's DiT has exactly that for both norms", async () => {
    await useEngine("cpu");
    // x_embed 16*64+64; t MLP 256*64+64 + 64*64+64; classes 10*64; 4 blocks of 74688; final adaLN 8320 + Linear 1040.
    assert.equal(ditBenchParamCount("layernorm"), 1088 + 16448 + 4160 + 640 + 4 * 74688 + 8320 + 1040);
    assert.equal(ditBenchParamCount("layernorm"), 330448);
    assert.equal(ditBenchParamCount("dyt"), 330457, "+ one alpha per norm (2 per block, the final one); no gamma or beta");
    assertBenchParamCounts(DIT_STEP_MODEL, (norm) => ditBenchStep(norm, SMALL_DIT), (norm) => ditBenchParamCount(norm));
  });

  it("matmul FLOPs: embeddings, per-image conditioning, per-token linears, T x T attention, final layer", () => {
    const c: DiTBenchConfig = { ...DIT_BENCH_CONFIG, batch: 1, imageSize: 8, patchSize: 4, dim: 4, depth: 1, heads: 1, mlpRatio: 2, freqDim: 2 };
    const T = 4;
    const pc = 16;
    const block = 2 * T * 4 * (12 + 4 + 16) + 2 * 2 * T * T * 4 + 2 * 4 * 24;
    assert.equal(ditForwardMatmulFlops(c), 2 * T * pc * 4 + 2 * (2 * 4 + 16) + block + 2 * 4 * 8 + 2 * T * 4 * pc);
  });
});

const nativeReason = nativeLoadError();
const engines: EngineName[] = ["cpu", ...(nativeReason ? [] : (["native"] as const))];

describe("vision bench steps run without leaking tensors", () => {
  const steps: [string, (norm: "layernorm" | "dyt") => BenchStep][] = [
    ["convnext", (n) => convnextBenchStep(n, SMALL_CONVNEXT)],
    ["dit", (n) => ditBenchStep(n, SMALL_DIT)],
  ];
  for (const engine of engines)
    for (const [name, make] of steps)
      it(`${name} on ${engine}: two steps, finite loss, a gradient per parameter, tf.memory().numTensors flat`, async () => {
        await useEngine(engine);
        for (const norm of ["layernorm", "dyt"] as const) {
          const s = make(norm);
          try {
            const { losses, counts } = runBenchSteps(s, norm);
            assert.ok(losses.every((l) => Number.isFinite(l) && l > 0), `${name}/${norm}: losses ${losses}`);
            assert.equal(counts[1], counts[0], `${name}/${norm} on ${engine}: tensors after step 1 and 2: ${counts.join(", ")}`);
          } finally {
            s.dispose();
          }
        }
      });
  if (nativeReason) it("native engine", { skip: `native engine unavailable: ${nativeReason}` }, () => {});
});

describe("PyTorch builds the same models (bench/torch_bench.py --params-only)", () => {
  const skip = torchImportable() ? false : "python3-torch is not importable by /usr/bin/python3 (the bench installs it with apt; run apt-get install python3-torch to check here)";
  for (const m of [CONVNEXT_STEP_MODEL, DIT_STEP_MODEL, LM_STEP_MODEL])
    it(`${m.name}: PyTorch's parameter count equals the lab's for ${m.norms.join(" and ")}`, { skip }, () => {
      for (const norm of m.norms) {
        const pt = torchParamCount(["--norm", norm, ...m.torchArgs(norm)]);
        assert.equal(typeof pt, "number", `${m.name}/${norm}: ${JSON.stringify(pt)}`);
        assert.equal(pt, m.paramCount(norm), `${m.name}/${norm}: PyTorch vs lab`);
        assert.doesNotThrow(() => checkBenchParams(m, norm, pt as number, "test"));
      }
    });
});

describe("descriptor checks (lib/bench/step-model.ts)", () => {
  it("a norm without a recipe names the model's norms and the --norms to pass", () => {
    assert.throws(() => assertBenchNorm(CONVNEXT_STEP_MODEL, "rmsnorm"), /--model convnext: norm "rmsnorm" is not one of ConvNeXt's norms \(layernorm, dyt\); pass --norms layernorm,dyt/);
    assert.throws(() => assertBenchNorm(DIT_STEP_MODEL, "batchnorm"), /--model dit: norm "batchnorm".*--norms layernorm,dyt/);
    assert.throws(() => assertBenchNorm(LM_STEP_MODEL, "layernorm"), /norm "layernorm".*--norms rmsnorm,dyt/);
  });

  it("a PyTorch count that differs stops the bench and names both models and the hand count", () => {
    const lab = DIT_STEP_MODEL.paramCount("dyt");
    assert.throws(() => checkBenchParams(DIT_STEP_MODEL, "dyt", lab + 1, "test"), /PyTorch's model has 330458 parameters, the lab's DiT 330457 .*no ratio is reported: make DiT in bench\/torch_bench.py match lib\/models\/dit.ts \(ditBenchParamCount/);
    assert.doesNotThrow(() => checkBenchParams(CONVNEXT_STEP_MODEL, "layernorm", undefined, "PyTorch skipped"));
  });

  it("torch arguments carry every size from the lab's config and the norm as resolved", () => {
    const c = CONVNEXT_STEP_MODEL.torchArgs("dyt").join(" ");
    assert.match(c, /--model convnext --batch 64 --image 28 --channels 1 --classes 10 --stem-patch 2 --dims 24,48,96 --depths 1,1,1 --kernel 7 --mlp-ratio 4/);
    assert.match(c, /--alpha0 0\.5/);
    assert.match(CONVNEXT_STEP_MODEL.torchArgs("layernorm").join(" "), /--eps 0\.000001/);
    const d = DIT_STEP_MODEL.torchArgs("layernorm").join(" ");
    assert.match(d, /--model dit --batch 64 .*--patch 4 --dim 64 --depth 4 --heads 4 --mlp-ratio 4 --freq-dim 256 --diffusion-steps 1000/);
    assert.match(d, /--ada-ln-zero/);
    assert.doesNotMatch(DIT_STEP_MODEL.torchArgs("dyt").join(" "), /--ada-ln-zero/);
  });
});
