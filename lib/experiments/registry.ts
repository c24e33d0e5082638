import type { ExperimentEntry } from "./entry";
import { vitFashionEntry } from "./vit-fashion";
import { squashEntry } from "./squash";
import { gainBiasEntry } from "./gain-bias";
import { alpha0Entry } from "./alpha0";
import { normFreeEntry } from "./norm-free";
import { quantizationEntry } from "./quantization";
import { lrStabilityEntry } from "./lr-stability";
import { placementEntry } from "./placement";
import { depthStabilityEntry } from "./depth-stability";
import { scurvesEntry } from "./scurves";
import { alphaStdEntry } from "./alpha-std";
import { invarianceEntry } from "./invariance";
import { lmRmsnormDytEntry } from "./lm-rmsnorm-dyt";
import { lmAlpha0Entry } from "./lm-alpha0";
import { lmQuantEntry } from "./lm-quant";
import { lmEmbedScaleEntry } from "./lm-embed-scale";
import { lmLrStabilityEntry } from "./lm-lr-stability";
import { lmNormFreeEntry } from "./lm-norm-free";
import { lmFp8TrainEntry } from "./lm-fp8-train";
import { lmToFailureEntry } from "./lm-to-failure";
import { visionFamiliesEntry } from "./vision-families";
import { convnextScurvesEntry } from "./convnext-scurves";
import { dnaHyenaEntry } from "./dna-hyena";
import { wav2vecLnDytEntry } from "./wav2vec-ln-dyt";
import { wav2vecScurvesEntry } from "./wav2vec-scurves";
import { ditLnDytEntry } from "./dit-ln-dyt";
import { maeLnDytEntry } from "./mae-ln-dyt";
import { dinoLnDytEntry } from "./dino-ln-dyt";

export type { ExperimentEntry } from "./entry";

/**
 * Every experiment, in report order. Each lives in its own module and exports
 * an ExperimentEntry; add new ones here.
 */
export const EXPERIMENTS: ExperimentEntry[] = [
  // The paper's claims in their order (paper.md), then the reviewers' studies.
  vitFashionEntry, // 1
  scurvesEntry, // 3
  alphaStdEntry, // 4
  squashEntry, // 5, 6
  alpha0Entry, // 7
  normFreeEntry, // 8
  lmRmsnormDytEntry, // 2 (LLM)
  lmAlpha0Entry, // 7 (LLM)
  lmQuantEntry, // R-outliers, R-quant (LLM)
  lmEmbedScaleEntry, // R-embed-scale (LLM)
  lmLrStabilityEntry, // R-lr (LLM)
  lmNormFreeEntry, // 8 (LLM)
  lmFp8TrainEntry, // R-fp8-train (LLM)
  lmToFailureEntry, // R-to-failure (LLM)
  visionFamiliesEntry, // 2 (ConvNeXt, Mixer), 9 (BatchNorm)
  convnextScurvesEntry, // 3, 4 (ConvNeXt); after vision-families, whose tuning it reads
  ditLnDytEntry, // 2 (DiT)
  maeLnDytEntry, // 2 (MAE)
  dinoLnDytEntry, // 2 (DINO)
  dnaHyenaEntry, // 2 (DNA)
  wav2vecLnDytEntry, // 2 (speech)
  wav2vecScurvesEntry, // 3 (speech); after wav2vec-ln-dyt, whose tuning it reads
  gainBiasEntry,
  invarianceEntry,
  quantizationEntry,
  lrStabilityEntry,
  placementEntry,
  depthStabilityEntry,
];

export function findExperiment(name: string): ExperimentEntry {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; available: ${EXPERIMENTS.map((x) => x.name).join(", ")}`);
  return e;
}
