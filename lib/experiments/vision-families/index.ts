import { claimRow } from "../claims";
import { csv, type ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { IMAGE_DATASETS, IMAGE_FAMILIES, type ImageDatasetName, type ImageFamily } from "../protocol/image-task";
import { RULES } from "../protocol/rules";
import { familyCurvesFigure, familyLossFigure, visionTuningFigure } from "./figures";
import { runVisionFamilies, VISION_FAMILIES, type FamilyResult, type VisionFamiliesSummary } from "./spec";

export * from "./spec";
export * from "./figures";

/** The paper's numbers each row is set against (paper.md, Results). */
const PAPER: Record<ImageFamily, { id: string; paper: string }> = {
  convnext: { id: "2.convnext", paper: "ConvNeXt-B / L on ImageNet: LN 83.7 / 84.3, DyT 83.7 / 84.4 top-1 (Table 1)" },
  mixer: { id: "2.mixer", paper: "MLP-Mixer is named among the models where DyT replaces LN; no number in the reference table" },
  resnet: { id: "9", paper: "Replacing BatchNorm with DyT in ResNet-50 fails: 76.2 -> 68.9 top-1 (−7.3 points)" },
};

function claimText(f: FamilyResult, dataset: ImageDatasetName): string {
  const [a, b] = f.arms;
  const on = IMAGE_DATASETS[dataset].label;
  return f.prediction === "matches"
    ? `DyT matches LayerNorm in ${f.label} on ${on}: ${a.label} − ${b.label} test accuracy > −${RULES.matchMarginPoints} point, each at its own tuned lr, paired over seeds`
    : `DyT cannot replace BatchNorm in a ResNet on ${on}: ${a.label} − ${b.label} test accuracy < 0, each at its own tuned lr, paired over seeds (or DyT fails to learn where BatchNorm learns)`;
}

export const visionFamiliesEntry: ExperimentEntry = {
  name: VISION_FAMILIES,
  description: "ConvNeXt and MLP-Mixer (LayerNorm vs DyT) and ResNet (BatchNorm vs DyT, the paper's failure case), each arm at its tuned lr, paired over seeds on test accuracy (claims 2 ConvNeXt/Mixer and 9)",
  flags: "--dataset fashion-mnist|emoji32 (default fashion-mnist), --families convnext,mixer,resnet",
  run: async (ctx, flags) => {
    const dataset = (flags.dataset ?? "fashion-mnist") as ImageDatasetName;
    if (!(dataset in IMAGE_DATASETS)) throw new Error(`${VISION_FAMILIES}: unknown --dataset "${dataset}"; valid: ${Object.keys(IMAGE_DATASETS).join(", ")}`);
    const families = csv(flags.families) as ImageFamily[] | undefined;
    if (families?.some((f) => !IMAGE_FAMILIES.includes(f))) throw new Error(`${VISION_FAMILIES}: unknown --families "${flags.families}"; valid: ${IMAGE_FAMILIES.join(", ")}`);
    const out = await runVisionFamilies(ctx, { dataset, ...(families ? { families } : {}) });
    const sfx = dataset === "fashion-mnist" ? "" : `-${dataset}`;
    const figs: Record<string, ReturnType<typeof visionTuningFigure>> = { [`tuning${sfx}`]: visionTuningFigure(out.summary) };
    for (const f of out.summary.families) {
      figs[`curves-${f.family}${sfx}`] = familyCurvesFigure(out.records, out.summary, f.family);
      figs[`loss-${f.family}${sfx}`] = familyLossFigure(out.records, out.summary, f.family);
    }
    await saveFigures(VISION_FAMILIES, ctx.scale, figs);
    return out;
  },
  claims: (raw) => {
    const s = raw as VisionFamiliesSummary;
    const sfx = s.dataset === "fashion-mnist" ? "" : `-${s.dataset}`;
    return s.families.map((f) =>
      claimRow({ outcome: f.verdict, reason: f.reason, ...(f.evidence ? { evidence: f.evidence } : {}) }, {
        id: `${PAPER[f.family].id}${sfx}`,
        claim: claimText(f, s.dataset),
        paper: PAPER[f.family].paper,
        ours: `${f.statement} Setup: ${f.setup}.`,
        notebook: "notebooks/15-vision-families.ipynb",
        scale: s.scale,
      }),
    );
  },
};
