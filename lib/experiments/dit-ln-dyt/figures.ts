import { lossTuningFigure } from "../protocol/arm-figures";
import { barFigure, baseLayout, curvesFigure, imageMosaicFigure, paletteColor } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { gridImages } from "../protocol/dit-task";
import type { DitProtocolRecord } from "../protocol/runner";
import { finiteMeanStd } from "../protocol/pretrain-probe";
import type { DitSummary } from "./spec";

const evalRuns = (records: readonly DitProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: DitProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** Validation denoising loss (ε-MSE) against the step, per arm: mean ± std over seeds. */
export function ditHeldOutFigure(records: readonly DitProtocolRecord[], s: DitSummary): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.map((e) => ({ x: e.step, y: e.loss })) })),
    { metric: "validation denoising loss (ε-MSE)", title: `DiT held-out denoising loss (${s.scale}), mean ± std over seeds`, band: "std", showSeeds: true },
  );
}

/** Fréchet distance per arm (mean ± std over seeds, seeds as dots), with the real-vs-real floor. */
export function ditFdFigure(s: DitSummary): Figure {
  const m = s.arms.map((a) => finiteMeanStd(a.fds));
  const fig = barFigure({ categories: s.arms.map((a) => a.label), series: [{ name: "FD (mean ± std)", values: m.map((x) => x.mean), errors: m.map((x) => x.std) }] }, { title: `Fréchet distance of DDIM samples to real test images (${s.scale}; FID proxy, lower is better)`, yLabel: "Fréchet distance (ViT features)" });
  s.arms.forEach((a, i) => fig.data.push({ type: "scatter", mode: "markers", name: `${a.label} seeds`, x: a.fds.map(() => a.label), y: a.fds.map((v) => (Number.isFinite(v) ? v : null)), marker: { color: paletteColor(i + 1), size: 8 }, showlegend: false }));
  const floor = finiteMeanStd(s.arms.flatMap((a) => a.fdFloors));
  if (floor.n) fig.data.push({ type: "scatter", mode: "lines", name: "floor: real train vs real test", x: [s.arms[0].label, s.arms[2].label], y: [floor.mean, floor.mean], line: { color: "#555", dash: "dash" } });
  fig.layout.showlegend = true;
  return fig;
}

/** lr tuning: final validation denoising loss against lr, one line per arm (runs that did not learn are gaps). */
export function ditTuningFigure(s: DitSummary): Figure {
  return lossTuningFigure(s, { value: (g) => g.valLoss, yLabel: "final validation denoising loss (lower is better)" });
}

/** The kept samples of one evaluation run as one greyscale mosaic: a row per class, conditioned on it. */
export function ditSamplesFigure(r: DitProtocolRecord, classNames?: readonly string[]): Figure {
  const g = r.result.samples?.grid;
  if (!g || g.perClass === 0) return { data: [], layout: baseLayout({ title: `${runLabel(r)}, seed ${r.seed}: no samples (${r.result.status})` }) };
  if (g.channels !== 1) throw new Error(`ditSamplesFigure: ${g.channels}-channel samples; the mosaic shows greyscale images`);
  return imageMosaicFigure(gridImages(g), g.size, `${runLabel(r)}, seed ${r.seed}: DDIM samples, a row per class${classNames ? ` (${classNames.join(", ")})` : ""}`);
}

/** One row per arm: lr, FD, the floor, samples recognised, test denoising loss, final alpha, runs. */
export function ditTable(s: DitSummary): Row[] {
  return s.arms.map((a) => {
    const fd = finiteMeanStd(a.fds);
    const acc = finiteMeanStd(a.accs);
    const loss = finiteMeanStd(a.losses);
    return {
      arm: a.label,
      lr: a.lr,
      "FD mean": fd.mean,
      "FD std": fd.std,
      "FD floor": finiteMeanStd(a.fdFloors).mean,
      "recognised %": acc.mean,
      "test ε-MSE": loss.mean,
      "final α": a.meanFinalAlpha ?? NaN,
      seeds: a.seeds.length,
      "ms/step": a.msPerStep,
    };
  });
}
