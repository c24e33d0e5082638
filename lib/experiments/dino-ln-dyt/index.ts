import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { dinoAccuracyFigure, dinoEntropyFigure, dinoKnnFigure, dinoTuningFigure } from "./figures";
import { DINO_LN_DYT, runDinoLnDyt, type DinoSummary } from "./spec";
import { runDinoSizing } from "./sizing";

export * from "./spec";
export * from "./figures";
export * from "./sizing";

const NOTEBOOK = "notebooks/28-dino-ln-dyt.ipynb";
const PAPER = "DINO-pretrained on ImageNet, top-1: ViT-B/16 83.2 (LN) / 83.4 (DyT), ViT-B/8 84.1 / 84.5 (paper.md, Results)";

export const dinoLnDytEntry: ExperimentEntry = {
  name: DINO_LN_DYT,
  description: "DINO self-distillation (student + EMA teacher, multi-crop, centring and sharpening) around the lab's ViT on Fashion-MNIST without labels, LayerNorm vs DyT in every backbone norm at each one's tuned lr, scored by the teacher's k-NN and linear-probe accuracy with a collapse check, paired over seeds (claim 2, DINO)",
  flags: "--sizing[=VARIANT] (only the recipe/budget probe: LayerNorm DINO variants on the tuning seed, k-NN at each eighth; results/dino-ln-dyt-sizing/)",
  run: async (ctx, flags) => {
    if (flags.sizing !== undefined) return runDinoSizing(ctx, flags.sizing === "true" ? {} : { only: flags.sizing });
    const out = await runDinoLnDyt(ctx);
    await saveFigures(DINO_LN_DYT, ctx.scale, { knn: dinoKnnFigure(out.records, out.summary), entropy: dinoEntropyFigure(out.records, out.summary), tuning: dinoTuningFigure(out.summary), accuracy: dinoAccuracyFigure(out.summary) });
    return out;
  },
  claims: (raw) => {
    const s = raw as DinoSummary;
    const [a, b] = s.arms;
    const row = (c: DinoSummary["knn"]) => ({ outcome: c.verdict, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) });
    return [
      claimRow(row(s.knn), {
        id: "DINO-knn",
        claim: `${a.label} matches ${b.label} in DINO: the teacher's k-NN test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, each trained at its own tuned lr, paired over seeds`,
        paper: `${PAPER}; the paper's DINO numbers are fine-tuned, k-NN is DINO's own label-free readout`,
        ours: `${s.knn.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
      claimRow(row(s.probe), {
        id: "DINO-probe",
        claim: `${a.label} matches ${b.label} in DINO's frozen features: a linear probe's test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, paired over seeds`,
        paper: `${PAPER}; the paper reports no linear probe`,
        ours: `${s.probe.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
