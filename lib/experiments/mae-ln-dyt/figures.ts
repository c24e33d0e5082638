import { lossTuningFigure } from "../protocol/arm-figures";
import { barFigure, baseLayout, curvesFigure, imageMosaicFigure, paletteColor } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { reconImages } from "../protocol/mae-task";
import { finiteMeanStd } from "../protocol/pretrain-probe";
import type { MaeProtocolRecord } from "../protocol/runner";
import type { MaeSummary } from "./spec";

const evalRuns = (records: readonly MaeProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: MaeProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** Validation masked-reconstruction loss against the step, per arm: mean ± std over seeds. */
export function maeHeldOutFigure(records: readonly MaeProtocolRecord[], s: MaeSummary): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.map((e) => ({ x: e.step, y: e.loss })) })),
    { metric: "validation reconstruction loss (hidden patches)", title: `MAE pretraining (${s.scale}): held-out reconstruction loss, mean ± std over seeds`, band: "std", showSeeds: true },
  );
}

/** lr tuning: final validation reconstruction loss against lr, per arm. */
export function maeTuningFigure(s: MaeSummary): Figure {
  return lossTuningFigure(s, { value: (g) => g.valLoss, yLabel: "final validation reconstruction loss (lower is better)" });
}

/** Fine-tuned and linear-probe test accuracy per arm (mean ± std over seeds), the probe at initialisation beside them. */
export function maeAccuracyFigure(s: MaeSummary): Figure {
  const m = (v: number[]) => finiteMeanStd(v);
  const cats = s.arms.map((a) => a.label);
  const series = (name: string, pick: (a: MaeSummary["arms"][number]) => number[], i: number) => ({ name, values: s.arms.map((a) => m(pick(a)).mean), errors: s.arms.map((a) => m(pick(a)).std), color: paletteColor(i) });
  return barFigure(
    { categories: cats, series: [series("fine-tuned", (a) => a.accs, 0), series("linear probe", (a) => a.probeAccs, 1), series("probe at initialisation", (a) => a.probeInitAccs, 2)] },
    { title: `MAE downstream (${s.scale}): test accuracy, mean ± std over seeds`, yLabel: "test accuracy (%)" },
  );
}

/** The kept test images of one run: a row each of original | masked input | reconstruction. */
export function maeReconFigure(r: MaeProtocolRecord): Figure {
  const rec = r.result.recon;
  if (!rec || rec.n === 0) return { data: [], layout: baseLayout({ title: `${runLabel(r)}, seed ${r.seed}: no reconstructions (${r.result.status})` }) };
  return imageMosaicFigure(reconImages(rec), rec.size, `${runLabel(r)}, seed ${r.seed}: test image | ${Math.round(100 * r.config.model.maskRatio)} % masked | reconstruction`);
}

/** One row per arm: pretraining lr, fine-tuned and probe accuracy, reconstruction loss, final alpha. */
export function maeTable(s: MaeSummary): Row[] {
  return s.arms.map((a) => ({
    arm: a.label,
    "pretrain lr": a.lr,
    "fine-tuned %": finiteMeanStd(a.accs).mean,
    "probe %": finiteMeanStd(a.probeAccs).mean,
    "probe at init %": finiteMeanStd(a.probeInitAccs).mean,
    "recon loss": finiteMeanStd(a.reconLosses).mean,
    "final α": a.meanFinalAlpha ?? NaN,
    seeds: a.seeds.length,
    "ms/step": a.msPerStep,
  }));
}
