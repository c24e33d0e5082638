import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { maeAccuracyFigure, maeHeldOutFigure, maeReconFigure, maeTuningFigure } from "./figures";
import { MAE_LN_DYT, runMaeLnDyt, type MaeSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/27-mae-ln-dyt.ipynb";
const PAPER = "MAE on ImageNet, fine-tuned top-1: ViT-B 83.2 (LN) / 83.2 (DyT), ViT-L 85.5 / 85.4 (paper.md, Results)";

export const maeLnDytEntry: ExperimentEntry = {
  name: MAE_LN_DYT,
  description: "masked autoencoder (the lab's ViT as encoder) pretrained on Fashion-MNIST without labels, LayerNorm vs DyT in every norm of encoder and decoder at each one's tuned lr, then fine-tuned and linearly probed, paired over seeds (claim 2, MAE)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runMaeLnDyt(ctx);
    const first = (arm: string) => out.records.filter((r) => r.role === "eval" && r.arm === arm).sort((a, b) => a.seed - b.seed)[0];
    const recon = Object.fromEntries(
      out.summary.arms.flatMap((a) => {
        const r = first(a.arm);
        return r ? [[`recon-${a.arm}`, maeReconFigure(r)]] : [];
      }),
    );
    await saveFigures(MAE_LN_DYT, ctx.scale, { "held-out": maeHeldOutFigure(out.records, out.summary), tuning: maeTuningFigure(out.summary), accuracy: maeAccuracyFigure(out.summary), ...recon });
    return out;
  },
  claims: (raw) => {
    const s = raw as MaeSummary;
    const [a, b] = s.arms;
    const row = (c: MaeSummary["finetune"]) => ({ outcome: c.verdict, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) });
    return [
      claimRow(row(s.finetune), {
        id: "MAE-ft",
        claim: `${a.label} matches ${b.label} in MAE: fine-tuned test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, each pretrained at its own tuned lr, paired over seeds`,
        paper: PAPER,
        ours: `${s.finetune.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
      claimRow(row(s.probe), {
        id: "MAE-probe",
        claim: `${a.label} matches ${b.label} in MAE's frozen features: a linear probe's test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, paired over seeds`,
        paper: `${PAPER}; the paper reports no linear probe`,
        ours: `${s.probe.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
