import { barFigure, curvesFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { LmProtocolRecord } from "../protocol/runner";
import { QUANT_SCHEMES } from "../quantization/measure";
import { tensorStatFigure } from "../quantization/figures";
import { lmQuantPoints, type LmQuantSummary } from "./spec";

const armLabel = (label: string, width: number) => `${label}, width ${width}`;

/** Test-bpb increase under each scheme, one bar per (arm, width), mean ± std over seeds. */
export function lmQuantIncreaseFigure(s: LmQuantSummary): Figure {
  return barFigure(
    {
      categories: [...QUANT_SCHEMES],
      series: s.byWidth.flatMap((w) => w.arms.map((a) => ({ name: armLabel(a.label, w.width), values: QUANT_SCHEMES.map((q) => a.increase[q]!.mean), errors: QUANT_SCHEMES.map((q) => a.increase[q]!.std) }))),
    },
    { title: `Test bits per byte lost to post-training quantisation (${s.scale}), mean ± std over seeds`, yLabel: "quantised − fp32 test bpb" },
  );
}

/** An outlier measure over training, one line per (arm, width), mean ± std over seeds. */
export function lmOutlierTrackFigure(records: readonly LmProtocolRecord[], s: LmQuantSummary, stat: "outliersAbs" | "maxOverRms" = "outliersAbs"): Figure {
  const runs = records
    .filter((r) => r.role === "eval")
    .map((r) => ({
      label: armLabel(r.label, r.config.model.dim),
      points: lmQuantPoints(r).map((p) => ({ x: p.step, y: stat === "outliersAbs" ? p.outliersAbs.count : Math.max(...p.tensors.map((t) => t.maxOverRms)) })),
    }))
    .sort((a, b) => (a.label < b.label ? -1 : 1));
  const metric = stat === "outliersAbs" ? "outlier features (LLM.int8(), |x| ≥ 6)" : "max |X| / RMS over tracked inputs";
  return curvesFigure(runs, { metric, title: `${metric} over training (${s.scale}), on a fixed batch of test windows`, band: "std", showSeeds: true });
}

/** Kurtosis or max|X|/RMS of each tracked input at the end of training, per (arm, width). */
export function lmTensorFigure(records: readonly LmProtocolRecord[], stat: "kurtosis" | "maxOverRms", scale: string): Figure {
  const ev = records.filter((r) => r.role === "eval");
  const keys = [...new Set(ev.map((r) => `${r.arm}@${r.config.model.dim}`))];
  const groups = keys.map((k) => {
    const rs = ev.filter((r) => `${r.arm}@${r.config.model.dim}` === k);
    return { name: armLabel(rs[0]!.label, rs[0]!.config.model.dim), runs: rs.map((r) => lmQuantPoints(r).at(-1)?.tensors ?? []) };
  });
  const title = stat === "kurtosis" ? `Kurtosis of each Linear's input at the end of training (Gaussian = 3) (${scale})` : `max|X| / RMS(X) of each Linear's input at the end of training (${scale})`;
  return tensorStatFigure(groups, stat, title, stat === "kurtosis" ? "kurtosis" : "max |X| / RMS");
}

export function lmQuantTable(s: LmQuantSummary): Row[] {
  return s.byWidth.flatMap((w) =>
    w.arms.map((a) => {
      const row: Row = { arm: a.label, width: w.width, lr: a.lr, seeds: a.perSeed.map((p) => p.seed).join(","), "fp32 test bpb": a.fp32Bpb.mean };
      for (const q of QUANT_SCHEMES) row[`+bpb ${q}`] = a.increase[q]!.mean;
      return row;
    }),
  );
}

export function lmOutlierTable(s: LmQuantSummary): Row[] {
  return s.byWidth.flatMap((w) =>
    w.arms.map((a) => ({
      arm: a.label,
      width: w.width,
      "outlier features |x|≥6": a.outliersAbs.mean,
      "outlier features ≥6·RMS": a.outliersRel.mean,
      "mean kurtosis": a.kurtosis.mean,
      "max |X|/RMS": a.maxOverRms.mean,
    })),
  );
}
