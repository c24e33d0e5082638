import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { SCURVES_RULE } from "../scurves/spec";
import { layerDeltaFigure, readingMapsFigure } from "../convnext-scurves/figures";
import type { Figure } from "../../plot/types";
import type { SpeechProtocolRecord } from "../protocol/runner";
import { WAV2VEC_SCURVES, runWav2VecScurves, w2vScurveLayers, type Wav2VecScurvesSummary } from "./spec";

export * from "./spec";

const NOTEBOOK = "notebooks/18-wav2vec-ln-dyt.ipynb";

/** Pre-affine ΔR² per LayerNorm of the wav2vec (conv encoder, transformer, final), init vs end, early / deep as the rule groups them. */
export function w2vScurveDeltaFigure(s: Wav2VecScurvesSummary): Figure {
  return layerDeltaFigure({ layerStats: s.layerStats, layers: s.layers, seeds: s.earlyDeep.length || s.seeds.length }, "wav2vec");
}

/** The transformer LayerNorms' maps of one seed's run at the end (or init), with the fitted k tanh(s x): the paper's Figure 1 for speech. */
export function w2vScurveMapsFigure(records: readonly SpeechProtocolRecord[], seed?: number, at: "init" | "end" = "end"): Figure {
  const rec = records.find((r) => r.role === "eval" && (seed === undefined || r.seed === seed) && r.result.readings);
  if (!rec) throw new Error(`w2vScurveMapsFigure: no run with readings${seed === undefined ? "" : ` for seed ${seed}`}`);
  const names = rec.result.readings![0]!.layers;
  const { claim } = w2vScurveLayers(names);
  return readingMapsFigure(rec.result.readings!, rec.run, rec.seed, at, "wav2vec transformer", [...claim, ...names.filter((n) => n === "encoder.layer_norm")]);
}

export const wav2vecScurvesEntry: ExperimentEntry = {
  name: WAV2VEC_SCURVES,
  description: "wav2vec 2.0 S-curves: the transformer's LayerNorm maps early vs deep (claim 3, speech), wav2vec-ln-dyt's LayerNorm model at its tuned lr, with norm readings",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runWav2VecScurves(ctx);
    const figs: Record<string, Figure> = { "ln-delta": w2vScurveDeltaFigure(out.summary) };
    if (out.summary.earlyDeep.length) figs["ln-maps"] = w2vScurveMapsFigure(out.records);
    await saveFigures(WAV2VEC_SCURVES, ctx.scale, figs);
    return out;
  },
  claims: (raw) => {
    const s = raw as Wav2VecScurvesSummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "3 (wav2vec)",
        claim: `wav2vec 2.0's transformer LayerNorm maps look tanh-like (S-shaped) in deeper layers, linear in early ones: deep − early ΔR² > 0 and deep ΔR² > ${SCURVES_RULE.minDeltaR2}, paired over seeds (feature norm and block norms in forward order, first half vs second half)`,
        paper: "Figure 1 / Figures 2-4: LN maps in ViT-B, wav2vec 2.0 and DiT; early LN layers mostly linear, deeper ones S-shaped",
        ours: `${s.setup}; LN test strict contrastive accuracy ${s.testStrictAcc.mean.toFixed(1)} %: ${s.statement}`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
