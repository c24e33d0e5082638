import { barFigure, curvesFigure, scatterFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { ArmSeeds } from "../protocol/compare";
import type { ProtocolRecord } from "../protocol/runner";
import type { Claim8Comparison, NormFreeSummary } from "./spec";
import { fixed } from "../../util/format";

const finite = (xs: number[]) => xs.filter(Number.isFinite);
const meanOf = (xs: number[]) => (finite(xs).length ? finite(xs).reduce((a, b) => a + b, 0) / finite(xs).length : NaN);
const stdOf = (xs: number[]) => {
  const v = finite(xs);
  const m = meanOf(v);
  return v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
};
const learned = (a: ArmSeeds | undefined) => (a ? `${a.classes.filter((c) => c === "learned").length}/${a.classes.length}` : "-");

/**
 * Training loss and validation accuracy per arm at its tuned lr (mean ± std
 * over seeds; `from: "shared"` for the shared-lr runs), and test-accuracy bars
 * at both lrs.
 */
export function normFreeFigures(records: readonly ProtocolRecord[], summary: NormFreeSummary, scale: string, from: "tuned" | "shared" = "tuned"): { loss: Figure; acc: Figure; bars: Figure } {
  const rs = records.filter((r) => r.role === "eval" && (r.axes.lrFrom === from || (from === "shared" && r.axes.lrFrom === "tuned" && r.config.train.lr === summary.sharedLr)));
  const at = from === "tuned" ? "each at its tuned lr" : `at ${summary.sharedLrArm}'s lr ${summary.sharedLr}`;
  const loss = curvesFigure(
    rs.map((r) => ({ label: r.label, points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "train loss", title: `Norms vs norm-free methods, ${at} (${scale}): training loss`, band: "std", smooth: 0.6 },
  );
  const acc = curvesFigure(
    rs.map((r) => ({ label: r.label, points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `Norms vs norm-free methods, ${at} (${scale}): validation accuracy`, band: "std" },
  );
  const bars = barFigure(
    {
      categories: summary.arms.map((a) => a.label),
      series: [
        { name: "each at its tuned lr", values: summary.arms.map((a) => meanOf(a.tuned.accs)), errors: summary.arms.map((a) => stdOf(a.tuned.accs)) },
        { name: `at ${summary.sharedLrArm}'s lr ${summary.sharedLr}`, values: summary.arms.map((a) => (a.shared ? meanOf(a.shared.accs) : NaN)), errors: summary.arms.map((a) => (a.shared ? stdOf(a.shared.accs) : 0)) },
      ],
    },
    { title: `Fashion-MNIST test accuracy, mean ± std over seeds (${scale}; diverged runs have none)`, yLabel: "test accuracy (%)" },
  );
  return { loss, acc, bars };
}

/** The paper's Table-9 layout: one row per arm, ours (at its tuned lr) beside the paper's ViT-B ImageNet top-1. */
export function normFreeTable(summary: NormFreeSummary): Row[] {
  return summary.arms.map((a) => ({
    method: a.label,
    "tuned lr": a.pick.bestLr,
    "at grid edge": a.pick.atEdge ? "yes" : "no",
    seeds: a.tuned.seeds.join(","),
    learned: learned(a.tuned),
    "test acc % (mean)": meanOf(a.tuned.accs),
    "std over seeds": stdOf(a.tuned.accs),
    plateaued: `${a.plateaued}/${a.tuned.seeds.length}`,
    "paper ViT-B top-1 %": a.paperViTB ?? "-",
    "ms/step": Math.round(a.msPerStep),
  }));
}

const f2 = fixed(2);

/** Claim 8's comparisons (tuned lrs by default; "shared" for the secondary rows): effect, 95 % CI, n, detectable effect, outcome. */
export function normFreeComparisonTable(summary: NormFreeSummary, which: "tuned" | "shared" = "tuned"): Row[] {
  const cs: Claim8Comparison[] = which === "tuned" ? summary.comparisons : summary.sharedComparisons;
  return cs.map((c) => {
    const e = c.evidence;
    return {
      claim: `DyT ${c.prediction} ${c.b.label}`,
      "DyT lr": c.a.lr,
      [`other lr`]: c.b.lr,
      "diff (pts)": e ? f2(e.test.mean) : "—",
      "95 % CI": e ? `[${f2(e.test.ci[0])}, ${f2(e.test.ci[1])}]` : "—",
      n: e ? e.test.n : c.seeds.length,
      "detectable (pts)": e ? f2(e.test.detectable) : "—",
      outcome: c.outcome,
      reason: c.reason,
    };
  });
}

/** Validation accuracy vs lr for each arm's tuning grid (tuning seed; runs that did not learn left out). */
export function lrTuningFigure(summary: NormFreeSummary, scale: string): Figure {
  return scatterFigure(
    summary.arms.map((a) => {
      const pts = a.pick.grid.flatMap((g) => (g.valAcc === null ? [] : [{ lr: g.lr, acc: g.valAcc }]));
      return { name: a.label, x: pts.map((g) => g.lr), y: pts.map((g) => g.acc), mode: "lines+markers" as const };
    }),
    { title: `Per-arm lr tuning (${scale}, seed ${summary.tuningSeed}): final validation accuracy`, xLabel: "learning rate", yLabel: "validation accuracy (%)", logX: true },
  );
}

/** Shared-lr vs tuned-lr test accuracy per arm, side by side. */
export function tunedTable(summary: NormFreeSummary): Row[] {
  return summary.arms.map((a) => ({
    method: a.label,
    "tuned lr": a.pick.bestLr,
    "test acc % at tuned lr": meanOf(a.tuned.accs),
    "learned (tuned)": learned(a.tuned),
    [`test acc % at lr ${summary.sharedLr}`]: a.shared ? meanOf(a.shared.accs) : "-",
    "learned (shared)": learned(a.shared),
    "paper ViT-B top-1 %": a.paperViTB ?? "-",
  }));
}
