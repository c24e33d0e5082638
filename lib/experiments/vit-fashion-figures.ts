import { alphaTraces } from "../hooks/alpha";
import { alphaTraceFigure, curvesFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { RunRecord } from "./runner";
import type { VitFashionConfig, VitFashionSummary, VitRunResult } from "./vit-fashion";

type Rec = RunRecord<VitFashionConfig, VitRunResult>;
const LABEL: Record<string, string> = { layernorm: "LayerNorm", dyt: "DyT", rmsnorm: "RMSNorm", identity: "no norm" };
const label = (r: Rec) => LABEL[r.config.norms[0]!] ?? r.config.norms[0]!;

/** Train-loss and eval-accuracy curves (mean and spread over seeds) and DyT alpha traces. */
export function vitFashionFigures(records: Rec[], scale: string): { loss: Figure; acc: Figure; alpha: Figure | undefined } {
  const loss = curvesFigure(
    records.map((r) => ({ label: label(r), points: r.result.log.filter((l) => Number.isFinite(l.loss)).map((l) => ({ x: l.step, y: l.loss })) })),
    { metric: "train loss", title: `ViT on Fashion-MNIST (${scale}): training loss`, band: "std", smooth: 0.6 },
  );
  const acc = curvesFigure(
    records.map((r) => ({ label: label(r), points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `ViT on Fashion-MNIST (${scale}): validation accuracy`, band: "std", showSeeds: true },
  );
  const dyt = records.find((r) => r.config.norms[0] === "dyt");
  const alpha = dyt
    ? alphaTraceFigure(alphaTraces(dyt.result.log), { title: `DyT alpha per layer during training (seed ${dyt.seed})` })
    : undefined;
  return { loss, acc, alpha };
}

/** One row per norm: test accuracy mean and spread over seeds, divergences, time. */
export function vitFashionTable(summary: VitFashionSummary): Row[] {
  return summary.byNorm.map((b) => ({
    norm: LABEL[b.norm] ?? b.norm,
    seeds: b.seeds.join(","),
    "test acc % (mean)": b.testAcc.mean,
    "std over seeds": b.testAcc.std,
    diverged: b.diverged,
    "wall time (s)": Math.round(b.wallTimeSec),
  }));
}
