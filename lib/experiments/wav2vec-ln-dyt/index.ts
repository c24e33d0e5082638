import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { w2vAccuracyFigure, w2vHeldOutFigure, w2vProbeFigure, w2vTrainLossFigure, w2vTuningFigure } from "./figures";
import { WAV2VEC_LN_DYT, runWav2VecComparisons, type Wav2VecSummary } from "./spec";
import { runWav2VecAlpha0Probe, runWav2VecFeatureNormProbe, runWav2VecBudgetProbe, runWav2VecCodebookProbe, runWav2VecSizing, type SizingRun } from "./sizing";

export * from "./spec";
export * from "./figures";
export * from "./sizing";

const NOTEBOOK = "notebooks/18-wav2vec-ln-dyt.ipynb";
const PAPER = "wav2vec 2.0 on LibriSpeech: validation loss LN / DyT 1.95 / 1.95 (Base), 1.92 / 1.91 (Large) (paper.md, Results)";

export const wav2vecLnDytEntry: ExperimentEntry = {
  name: WAV2VEC_LN_DYT,
  description: "small wav2vec 2.0 pretrained self-supervised on the Debian speech set, LayerNorm vs DyT in the transformer norm slots (LN kept in the conv encoder) at each one's tuned lr, paired over seeds on test pretraining loss and on a language-ID linear probe (claim 2, speech)",
  flags: "--sizing (only the schedule sizing on the tuning seed: cosine vs warmup + constant lr, each arm), --sizing budget (each arm at 2.5x the budget, constant lr), --sizing codebook (each arm with 2 x 8 codewords, constant lr), --sizing alpha0 (DyT with alpha0 1 and 2 at the amended full setting), --sizing featnorm (DyT with LayerNorm kept in the feature norm); results/wav2vec-ln-dyt-sizing/",
  run: async (ctx, flags) => {
    const runLines = (runs: SizingRun[]) => runs.map((r) => `${r.arm}/${r.schedule}: ${r.finalClass}, first learned at ${r.firstLearnedStep ?? "never"}, val strict acc ${r.evals.map((e) => e.strictAcc.toFixed(0)).join(" ")} %, val loss ${r.evals.map((e) => e.loss.toFixed(3)).join(" ")}`).join("\n");
    if (flags.sizing === "budget") {
      const { summary } = await runWav2VecBudgetProbe(ctx);
      return { summary: { verdict: `budget probe: ${summary.runs.map((r) => `${r.arm} ${r.finalClass}`).join(", ")}`, statement: `lr ${summary.lr}, warmup + constant, seed ${summary.seed}, ${summary.steps} steps (${summary.epochs} epoch), learned at >= ${summary.learnedAcc.toFixed(1)} %.\n${runLines(summary.runs)}` } };
    }
    if (flags.sizing === "codebook") {
      const { summary } = await runWav2VecCodebookProbe(ctx);
      const tests = summary.test.map((t) => `${t.arm}: test strict acc ${t.strictAcc.toFixed(1)} %, perplexity ${t.perplexity.toFixed(1)} of ${summary.groups * summary.entries}, distractors equal ${t.distractorsEqual.toFixed(3)}`).join("; ");
      return { summary: { verdict: `codebook probe (V = ${summary.entries}): ${summary.runs.map((r) => `${r.arm} ${r.finalClass}`).join(", ")}`, statement: `lr ${summary.lr}, warmup + constant, seed ${summary.seed}, ${summary.steps} steps (${summary.epochs} epoch), G x V = ${summary.groups} x ${summary.entries}, learned at >= ${summary.learnedAcc.toFixed(1)} %. ${tests}\n${runLines(summary.runs)}` } };
    }
    if (flags.sizing === "alpha0" || flags.sizing === "featnorm") {
      const { summary } = await (flags.sizing === "alpha0" ? runWav2VecAlpha0Probe(ctx) : runWav2VecFeatureNormProbe(ctx));
      const tests = summary.test.map((t, i) => `α₀ ${summary.alpha0[i]}: test strict acc ${t.strictAcc.toFixed(1)} %, perplexity ${t.perplexity.toFixed(1)} of ${summary.groups * summary.entries}, feature-norm α at the end ${Number.isFinite(summary.featureNormAlpha[i]) ? summary.featureNormAlpha[i]!.toFixed(3) : "— (LayerNorm)"}`).join("; ");
      return { summary: { verdict: `${flags.sizing} probe: ${summary.runs.map((r, i) => `α₀ ${summary.alpha0[i]} ${r.finalClass}`).join(", ")}`, statement: `DyT, lr ${summary.lr}, cosine, seed ${summary.seed}, ${summary.steps} steps (${summary.epochs} epoch), learned at >= ${summary.learnedAcc.toFixed(1)} %. ${tests}\n${runLines(summary.runs)}` } };
    }
    if (flags.sizing === "true") {
      const { summary } = await runWav2VecSizing(ctx);
      return { summary: { verdict: `schedule: ${summary.schedule}`, statement: `${summary.why}. lr ${summary.lr}, seed ${summary.seed}, ${summary.steps} steps, learned at >= ${summary.learnedAcc.toFixed(1)} %.\n${runLines(summary.runs)}` } };
    }
    if (flags.sizing !== undefined) throw new Error(`${WAV2VEC_LN_DYT}: --sizing takes no value (the schedule sizing), "budget" (the budget probe), "codebook" (the codebook probe), "alpha0" (the alpha0 probe) or "featnorm" (the feature-norm probe), got "${flags.sizing}"`);
    // Amendment 3's DyT at alpha0 2 is compared with the same LayerNorm runs (loaded, not re-run).
    const { main: out, alpha2: a2, summary } = await runWav2VecComparisons(ctx);
    await saveFigures(WAV2VEC_LN_DYT, ctx.scale, {
      "train-loss": w2vTrainLossFigure(out.records, out.summary),
      "held-out": w2vHeldOutFigure(out.records, out.summary),
      accuracy: w2vAccuracyFigure(out.records, out.summary),
      tuning: w2vTuningFigure(out.summary),
      probe: w2vProbeFigure(out.summary),
      "alpha0-2-held-out": w2vHeldOutFigure(a2.records, a2.summary),
      "alpha0-2-accuracy": w2vAccuracyFigure(a2.records, a2.summary),
      "alpha0-2-tuning": w2vTuningFigure(a2.summary),
    });
    return { records: out.records, summary };
  },
  claims: (raw) => {
    const all = raw as Wav2VecSummary & { alpha2?: Wav2VecSummary };
    return [...w2vRows(all, ""), ...(all.alpha2 ? w2vRows(all.alpha2, " (α₀ 2)") : [])];
  },
};

/** The two claims rows of one comparison; `tag` marks amendment 3's (α₀ 2). */
function w2vRows(s: Wav2VecSummary, tag: string) {
  const [a, b] = s.arms;
  const row = (c: Wav2VecSummary["pretrain"]) => ({ outcome: c.verdict, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) });
  return [
    claimRow(row(s.pretrain), {
      id: `W2V-1${tag}`,
      claim: `${a.label} matches ${b.label} in wav2vec 2.0 pretraining: ${a.label}'s test pretraining loss at most ${RULES.speechMatchMarginNats} nats above ${b.label}'s, each at its own tuned lr, paired over seeds`,
      paper: PAPER,
      ours: `${s.pretrain.statement} Setup: ${s.setup}.`,
      notebook: NOTEBOOK,
      scale: s.scale,
    }),
    claimRow(row(s.probe), {
      id: `W2V-probe${tag}`,
      claim: `${a.label} matches ${b.label} downstream: a language-ID linear probe on the frozen pretrained wav2vec's features reaches test accuracy with ${a.label} − ${b.label} > −${RULES.matchMarginPoints} point, paired over seeds`,
      paper: `${PAPER}; the paper reports no downstream speech result`,
      ours: `${s.probe.statement} Setup: ${s.setup}.`,
      notebook: NOTEBOOK,
      scale: s.scale,
    }),
  ];
}
