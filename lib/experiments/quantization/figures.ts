import { barFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import { QUANT_SCHEMES, type TensorStats } from "./measure";
import type { QuantizationSummary, QuantRecord } from "./spec";

/** One bar series of a per-tensor figure: a label and the tracked-tensor statistics of each of its runs (seeds). */
export interface TensorStatGroup {
  name: string;
  runs: readonly (readonly TensorStats[])[];
}

/** Per-tensor statistic (mean ± std over a group's runs), one bar group per tracked tensor ("L<block> <linear>"): any model measured with measure.ts. */
export function tensorStatFigure(groups: readonly TensorStatGroup[], stat: "kurtosis" | "maxOverRms", title: string, yLabel: string): Figure {
  const key = (t: TensorStats) => `L${t.layer} ${t.tensor}`;
  const keys = [...new Set(groups.flatMap((g) => g.runs.flatMap((r) => r.map(key))))];
  return barFigure(
    {
      categories: keys,
      series: groups.map((g) => {
        const per = keys.map((k) => meanStd(g.runs.flatMap((r) => r.filter((t) => key(t) === k).map((t) => t[stat]))));
        return { name: g.name, values: per.map((p) => p.mean), errors: per.map((p) => p.std) };
      }),
    },
    { title, yLabel, xLabel: "block, Linear whose input is measured" },
  );
}

/** Per-tensor statistic (mean over seeds) for each arm, one bar group per tracked tensor. */
function perTensorFigure(records: QuantRecord[], stat: "kurtosis" | "maxOverRms", title: string, yLabel: string): Figure {
  const arms = [...new Set(records.map((r) => r.arm))];
  const groups = arms.map((a) => {
    const rs = records.filter((r) => r.arm === a);
    return { name: rs[0]!.label, runs: rs.map((r) => r.result.quant?.tensors ?? []) };
  });
  return tensorStatFigure(groups, stat, title, yLabel);
}

export function quantizationFigures(records: QuantRecord[], summary: QuantizationSummary, scale: string): { drop: Figure; kurtosis: Figure; maxOverRms: Figure } {
  const drop = barFigure(
    {
      categories: [...QUANT_SCHEMES],
      series: summary.byArm.map((b) => ({ name: b.label, values: QUANT_SCHEMES.map((s) => b.drop[s]!.mean), errors: QUANT_SCHEMES.map((s) => b.drop[s]!.std) })),
    },
    { title: `Test accuracy lost to post-training quantisation (${scale}), each arm at its tuned lr, mean ± std over seeds`, yLabel: "fp32 − quantised accuracy (points)" },
  );
  return {
    drop,
    kurtosis: perTensorFigure(records, "kurtosis", `Kurtosis of each Linear's input (Gaussian = 3) (${scale})`, "kurtosis"),
    maxOverRms: perTensorFigure(records, "maxOverRms", `max|X| / RMS(X) of each Linear's input (${scale})`, "max|X| / RMS"),
  };
}

export function quantizationTable(summary: QuantizationSummary): Row[] {
  return summary.byArm.map((b) => {
    const row: Row = { arm: b.label, lr: b.lr, seeds: b.perSeed.map((p) => p.seed).join(","), "fp32 test acc %": b.fp32Acc.mean };
    for (const s of QUANT_SCHEMES) row[`drop ${s}`] = b.drop[s]!.mean;
    return row;
  });
}

export function outlierTable(summary: QuantizationSummary): Row[] {
  return summary.byArm.map((b) => ({
    arm: b.label,
    "outlier features |x|≥6": b.outliersAbs.mean,
    "outlier features ≥6·RMS": b.outliersRel.mean,
    "mean kurtosis": b.kurtosis.mean,
    "max |X|/RMS": b.maxOverRms.mean,
  }));
}
