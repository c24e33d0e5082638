import { baseLayout, curvesFigure, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import { armRowHead, armRowTail } from "../protocol/arm-figures";
import { IMAGE_DATASETS, IMAGE_FAMILY_LABEL, type ImageFamily } from "../protocol/image-task";
import type { ImageProtocolRecord } from "../protocol/runner";
import { describeEffect } from "../protocol/verdict";
import type { FamilyResult, VisionFamiliesSummary } from "./spec";
import { fixed } from "../../util/format";

const evalRuns = (records: readonly ImageProtocolRecord[], family: ImageFamily) => records.filter((r) => r.role === "eval" && r.config.family === family);
const runLabel = (r: ImageProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;
const dsLabel = (s: VisionFamiliesSummary) => IMAGE_DATASETS[s.dataset].label;

/** Validation accuracy against the epoch, per arm of one family: mean ± std over seeds (seeds shown thin). */
export function familyCurvesFigure(records: readonly ImageProtocolRecord[], s: VisionFamiliesSummary, family: ImageFamily): Figure {
  const runs = evalRuns(records, family);
  return curvesFigure(
    runs.map((r) => {
      const perStep = Number(r.axes.epochs ?? 0) / r.config.train.steps;
      return { label: runLabel(r), points: r.result.evals.map((e) => ({ x: perStep > 0 ? e.step * perStep : e.step, y: 100 * e.acc })) };
    }),
    { metric: "validation accuracy (%)", title: `${IMAGE_FAMILY_LABEL[family]} on ${dsLabel(s)} (${s.scale}): validation accuracy, mean ± std over seeds`, band: "std", showSeeds: true, x: "epoch" },
  );
}

/** Training loss against the step, per arm of one family: mean ± std over seeds. */
export function familyLossFigure(records: readonly ImageProtocolRecord[], s: VisionFamiliesSummary, family: ImageFamily): Figure {
  return curvesFigure(
    evalRuns(records, family).map((r) => ({ label: runLabel(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "training loss", title: `${IMAGE_FAMILY_LABEL[family]} on ${dsLabel(s)} (${s.scale}): training loss, mean ± std over seeds`, band: "std", smooth: 0.6 },
  );
}

/** lr tuning: final validation accuracy against lr, one line per family x arm (runs that did not learn are gaps). */
export function visionTuningFigure(s: VisionFamiliesSummary): Figure {
  const data: PlotTrace[] = s.families.flatMap((f, i) =>
    f.picks.map((p, j) => ({
      type: "scatter" as const,
      mode: "lines+markers" as const,
      name: `${f.label} ${f.arms.find((a) => a.arm === p.arm)?.label ?? p.arm} (pick ${p.bestLr}${p.noneLearned ? ", none learned" : p.atEdge ? ", at grid edge" : ""})`,
      x: p.grid.map((g) => g.lr),
      y: p.grid.map((g) => g.valAcc),
      line: { color: paletteColor(i), ...(j > 0 ? { dash: "dash" as const } : {}) },
    })),
  );
  return { data, layout: baseLayout({ title: `lr tuning on validation (tuning seed; ${dsLabel(s)}, ${s.scale})`, xLabel: "learning rate (log scale)", yLabel: "final validation accuracy (%)", logX: true }) };
}

const f2 = fixed(2);

/** One row per family x arm: lr and how it was chosen, test accuracy per seed and mean, run classes, plateau, alpha, cost. */
export function familyArmTable(s: VisionFamiliesSummary): Row[] {
  return s.families.flatMap((f) =>
    f.arms.map((a) => {
      const v = a.accs.filter(Number.isFinite);
      return {
        family: f.label,
        ...armRowHead(a),
        "test acc % per seed": a.accs.map(f2).join(" / "),
        "test acc % (mean)": v.length ? f2(v.reduce((x, y) => x + y, 0) / v.length) : "—",
        "run classes": a.classes.join(", "),
        "val gain, last third (pts)": a.lateGain.map(f2).join(" / "),
        ...armRowTail(a),
      };
    }),
  );
}

/** The verdict table: one row per family, the claim, DyT − baseline with its CI, the detectable effect, the outcome and why. */
export function verdictTable(s: VisionFamiliesSummary): Row[] {
  return s.families.map((f: FamilyResult) => {
    const [a, b] = f.arms;
    const t = f.evidence?.test;
    return {
      family: f.label,
      claim: f.prediction === "matches" ? `${a.label} matches ${b.label} (> −1 pt)` : `${a.label} is worse than ${b.label} (< 0)`,
      [`${a.label} − baseline (pts)`]: f.evidence ? describeEffect(f.evidence) : "—",
      n: t ? t.n : 0,
      "detectable (pts)": t ? f2(t.detectable) : "—",
      plateaued: f.allPlateaued ? "yes" : "no",
      outcome: f.verdict,
      reason: f.reason,
    };
  });
}
