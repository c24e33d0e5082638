import { barFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import { QUANT_SCHEMES, type QuantizationConfig, type QuantizationSummary, type QuantRunResult } from "./quantization";
import type { RunRecord } from "./runner";
import { meanStd } from "./stats-lite";

type Rec = RunRecord<QuantizationConfig, QuantRunResult>;
const LABEL: Record<string, string> = { layernorm: "LayerNorm", dyt: "DyT", rmsnorm: "RMSNorm" };
const label = (n: string) => LABEL[n] ?? n;

/** Per-tensor statistic (mean over seeds) for each norm, one bar group per tracked tensor. */
function perTensorFigure(records: Rec[], stat: "kurtosis" | "maxOverRms", title: string, yLabel: string): Figure {
  const norms = [...new Set(records.map((r) => r.config.norms[0]!))];
  const keys = [...new Set(records.flatMap((r) => r.result.tensors.map((t) => `L${t.layer} ${t.tensor}`)))];
  return barFigure(
    {
      categories: keys,
      series: norms.map((n) => {
        const per = keys.map((k) => meanStd(records.filter((r) => r.config.norms[0] === n).flatMap((r) => r.result.tensors.filter((t) => `L${t.layer} ${t.tensor}` === k).map((t) => t[stat]))));
        return { name: label(n), values: per.map((p) => p.mean), errors: per.map((p) => p.std) };
      }),
    },
    { title, yLabel, xLabel: "block, Linear whose input is measured" },
  );
}

export function quantizationFigures(records: Rec[], summary: QuantizationSummary, scale: string): { drop: Figure; kurtosis: Figure; maxOverRms: Figure } {
  const drop = barFigure(
    {
      categories: [...QUANT_SCHEMES],
      series: summary.byNorm.map((b) => ({ name: label(b.norm), values: QUANT_SCHEMES.map((s) => b.drop[s]!.mean), errors: QUANT_SCHEMES.map((s) => b.drop[s]!.std) })),
    },
    { title: `Test accuracy lost to post-training quantisation (${scale}), mean ± std over seeds`, yLabel: "fp32 − quantised accuracy (points)" },
  );
  return {
    drop,
    kurtosis: perTensorFigure(records, "kurtosis", `Kurtosis of each Linear's input (Gaussian = 3) (${scale})`, "kurtosis"),
    maxOverRms: perTensorFigure(records, "maxOverRms", `max|X| / RMS(X) of each Linear's input (${scale})`, "max|X| / RMS"),
  };
}

export function quantizationTable(summary: QuantizationSummary): Row[] {
  return summary.byNorm.map((b) => {
    const row: Row = { norm: label(b.norm), seeds: b.seeds.join(","), "fp32 test acc %": b.fp32Acc.mean };
    for (const s of QUANT_SCHEMES) row[`drop ${s}`] = b.drop[s]!.mean;
    return row;
  });
}

export function outlierTable(summary: QuantizationSummary): Row[] {
  return summary.byNorm.map((b) => ({
    norm: label(b.norm),
    "outlier features |x|≥6": b.outliersAbs.mean,
    "outlier features ≥6·RMS": b.outliersRel.mean,
    "mean kurtosis": b.kurtosis.mean,
    "max |X|/RMS": b.maxOverRms.mean,
  }));
}
