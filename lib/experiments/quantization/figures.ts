import { barFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import { QUANT_SCHEMES } from "./measure";
import type { QuantizationSummary, QuantRecord } from "./spec";

/** Per-tensor statistic (mean over seeds) for each arm, one bar group per tracked tensor. */
function perTensorFigure(records: QuantRecord[], stat: "kurtosis" | "maxOverRms", title: string, yLabel: string): Figure {
  const arms = [...new Set(records.map((r) => r.arm))];
  const tensors = (r: QuantRecord) => r.result.quant?.tensors ?? [];
  const keys = [...new Set(records.flatMap((r) => tensors(r).map((t) => `L${t.layer} ${t.tensor}`)))];
  return barFigure(
    {
      categories: keys,
      series: arms.map((a) => {
        const rs = records.filter((r) => r.arm === a);
        const per = keys.map((k) => meanStd(rs.flatMap((r) => tensors(r).filter((t) => `L${t.layer} ${t.tensor}` === k).map((t) => t[stat]))));
        return { name: rs[0]!.label, values: per.map((p) => p.mean), errors: per.map((p) => p.std) };
      }),
    },
    { title, yLabel, xLabel: "block, Linear whose input is measured" },
  );
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
