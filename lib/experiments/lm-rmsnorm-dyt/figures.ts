import { lossTuningFigure } from "../protocol/arm-figures";
import { curvesFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { armRowHead } from "../protocol/arm-figures";
import type { LmProtocolRecord } from "../protocol/runner";
import type { LmArmRuns, LmRmsnormDytSummary } from "./spec";
import { fixed } from "../../util/format";

const evalRuns = (records: readonly LmProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: LmProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** Training loss (nats per token) against the step, per arm: mean ± std over seeds. */
export function trainLossFigure(records: readonly LmProtocolRecord[], s: Pick<LmRmsnormDytSummary, "scale">): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "training loss (nats/token)", title: `Training loss (${s.scale}), mean ± std over seeds`, band: "std", smooth: 0.6 },
  );
}

/** Held-out (validation) bits per byte against the step, per arm: mean ± std over seeds, with the unigram baseline. */
export function heldOutFigure(records: readonly LmProtocolRecord[], s: Pick<LmRmsnormDytSummary, "scale">): Figure {
  const fig = curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.filter((e) => e.bpb !== undefined).map((e) => ({ x: e.step, y: e.bpb! })) })),
    { metric: "validation bits per byte", title: `Held-out loss (${s.scale}): validation bits per byte, mean ± std over seeds`, band: "std", showSeeds: true },
  );
  const steps = evalRuns(records).flatMap((r) => r.result.evals.map((e) => e.step));
  const u = records.find((r) => r.role === "eval")?.result.baselines.val.unigramBpb;
  if (steps.length && u !== undefined)
    fig.data.push({ type: "scatter", mode: "lines", name: "unigram baseline", x: [Math.min(...steps), Math.max(...steps)], y: [u, u], line: { color: "#888", dash: "dot" } });
  return fig;
}

/** lr tuning: final validation bits per byte against lr, one line per arm (named by arm id). */
export function lmTuningFigure(s: LmRmsnormDytSummary): Figure {
  return lossTuningFigure({ picks: s.picks, scale: s.scale }, { value: (g) => g.valBpb, yLabel: "final validation bits per byte (lower is better)" });
}

const f3 = fixed(3);

/** One row per arm: lr and how it was chosen, test bpb per seed and mean, run classes, plateau, final alpha. */
export function lmArmTable(s: { arms: readonly LmArmRuns[] }): Row[] {
  return s.arms.map((a) => {
    const v = a.bpbs.filter(Number.isFinite);
    return {
      ...armRowHead(a),
      "test bpb per seed": a.bpbs.map(f3).join(" / "),
      "test bpb (mean)": v.length ? f3(v.reduce((x, y) => x + y, 0) / v.length) : "—",
      "run classes": a.classes.join(", "),
      "val-bpb fall, last third": a.lateGain.map(f3).join(" / "),
      plateaued: a.plateaued.every(Boolean) ? "yes" : "no",
      "final α (mean)": f3(a.meanFinalAlpha),
      params: a.params,
    };
  });
}
