import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { dnaHeldOutFigure, dnaProbeFigure, dnaTrainLossFigure, dnaTuningFigure } from "./figures";
import { DNA_HYENA, runDnaHyena, type DnaHyenaSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/17-dna-hyena.ipynb";
const PAPER = "HyenaDNA / Caduceus on DNA: LN and DyT reach the same downstream accuracy, 85.2 / 86.9 % for both (paper.md, Results)";

export const dnaHyenaEntry: ExperimentEntry = {
  name: DNA_HYENA,
  description: "HyenaDNA-style decoder pretrained on next-nucleotide prediction over 10 Debian genomes, LayerNorm vs DyT at each one's tuned lr, paired over seeds on test bits per base and on a downstream linear probe (coding vs intergenic) (claim 2, DNA)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runDnaHyena(ctx);
    await saveFigures(DNA_HYENA, ctx.scale, {
      "train-loss": dnaTrainLossFigure(out.records, out.summary),
      "held-out": dnaHeldOutFigure(out.records, out.summary),
      tuning: dnaTuningFigure(out.summary),
      probe: dnaProbeFigure(out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as DnaHyenaSummary;
    const [a, b] = s.arms;
    const row = (c: DnaHyenaSummary["pretrain"]) => ({ outcome: c.verdict, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) });
    return [
      claimRow(row(s.pretrain), {
        id: "DNA-pretrain",
        claim: `${a.label} matches ${b.label} in HyenaDNA-style next-nucleotide pretraining: ${a.label}'s test bits per base at most ${RULES.dnaMatchMarginBits} above ${b.label}'s, each at its own tuned lr, paired over seeds`,
        paper: `${PAPER}; the paper reports no DNA pretraining loss`,
        ours: `${s.pretrain.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
      claimRow(row(s.downstream), {
        id: "DNA-downstream",
        claim: `${a.label} matches ${b.label} downstream: a linear probe on the frozen pretrained HyenaDNA's features ("${s.probeTask}" task) reaches test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, paired over seeds`,
        paper: PAPER,
        ours: `${s.downstream.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
