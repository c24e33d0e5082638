import { lossTuningFigure } from "../protocol/arm-figures";
import { barFigure, curvesFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import { armRowHead, armRowTail } from "../protocol/arm-figures";
import type { DnaProtocolRecord } from "../protocol/runner";
import type { DnaHyenaSummary } from "./spec";
import { fixed } from "../../util/format";

const evalRuns = (records: readonly DnaProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: DnaProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** Training loss (nats per base) against the step, per arm: mean ± std over seeds. */
export function dnaTrainLossFigure(records: readonly DnaProtocolRecord[], s: DnaHyenaSummary): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "training loss (nats per base)", title: `HyenaDNA pretraining loss (${s.scale}), mean ± std over seeds`, band: "std", smooth: 0.6 },
  );
}

/** Validation bits per base against the step, per arm (mean ± std over seeds), with the unigram and Markov baselines. */
export function dnaHeldOutFigure(records: readonly DnaProtocolRecord[], s: DnaHyenaSummary): Figure {
  const fig = curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.filter((e) => e.bpb !== undefined).map((e) => ({ x: e.step, y: e.bpb! })) })),
    { metric: "validation bits per base", title: `Held-out loss (${s.scale}): validation bits per base, mean ± std over seeds`, band: "std", showSeeds: true },
  );
  const steps = evalRuns(records).flatMap((r) => r.result.evals.map((e) => e.step));
  const b = records.find((r) => r.role === "eval")?.result.baselines.val;
  if (steps.length && b) {
    const x = [Math.min(...steps), Math.max(...steps)];
    fig.data.push({ type: "scatter", mode: "lines", name: "unigram baseline", x, y: [b.unigramBpb, b.unigramBpb], line: { color: "#888", dash: "dot" } });
    fig.data.push({ type: "scatter", mode: "lines", name: `order-${b.markovOrder} Markov baseline`, x, y: [b.markovBpb, b.markovBpb], line: { color: "#555", dash: "dash" } });
  }
  return fig;
}

/** lr tuning: final validation bits per base against lr, one line per arm (runs that did not learn are gaps). */
export function dnaTuningFigure(s: DnaHyenaSummary): Figure {
  return lossTuningFigure(s, { value: (g) => g.valBpb, yLabel: "final validation bits per base (lower is better)" });
}

/** Downstream probe test accuracy per arm, pretrained vs at initialisation: mean ± std over seeds. */
export function dnaProbeFigure(s: DnaHyenaSummary): Figure {
  const m = (v: number[]) => {
    const x = meanStd(v.filter(Number.isFinite));
    return x.n ? x : { mean: NaN, std: NaN };
  };
  const cats = s.arms.map((a) => a.label);
  return barFigure(
    {
      categories: cats,
      series: [
        { name: "pretrained", values: s.arms.map((a) => m(a.probeAccs).mean), errors: s.arms.map((a) => m(a.probeAccs).std) },
        { name: "at initialisation", values: s.arms.map((a) => m(a.probeInitAccs).mean), errors: s.arms.map((a) => m(a.probeInitAccs).std) },
      ],
    },
    { title: `Linear probe on frozen features, "${s.probeTask}" (${s.scale}); majority class ${Number.isFinite(s.probeMajorityAcc) ? s.probeMajorityAcc.toFixed(1) : "—"} %`, yLabel: "probe test accuracy (%), mean ± std over seeds" },
  );
}

const f4 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(4) : "—");
const f2 = fixed(2);

/** One row per arm: lr and how it was chosen, test bits per base and probe accuracy per seed, run classes, plateau, alpha, cost. */
export function dnaArmTable(s: DnaHyenaSummary): Row[] {
  return s.arms.map((a) => ({
    ...armRowHead(a),
    "test bits/base per seed": a.bpbs.map(f4).join(" / "),
    "probe test acc % per seed": a.probeAccs.map(f2).join(" / "),
    "probe at init %": a.probeInitAccs.map(f2).join(" / "),
    "run classes": a.classes.join(", "),
    "val fall, last third (bits)": a.lateGain.map(f4).join(" / "),
    ...armRowTail(a),
  }));
}
