import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import { NORM_FREE, NORM_FREE_VARIANT_IDS, runNormFree, type NormFreeSummary } from "./norm-free";

export const normFreeEntry: ExperimentEntry = {
  name: NORM_FREE,
  description: "DyT vs LN/RMSNorm and norm-free baselines (ReZero, SkipInit, Fixup, T-Fixup, sigma-Reparam, NF) on the same ViT (claim 8)",
  // The CLI knows --norm; here it selects variants (a norm or a norm-free method).
  flags: `--norm ${NORM_FREE_VARIANT_IDS.join(",")}`,
  run: (ctx, flags) => {
    const variants = csv(flags.norm);
    return runNormFree(ctx, variants ? { variants } : {});
  },
  claims: (raw) => {
    const s = raw as NormFreeSummary;
    const fmt = (id: string) => {
      const b = s.byVariant.find((x) => x.variant === id);
      return b ? `${b.scoredAcc.mean.toFixed(2)} ± ${b.scoredAcc.std.toFixed(2)}${b.diverged ? ` (${b.diverged} diverged)` : ""}` : "-";
    };
    const n = Math.min(...s.byVariant.map((b) => b.scoredAcc.n));
    return [
      {
        id: "8",
        claim: "DyT beats Fixup/SkipInit and matches sigma-Reparam",
        paper: "ViT-B ImageNet top-1: LN 82.3, Fixup 77.2, SkipInit 74.1, σ-Reparam 82.5, DyT 82.8",
        ours: `${s.setup}: Fashion-MNIST test %, same ViT and budget (n=${n} seeds): LN ${fmt("layernorm")}, Fixup ${fmt("fixup")}, SkipInit ${fmt("skipinit")}, σ-Reparam ${fmt("sigma-reparam")}, DyT ${fmt("dyt")}; ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/08-norm-free-head-to-head.ipynb",
        scale: s.scale,
      },
    ];
  },
};
