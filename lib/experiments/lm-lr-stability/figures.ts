import { curvesFigure } from "../../plot/figures";
import { learnedHeatmap } from "../lr-stability/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { LmProtocolRecord } from "../protocol/runner";
import { fixed } from "../../util/format";
import type { LmLrRunSummary, LmLrStabilitySummary } from "./spec";

const e1 = (x: number | null | undefined) => (x === null || x === undefined ? "none" : x.toExponential(1));
const f3 = fixed(3);

/**
 * Final test bits per byte against the peak lr, one line per arm (runs with
 * no finite result drawn at the uniform rate, 8 bits), the fraction of runs
 * that learned per (arm, lr), and the largest gradient norm against the lr.
 */
export function lmLrFigures(s: LmLrStabilitySummary): { bpb: Figure; learned: Figure; gradNorm: Figure } {
  const cap = Number.isFinite(s.baselines.uniformBpb) ? s.baselines.uniformBpb : 8;
  const series = (value: (r: LmLrRunSummary) => number) =>
    s.byArm.map((b) => ({ label: b.label, points: s.runs.filter((r) => r.arm === b.arm).sort((x, y) => x.lr - y.lr).map((r) => ({ x: r.lr, y: value(r) })) }));
  const bpb = curvesFigure(series((r) => (Number.isFinite(r.testBpb) ? Math.min(r.testBpb, cap) : cap)), {
    metric: "final test bits per byte (no result = uniform rate)",
    x: "peak learning rate",
    logX: true,
    title: `Test bits per byte vs learning rate (${s.scale}; unigram ${f3(s.baselines.unigramBpb)})`,
  });
  const gradNorm = curvesFigure(series((r) => r.maxGradNorm), { metric: "max gradient norm (before clipping)", x: "peak learning rate", logX: true, logY: true, title: `Largest gradient norm during training (${s.scale})` });
  const learned = learnedHeatmap(s.byArm, `Runs that learned (${s.scale}; the rest diverged or stayed near the unigram rate; blank = not run)`, ".0f");
  return { bpb, learned, gradNorm };
}

/** Training loss (nats per byte) against the step for every run of `arms` (default the claim's two and the α₀ variant), one line per (arm, lr). */
export function lmLrCurvesFigure(records: readonly LmProtocolRecord[], s: Pick<LmLrStabilitySummary, "scale" | "byArm">, arms: readonly string[] = s.byArm.filter((b) => b.role !== "norm-free").map((b) => b.arm)): Figure {
  const rs = records.filter((r) => arms.includes(r.arm)).sort((a, b) => a.arm.localeCompare(b.arm) || a.config.train.lr - b.config.train.lr);
  return curvesFigure(
    rs.map((r) => ({ label: `${r.label}, lr ${e1(r.config.train.lr)}`, points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "training loss (nats/byte)", title: `Training loss at every lr (${s.scale})`, smooth: 0.6 },
  );
}

/** Per arm: stable range, best lr and bpb, near-optimal interval, where it broke, diverged runs and spikes. */
export function lmLrTable(s: LmLrStabilitySummary): Row[] {
  return s.byArm.map((b) => ({
    method: b.label,
    role: b.role,
    "learned at": b.strict.stable ? `${e1(b.strict.stable.lo)} .. ${e1(b.strict.stable.hi)}` : "none",
    "bracketed above": b.strict.stable ? (b.strict.stable.bracketedAbove ? "yes" : "no") : "-",
    "best lr": e1(b.strict.bestLr),
    "best test bpb": b.strict.bestBpb,
    [`near-optimal (≤ ${f3(s.rule.nearOptimalBpb)} bpb above best)`]: b.strict.nearOptimal ? `${e1(b.strict.nearOptimal.lo)} .. ${e1(b.strict.nearOptimal.hi)}` : "none",
    "near-optimal (decades)": b.strict.nearOptimal ? b.strict.nearOptimal.decades : NaN,
    "first lr above": b.breaksAt ? `${e1(b.breaksAt.lr)}: ${b.breaksAt.class}${Number.isFinite(b.breaksAt.testBpb) ? `, ${f3(b.breaksAt.testBpb)} bpb (${f3(b.breaksAt.missedBy)} over the threshold)` : ""}` : "-",
    diverged: b.grid.reduce((a, p) => a + p.diverged, 0),
    spikes: b.spikes,
  }));
}
