import { barFigure, baseLayout, curvesFigure, heatmapFigure, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
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
  const data: PlotTrace[] = s.picks.map((p, i) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${s.arms.find((a) => a.arm === p.arm)?.label ?? p.arm} (pick ${p.bestLr}${p.noneLearned ? ", none learned" : p.atEdge ? ", at grid edge" : ""})`,
    x: p.grid.map((g) => g.lr),
    y: p.grid.map((g) => g.valLoss ?? null),
    line: { color: paletteColor(i) },
  }));
  return { data, layout: baseLayout({ title: `lr tuning on validation (tuning seed; ${s.scale})`, xLabel: "learning rate (log scale)", yLabel: "final validation reconstruction loss (lower is better)", logX: true }) };
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
  const imgs = reconImages(rec);
  const S = rec.size;
  const z: number[][] = [];
  for (const row of imgs) for (let y = 0; y < S; y++) z.push(row.flatMap((im) => Array.from(im.subarray(y * S, (y + 1) * S))));
  const fig = heatmapFigure({ z }, { title: `${runLabel(r)}, seed ${r.seed}: test image | ${Math.round(100 * r.config.model.maskRatio)} % masked | reconstruction`, colorscale: "Greys", zmin: 0, zmax: 1, matrix: true });
  (fig.data[0] as PlotTrace).showscale = false;
  fig.layout.xaxis = { ...fig.layout.xaxis, showticklabels: false, showgrid: false, ticks: "", scaleanchor: "y" };
  fig.layout.yaxis = { ...fig.layout.yaxis, showticklabels: false, showgrid: false, ticks: "" };
  return fig;
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
