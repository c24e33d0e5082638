import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import type { NormKind } from "../norms/types";
import { runVitFashion, VIT_FASHION, type VitFashionSummary } from "./vit-fashion";

export const vitFashionEntry: ExperimentEntry = {
  name: VIT_FASHION,
  description: "ViT on Fashion-MNIST, LayerNorm vs DyT (paper Table 1 in miniature)",
  flags: "--norm layernorm,dyt",
  run: (ctx, flags) => {
    const norms = csv(flags.norm) as NormKind[] | undefined;
    return runVitFashion(ctx, norms ? { norms } : {});
  },
  claims: (raw) => {
    const s = raw as VitFashionSummary;
    const fmt = (n: string) => {
      const b = s.byNorm.find((x) => x.norm === n);
      return b ? `${b.testAcc.mean.toFixed(2)} ± ${b.testAcc.std.toFixed(2)}` : "-";
    };
    const n = Math.min(...s.byNorm.map((b) => b.testAcc.n));
    return [
      {
        id: "1",
        claim: "DyT matches LayerNorm on ViT (within seed noise)",
        paper: "Table 1, ImageNet top-1: ViT-B 82.3 → 82.5, ViT-L 83.1 → 83.6",
        ours: `Fashion-MNIST test %, LN ${fmt("layernorm")} vs DyT ${fmt("dyt")} (n=${n} seeds); ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/01-dyt-vs-layernorm.ipynb",
        scale: s.scale,
      },
    ];
  },
};
