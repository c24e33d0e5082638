import { barFigure, curvesFigure, scatterFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import { NORM_FREE_VARIANTS, variantOf, type NormFreeSummary, type NormFreeTunedSummary } from "./norm-free";
import type { RunRecord } from "./runner";
import type { VitFashionConfig, VitRunResult } from "./protocol/legacy";

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

/** Validation accuracy vs learning rate for each method's tuning grid (tuning seed; diverged runs left out). */
export function lrTuningFigure(tuned: NormFreeTunedSummary, scale: string): Figure {
  return scatterFigure(
    tuned.tuning.map((t) => {
      const pts = t.grid.flatMap((g) => (g.valAcc === null ? [] : [{ lr: g.lr, acc: g.valAcc }]));
      return { name: NORM_FREE_VARIANTS[t.variant]?.label ?? t.variant, x: pts.map((g) => g.lr), y: pts.map((g) => g.acc), mode: "lines+markers" as const };
    }),
    { title: `Per-method lr tuning (${scale}, seed ${tuned.tuningSeed}): final validation accuracy`, xLabel: "learning rate", yLabel: "validation accuracy (%)", logX: true },
  );
}

/** Shared-lr vs tuned-lr test accuracy per method, side by side. */
export function tunedTable(shared: NormFreeSummary, tuned: NormFreeTunedSummary): Row[] {
  return tuned.byVariant.map((b) => {
    const s = shared.byVariant.find((x) => x.variant === b.variant);
    const t = tuned.tuning.find((x) => x.variant === b.variant);
    return {
      method: b.label,
      "tuned lr": t ? t.bestLr : "-",
      "test acc % at tuned lr": b.scoredAcc.mean,
      "std (tuned)": b.scoredAcc.std,
      "diverged (tuned)": b.diverged,
      "test acc % at shared lr": s ? s.scoredAcc.mean : "-",
      "paper ViT-B top-1 %": b.paperViTB ?? "-",
    };
  });
}
