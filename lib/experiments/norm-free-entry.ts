import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import { NORM_FREE, NORM_FREE_VARIANT_IDS, runNormFree, type NormFreeSummary, type NormFreeTunedSummary } from "./norm-free";

export const normFreeEntry: ExperimentEntry = {
  name: NORM_FREE,
  description: "DyT vs LN/RMSNorm and norm-free baselines (ReZero, SkipInit, Fixup, T-Fixup, sigma-Reparam, NF) on the same ViT (claim 8)",
  // The CLI knows --norm; here it selects variants (a norm or a norm-free method).
  flags: `--norm ${NORM_FREE_VARIANT_IDS.join(",")}`,
  run: async (ctx, flags) => {
    const variants = csv(flags.norm);
    const r = await runNormFree(ctx, variants ? { variants } : {});
    // The report's claims come from both comparisons: the shared-lr summary carries the tuned one along.
    return { ...r, summary: r.tuned ? { ...r.summary, tuned: r.tuned } : r.summary };
  },
  claims: (raw) => {
    const s = raw as NormFreeSummary & { tuned?: NormFreeTunedSummary };
    const rows = [claim8Row(s, "8", "every method at the LN recipe's lr")];
    if (s.tuned) rows.push(claim8Row(s.tuned, "8-tuned", `each method at its own lr: grid ${s.tuned.tuning[0]?.grid.map((g) => g.lr).join(", ")}, picked on validation with seed ${s.tuned.tuningSeed}`));
    return rows;
  },
};

function claim8Row(s: NormFreeSummary | NormFreeTunedSummary, id: string, how: string) {
  const tuning = "tuning" in s ? s.tuning : undefined;
  const fmt = (v: string) => {
    const b = s.byVariant.find((x) => x.variant === v);
    const lr = tuning?.find((t) => t.variant === v)?.bestLr;
    return b ? `${b.scoredAcc.mean.toFixed(2)} ± ${b.scoredAcc.std.toFixed(2)}${lr !== undefined ? ` (lr ${lr})` : ""}${b.diverged ? ` (${b.diverged} diverged)` : ""}` : "-";
  };
  const n = Math.min(...s.byVariant.map((b) => b.scoredAcc.n));
  return {
    id,
    claim: `DyT beats Fixup/SkipInit and matches sigma-Reparam, ${how}`,
    paper: "ViT-B ImageNet top-1: LN 82.3, Fixup 77.2, SkipInit 74.1, σ-Reparam 82.5, DyT 82.8",
    ours: `${s.setup}: Fashion-MNIST test % (n=${n} seeds): LN ${fmt("layernorm")}, Fixup ${fmt("fixup")}, SkipInit ${fmt("skipinit")}, σ-Reparam ${fmt("sigma-reparam")}, DyT ${fmt("dyt")}; ${s.statement}`,
    verdict: s.verdict,
    notebook: "notebooks/08-norm-free-head-to-head.ipynb",
    scale: s.scale,
  };
}
