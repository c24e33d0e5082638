import { lossTuningFigure } from "../protocol/arm-figures";
import { barFigure, curvesFigure, paletteColor } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { finiteMeanStd } from "../protocol/pretrain-probe";
import type { DinoProtocolRecord } from "../protocol/runner";
import type { DinoSummary } from "./spec";

const evalRuns = (records: readonly DinoProtocolRecord[]) => records.filter((r) => r.role === "eval");
const runLabel = (r: DinoProtocolRecord) => `${r.label} (lr ${r.config.train.lr})`;

/** The teacher's validation k-NN accuracy against the step, per arm: mean ± std over seeds. */
export function dinoKnnFigure(records: readonly DinoProtocolRecord[], s: DinoSummary): Figure {
  return curvesFigure(
    evalRuns(records).map((r) => ({ label: runLabel(r), points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "teacher k-NN accuracy, validation (%)", title: `DINO (${s.scale}): the teacher's k-NN accuracy during training, mean ± std over seeds`, band: "std", showSeeds: true },
  );
}

/** The collapse check: the teacher's mean per-image output entropy and the entropy of its mean output, against the step (nats). */
export function dinoEntropyFigure(records: readonly DinoProtocolRecord[], s: DinoSummary): Figure {
  const series = evalRuns(records).flatMap((r) => [
    { label: `${runLabel(r)}: per image`, points: r.result.evals.map((e) => ({ x: e.step, y: e.stats?.teacherEntropy ?? NaN })) },
    { label: `${runLabel(r)}: mean output`, points: r.result.evals.map((e) => ({ x: e.step, y: e.stats?.marginalEntropy ?? NaN })) },
  ]);
  return curvesFigure(series, { metric: `teacher output entropy, validation (nats; ln K = ${(s.arms[0].lnOutDim || NaN).toFixed(2)})`, title: `DINO (${s.scale}): collapse check — near 0 for the mean output is one prototype for all, near ln K per image is uniform`, band: "std" });
}

/** lr tuning: the teacher's final validation k-NN accuracy against lr, per arm. */
export function dinoTuningFigure(s: DinoSummary): Figure {
  return lossTuningFigure(s, { value: (g) => g.valAcc, yLabel: "final validation k-NN accuracy (%; runs that did not learn left out)" });
}

/** k-NN and linear-probe test accuracy per arm (mean ± std over seeds), each beside the same network at initialisation. */
export function dinoAccuracyFigure(s: DinoSummary): Figure {
  const m = (v: number[]) => finiteMeanStd(v);
  const series = (name: string, pick: (a: DinoSummary["arms"][number]) => number[], i: number) => ({ name, values: s.arms.map((a) => m(pick(a)).mean), errors: s.arms.map((a) => m(pick(a)).std), color: paletteColor(i) });
  return barFigure(
    { categories: s.arms.map((a) => a.label), series: [series("k-NN", (a) => a.accs, 0), series("k-NN at initialisation", (a) => a.knnInitAccs, 1), series("linear probe", (a) => a.probeAccs, 2), series("probe at initialisation", (a) => a.probeInitAccs, 3)] },
    { title: `DINO downstream (${s.scale}): test accuracy of the teacher's features, mean ± std over seeds`, yLabel: "test accuracy (%)" },
  );
}

/** One row per arm: lr, k-NN and probe accuracy (and at init), entropies, final alpha. */
export function dinoTable(s: DinoSummary): Row[] {
  return s.arms.map((a) => ({
    arm: a.label,
    lr: a.lr,
    "k-NN %": finiteMeanStd(a.accs).mean,
    "k-NN at init %": finiteMeanStd(a.knnInitAccs).mean,
    "probe %": finiteMeanStd(a.probeAccs).mean,
    "probe at init %": finiteMeanStd(a.probeInitAccs).mean,
    "entropy / image": finiteMeanStd(a.teacherEntropies).mean,
    "entropy of mean": finiteMeanStd(a.marginalEntropies).mean,
    collapsed: a.collapsed.filter(Boolean).length,
    "final α": a.meanFinalAlpha ?? NaN,
    seeds: a.seeds.length,
    "ms/step": a.msPerStep,
  }));
}
