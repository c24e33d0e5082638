import { curvesFigure, heatmapFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { LrRunSummary, LrStabilitySummary } from "./spec";

/**
 * Test accuracy vs lr (runs without one at chance), final loss vs lr (capped
 * at ln 10), fraction of seeds that learned per (arm, lr), and the largest
 * gradient norm vs lr.
 */
export function lrStabilityFigures(s: LrStabilitySummary): { accuracy: Figure; loss: Figure; learned: Figure; gradNorm: Figure } {
  const l0 = Math.log(10);
  const series = (value: (r: LrRunSummary) => number) =>
    [...new Set(s.runs.map((r) => `${r.arm}|${r.seed}`))].map((key) => {
      const rs = s.runs.filter((r) => `${r.arm}|${r.seed}` === key).sort((a, b) => a.lr - b.lr);
      return { label: rs[0]!.label, points: rs.map((r) => ({ x: r.lr, y: value(r) })) };
    });
  const accuracy = curvesFigure(series((r) => (Number.isFinite(r.testAcc) ? r.testAcc : 10)), {
    metric: "test accuracy % (no result = chance)",
    x: "peak learning rate",
    logX: true,
    band: "minmax",
    title: `Test accuracy vs learning rate (${s.scale})`,
  });
  const loss = curvesFigure(series((r) => (Number.isFinite(r.finalLoss) ? Math.min(r.finalLoss, l0) : l0)), {
    metric: "final train loss (capped at ln 10)",
    x: "peak learning rate",
    logX: true,
    band: "minmax",
    title: `Final loss vs learning rate (${s.scale})`,
  });
  const gradNorm = curvesFigure(series((r) => r.maxGradNorm), { metric: "max gradient norm (before clipping)", x: "peak learning rate", logX: true, logY: true, band: "minmax", title: `Largest gradient norm during training (${s.scale})` });
  const learned = learnedHeatmap(s.byArm, `Fraction of seeds that learned (${s.scale}; the rest diverged or stayed near chance)`, ".2f");
  return { accuracy, loss, learned, gradNorm };
}

/**
 * The fraction of runs that learned per (arm, lr): one row per arm, one
 * column per lr any arm ran (blank where an arm did not run it). Shared by
 * the ViT and LM lr sweeps.
 */
export function learnedHeatmap(arms: readonly { label: string; grid: readonly { lr: number; learned: number; runs: number }[] }[], title: string, annotate: string): Figure {
  const lrs = [...new Set(arms.flatMap((b) => b.grid.map((g) => g.lr)))].sort((a, b) => a - b);
  return heatmapFigure(
    {
      z: arms.map((b) => lrs.map((lr) => {
        const p = b.grid.find((g) => g.lr === lr);
        return p ? p.learned / p.runs : NaN;
      })),
      x: lrs.map((lr) => lr.toExponential(1)),
      y: arms.map((b) => b.label),
    },
    { title, xLabel: "peak learning rate", zLabel: "learned", zmin: 0, zmax: 1, annotate, colorscale: "Greens" },
  );
}

const e1 = (x: number | null | undefined) => (x === null || x === undefined ? "none" : x.toExponential(1));

/** Per arm: stable range (every seed learned), best lr, near-optimal interval, spikes. */
export function lrStabilityTable(s: LrStabilitySummary): Row[] {
  return s.byArm.map((b) => ({
    method: b.label,
    "stable range (all seeds learned)": b.strict.stable ? `${e1(b.strict.stable.lo)} .. ${e1(b.strict.stable.hi)}` : "none",
    "bracketed above": b.strict.stable ? (b.strict.stable.bracketedAbove ? "yes" : "no") : "-",
    "best lr": e1(b.strict.bestLr),
    "best test acc %": b.strict.bestAcc,
    [`near-optimal (≤${s.rule.nearOptimalPoints} pts below best)`]: b.strict.nearOptimal ? `${e1(b.strict.nearOptimal.lo)} .. ${e1(b.strict.nearOptimal.hi)}` : "none",
    "near-optimal (decades)": b.strict.nearOptimal ? b.strict.nearOptimal.decades : NaN,
    diverged: b.grid.reduce((a, p) => a + p.diverged, 0),
    "did not learn": b.grid.reduce((a, p) => a + p.didNotLearn, 0),
    "loss spikes": b.spikes,
    runs: b.runs,
  }));
}
