/**
 * MAE with DyT (paper Table 1: MAE ViT-B fine-tuned top-1 83.2 with LN and
 * with DyT, ViT-L 85.5 / 85.4; issue 13), under the protocol, on the
 * runner's "image-mae" task: a masked autoencoder around the lab's ViT
 * pretrained on Fashion-MNIST without labels, LayerNorm vs DyT in every norm
 * slot of encoder and decoder, each arm at its own pretraining lr (tuned on
 * the validation reconstruction loss with a tuning seed), >= 3 evaluation
 * seeds. Each run is then fine-tuned (a per-run lr grid, the best on
 * validation kept) and linearly probed on frozen features.
 * Claims (pre-registered 2026-12-04, before any run; the accuracy rules of
 * rules.ts):
 *  - MAE-ft: DyT matches LN on fine-tuned test accuracy (the paper's metric):
 *    DyT − LN > −1 point, paired over seeds; every run learned (fine-tuned
 *    accuracy >= 28 %);
 *  - MAE-probe: DyT matches LN on the linear probe's test accuracy, the same
 *    margin; every probe learned.
 * Seeds are added, up to 5, while either claim is inconclusive. The test
 * reconstruction loss, the probe at initialisation and the fine-tuning lr
 * picks are reported beside them.
 */
import type { ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm } from "../protocol/arms";
import { maePlateaued, maeScore } from "../protocol/classify";
import { pairOverSeeds } from "../protocol/compare";
import type { MaeRunBase } from "../protocol/mae-task";
import { describeBase } from "../protocol/jobs";
import {
  compareProbe,
  dytAlpha0,
  edgeSentence,
  everyRunPlateaued,
  finiteMeanStd,
  lrPolicySentence,
  pairArms,
  plateauSentence,
  pretrainProbeArmRuns,
  probeStatement,
  runPretrainProbeStudy,
  toClaim,
  type PairVerdict,
  type PretrainProbeClaim,
  type PretrainProbeClaims,
  type PretrainProbeRuns,
} from "../protocol/pretrain-probe";
import { RULES, type ProtocolRules } from "../protocol/rules";
import type { MaeProtocolRecord } from "../protocol/runner";
import { armStudy, studyLrs, type ArmLr, type ArmStudy, type StudyScale } from "../protocol/study";
import type { LrPick } from "../protocol/tuning";
import { describeEffect } from "../protocol/verdict";
import { fixed } from "../../util/format";

export const MAE_LN_DYT = "mae-ln-dyt";

/** Pretraining budget (epochs over the pretraining images), seeds and lr policy of the study, and its two arms [DyT, LN]. */
export interface MaeScale extends StudyScale<MaeRunBase> {
  arms: [string, string];
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const FINETUNE = { batchSize: 64, weightDecay: 0.05 };

/**
 * Cost: not yet timed at full; from the parts measured for other
 * experiments on this 2-core machine (a width-64, depth-4 ViT step over 50
 * tokens ~100-150 ms at batch 64; the MAE encoder sees 13 tokens and a
 * width-32 decoder block 50), pretraining should take ~50-80 ms per step:
 * full = 55,000 images x 10 epochs (8,594 steps, ~8-11 min), then 3
 * fine-tunings of 313 steps (~2 min) and two probes (~1 min) per run; 12
 * runs (2 arms x 3 tuning lrs + 2 arms x 3 seeds), an estimated ~2.5 h of
 * CPU, ~1.3 h on 2 workers. The experiment log prints each run's
 * measured cost. Quick: 10,000 images, 1 epoch, a 2,000-image probe and
 * fine-tuning. Smoke: a width-16, depth-1 encoder on 128 images, 4 steps.
 */
export const MAE_SCALES: Record<Scale, MaeScale> = {
  smoke: {
    base: {
      task: "image-mae",
      model: { encoder: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, decoderDim: 8, decoderDepth: 1, decoderHeads: 2 },
      train: { ...TRAIN, batchSize: 32, evalLimit: 64, evalBatchSize: 64 },
      data: { trainLimit: 128, testLimit: 64 },
      probe: { trainLimit: 128, steps: 30, batchSize: 64 },
      finetune: { ...FINETUNE, batchSize: 32, trainLimit: 128, epochs: 1, lrs: [1e-3, 4e-3] },
      keepImages: 2,
    },
    arms: ["dyt", "layernorm"],
    epochs: 1,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 4e-3], seed: 101 } },
  },
  quick: {
    base: {
      task: "image-mae",
      model: {},
      train: { ...TRAIN, evalLimit: 500 },
      data: { trainLimit: 10_000, testLimit: 1000 },
      probe: { trainLimit: 2000 },
      finetune: { ...FINETUNE, trainLimit: 2000, epochs: 1, lrs: [1e-3, 3e-3] },
      keepImages: 4,
    },
    arms: ["dyt", "layernorm"],
    epochs: 1,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 3e-3], seed: 101 } },
  },
  full: {
    base: {
      task: "image-mae",
      model: {},
      train: { ...TRAIN, evalLimit: 1000 },
      data: { trainLimit: 0, testLimit: 0 },
      probe: { trainLimit: 10_000 },
      finetune: { ...FINETUNE, trainLimit: 10_000, epochs: 2, lrs: [1e-3, 3e-3, 1e-2] },
      keepImages: 8,
    },
    arms: ["dyt", "layernorm"],
    epochs: 10,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    lr: { kind: "tuned", tuning: { lrs: [3e-4, 1e-3, 3e-3], seed: 101 } },
  },
};

export function maeStudy(s: MaeScale): ArmStudy<MaeRunBase> {
  return armStudy(MAE_LN_DYT, s, s.arms.map(resolveArm));
}

/** One arm's evaluation runs, by seed (accs: fine-tuned test accuracy, %; probe fields shared with the DNA and speech studies). */
export interface MaeArmRuns extends PretrainProbeRuns {
  /** Test masked-reconstruction loss per seed. */
  reconLosses: number[];
  /** The fine-tuning lr each run kept (best validation accuracy). */
  finetuneLrs: number[];
}

export function maeArmRuns(records: readonly MaeProtocolRecord[], armId: string, lr: ArmLr | undefined, rules: ProtocolRules = RULES): MaeArmRuns {
  return pretrainProbeArmRuns(records, armId, lr, {
    metrics: (rs) => ({
      reconLosses: rs.map((r) => maeScore(r, "test", rules).loss),
      finetuneLrs: rs.map((r) => r.result.finetune?.bestLr ?? NaN),
    }),
    late: (r) => {
      const p = maePlateaued(r.result.evals, rules);
      return { gain: p.gainRelative, plateaued: p.plateaued };
    },
    probeClasses: 10,
  }, rules);
}

/** MAE-ft: "A matches B" on fine-tuned test accuracy (points), paired over seeds. */
export function compareMaeFinetune(a: MaeArmRuns, b: MaeArmRuns, rules: ProtocolRules = RULES): PairVerdict {
  return pairOverSeeds(a, b, "matches", rules, { metric: "fine-tuned test accuracy" });
}

/** MAE-probe: "A matches B" on the linear probe's test accuracy (points); every probe must have learned. */
export function compareMaeProbe(a: MaeArmRuns, b: MaeArmRuns, rules: ProtocolRules = RULES): PairVerdict {
  return compareProbe(a, b, 10, rules);
}

const MAE_CLAIMS: PretrainProbeClaims<MaeProtocolRecord, MaeArmRuns> = { armRuns: maeArmRuns, pretrain: compareMaeFinetune, probe: compareMaeProbe };

export interface MaeSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  arms: [MaeArmRuns, MaeArmRuns];
  picks: LrPick[];
  finetune: PretrainProbeClaim;
  probe: PretrainProbeClaim;
  allPlateaued: boolean;
  /** "MAE-ft: inconclusive; MAE-probe: supported". */
  verdict: string;
  statement: string;
}

const f2 = fixed(2);
const f4 = fixed(4);

function ms(v: readonly number[], f: (x: number) => string): string {
  const m = finiteMeanStd(v);
  return m.n ? `${f(m.mean)} ± ${f(m.std)}` : "—";
}

export function summarizeMae(records: readonly MaeProtocolRecord[], s: MaeScale, scale: Scale, rules: ProtocolRules = RULES): MaeSummary {
  const { picks, lrs } = studyLrs(maeStudy(s), records, rules);
  const { a, b, pretrain: ft, probe: pr } = pairArms(MAE_CLAIMS, records, s.arms, lrs, rules);
  const allPlateaued = everyRunPlateaued([a, b]);
  const edge = edgeSentence(picks, a, b);
  const setup = `${describeBase(s.base, s.epochs)}; ${lrPolicySentence(s.lr, "validation reconstruction loss")}; DyT arm: γ·tanh(αx)+β in every norm slot of encoder and decoder (α₀ ${dytAlpha0(records)})`;
  const plateau = plateauSentence([a, b], allPlateaued, { fell: `validation reconstruction loss fell < ${100 * rules.maePlateauRelative} % of its value`, falls: "relative fall of the validation reconstruction loss over the last third", rule: rules.maePlateauRelative, fmt: f4 });
  const arm = (r: MaeArmRuns) => `${r.label} (pretraining lr ${r.lr}): fine-tuned ${ms(r.accs, f2)} % (per seed ${r.accs.map(f2).join("/")}, fine-tuning lrs ${r.finetuneLrs.join("/")}), test reconstruction loss ${ms(r.reconLosses, f4)}`;
  const ftText = `Fine-tuned test accuracy (mean ± std over seeds): ${arm(a)}; ${arm(b)}. ` + (ft.evidence ? `${a.label} − ${b.label}: ${describeEffect(ft.evidence)}; "matches" means ${a.label} − ${b.label} > −${rules.matchMarginPoints} point. ` : `No paired evidence (${ft.reason}). `) + plateau + edge;
  const probeText = probeStatement({ probe: "Linear probe on the frozen encoder's mean-pooled tokens (10 classes)" }, a, b, pr, edge, rules);
  const finetune = toClaim(ft, ftText);
  const probe = toClaim(pr, probeText);
  return {
    experiment: MAE_LN_DYT,
    scale,
    setup,
    arms: [a, b],
    picks,
    finetune,
    probe,
    allPlateaued,
    verdict: `MAE-ft: ${finetune.verdict}; MAE-probe: ${probe.verdict}`,
    statement: `${ftText} ${probeText}`,
  };
}

/** Run (or load) tuning, evaluation seeds and, while either claim is inconclusive, extra seeds; then summarise and save. */
export async function runMaeLnDyt(ctx: ExperimentContext, override: Partial<MaeScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: MaeProtocolRecord[]; summary: MaeSummary }> {
  const s: MaeScale = { ...MAE_SCALES[ctx.scale], ...override };
  return runPretrainProbeStudy(ctx, maeStudy(s), s.arms, MAE_CLAIMS, (records) => summarizeMae(records, s, ctx.scale, rules), rules);
}
