import { lossTuningFigure } from "../protocol/arm-figures";
import { barFigure, curvesFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import { armRowHead, armRowTail } from "../protocol/arm-figures";
import type { SpeechProtocolRecord } from "../protocol/runner";
import type { Wav2VecSummary } from "./spec";
import { fixed } from "../../util/format";

const evalRuns = (records: readonly SpeechProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: SpeechProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** Training loss (the objective's total, nats) against the step, per arm: mean ± std over seeds. */
export function w2vTrainLossFigure(records: readonly SpeechProtocolRecord[], s: Wav2VecSummary): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "training loss (nats)", title: `wav2vec 2.0 pretraining loss (${s.scale}), mean ± std over seeds`, band: "std", smooth: 0.6 },
  );
}

/** Validation pretraining loss against the step, per arm (mean ± std over seeds), with the chance contrastive loss ln(K + 1). */
export function w2vHeldOutFigure(records: readonly SpeechProtocolRecord[], s: Wav2VecSummary): Figure {
  const fig = curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.map((e) => ({ x: e.step, y: e.loss })) })),
    { metric: "validation pretraining loss (nats)", title: `Held-out loss (${s.scale}): validation pretraining loss, mean ± std over seeds`, band: "std", showSeeds: true },
  );
  const steps = evalRuns(records).flatMap((r) => r.result.evals.map((e) => e.step));
  if (steps.length && Number.isFinite(s.chanceLoss)) {
    const x = [Math.min(...steps), Math.max(...steps)];
    fig.data.push({ type: "scatter", mode: "lines", name: "chance: ln(K + 1)", x, y: [s.chanceLoss, s.chanceLoss], line: { color: "#888", dash: "dot" } });
  }
  return fig;
}

/** Validation contrastive accuracy with ties lost (%) against the step: the learned rule's metric, with chance and the threshold. */
export function w2vAccuracyFigure(records: readonly SpeechProtocolRecord[], s: Wav2VecSummary): Figure {
  const fig = curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.map((e) => ({ x: e.step, y: 100 * ((e as { strictAcc?: number }).strictAcc ?? NaN) })) })),
    { metric: "validation contrastive accuracy, ties lost (%)", title: `Contrastive accuracy (${s.scale}), mean ± std over seeds`, band: "std" },
  );
  const steps = evalRuns(records).flatMap((r) => r.result.evals.map((e) => e.step));
  if (steps.length) {
    const x = [Math.min(...steps), Math.max(...steps)];
    fig.data.push({ type: "scatter", mode: "lines", name: "chance 1/(K + 1)", x, y: [s.chanceAcc, s.chanceAcc], line: { color: "#888", dash: "dot" } });
    fig.data.push({ type: "scatter", mode: "lines", name: "learned threshold", x, y: [s.learnedAcc, s.learnedAcc], line: { color: "#555", dash: "dash" } });
  }
  return fig;
}

/** lr tuning: final validation loss against lr, one line per arm (runs that did not learn are gaps). */
export function w2vTuningFigure(s: Wav2VecSummary): Figure {
  return lossTuningFigure(s, { value: (g) => g.valLoss, yLabel: "final validation pretraining loss (nats; lower is better)" });
}

/** Language-ID probe test accuracy per arm, pretrained vs at initialisation: mean ± std over seeds. */
export function w2vProbeFigure(s: Wav2VecSummary): Figure {
  const m = (v: number[]) => {
    const x = meanStd(v.filter(Number.isFinite));
    return x.n ? x : { mean: NaN, std: NaN };
  };
  return barFigure(
    {
      categories: s.arms.map((a) => a.label),
      series: [
        { name: "pretrained", values: s.arms.map((a) => m(a.probeAccs).mean), errors: s.arms.map((a) => m(a.probeAccs).std) },
        { name: "at initialisation", values: s.arms.map((a) => m(a.probeInitAccs).mean), errors: s.arms.map((a) => m(a.probeInitAccs).std) },
      ],
    },
    { title: `Language-ID linear probe on frozen features (${s.scale}; split ${s.probeSplit})`, yLabel: "probe test accuracy (%), mean ± std over seeds" },
  );
}

const f3 = fixed(3);
const f1 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : "—");

/** One row per arm: lr, test loss, strict and fairseq accuracy, codebook state, probe, classes, plateau, alpha, cost. */
export function w2vArmTable(s: Wav2VecSummary): Row[] {
  return s.arms.map((a) => ({
    ...armRowHead(a),
    "test loss per seed (nats)": a.losses.map(f3).join(" / "),
    "strict acc % per seed": a.strictAccs.map(f1).join(" / "),
    "fairseq acc %": a.fairseqAccs.map(f1).join(" / "),
    "distractors = target": a.distractorsEqual.map(f3).join(" / "),
    "codebook perplexity": a.perplexity.map(f1).join(" / "),
    "probe acc % per seed": a.probeAccs.map(f1).join(" / "),
    "probe at init %": a.probeInitAccs.map(f1).join(" / "),
    "run classes": a.classes.join(", "),
    "val fall, last third (nats)": a.lateGain.map(f3).join(" / "),
    ...armRowTail(a),
  }));
}
