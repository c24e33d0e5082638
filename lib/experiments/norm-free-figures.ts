import { barFigure, curvesFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import { NORM_FREE_VARIANTS, variantOf, type NormFreeSummary } from "./norm-free";
import type { RunRecord } from "./runner";
import type { VitFashionConfig, VitRunResult } from "./vit-fashion";

type Rec = RunRecord<VitFashionConfig, VitRunResult>;
const label = (r: Rec) => NORM_FREE_VARIANTS[variantOf(r)]?.label ?? variantOf(r);

/** Training loss and validation accuracy per method (mean +/- std over seeds), and final test accuracy bars. */
export function normFreeFigures(records: Rec[], summary: NormFreeSummary, scale: string): { loss: Figure; acc: Figure; bars: Figure } {
  const loss = curvesFigure(
    records.map((r) => ({ label: label(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "train loss", title: `Norms vs norm-free methods, same ViT and budget (${scale}): training loss`, band: "std", smooth: 0.6 },
  );
  const acc = curvesFigure(
    records.map((r) => ({ label: label(r), points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `Norms vs norm-free methods (${scale}): validation accuracy`, band: "std" },
  );
  const bars = barFigure(
    {
      categories: summary.byVariant.map((b) => b.label),
      series: [{ name: "test accuracy (diverged = chance)", values: summary.byVariant.map((b) => b.scoredAcc.mean), errors: summary.byVariant.map((b) => b.scoredAcc.std) }],
    },
    { title: `Fashion-MNIST test accuracy, mean ± std over seeds (${scale})`, yLabel: "test accuracy (%)" },
  );
  return { loss, acc, bars };
}

/** The paper's Table-9 layout: one row per method, ours beside the paper's ViT-B ImageNet numbers. */
export function normFreeTable(summary: NormFreeSummary): Row[] {
  return summary.byVariant.map((b) => ({
    method: b.label,
    seeds: b.seeds.join(","),
    "test acc % (mean)": b.scoredAcc.mean,
    "std over seeds": b.scoredAcc.std,
    diverged: b.diverged,
    "paper ViT-B top-1 %": b.paperViTB ?? "-",
    "ms/step": Math.round(b.msPerStep),
  }));
}

/** DyT minus each other method, with the seed-noise band and the outcome. */
export function normFreeComparisonTable(summary: NormFreeSummary): Row[] {
  return summary.comparisons.map((c) => ({
    "DyT vs": NORM_FREE_VARIANTS[c.other]?.label ?? c.other,
    "difference (pts)": c.diff,
    "2 SE band": c.band,
    outcome: c.outcome,
  }));
}
