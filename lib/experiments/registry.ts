import type { ClaimRow } from "./claims";
import type { ExperimentContext } from "./runner";
import { runVitFashion, VIT_FASHION, type VitFashionSummary } from "./vit-fashion";

/** An experiment the CLI and the reproduce script can run by name. */
export interface ExperimentEntry {
  name: string;
  description: string;
  /** CLI flags it understands beyond --scale/--seed/--force. */
  flags: string;
  run(ctx: ExperimentContext, flags: Record<string, string>): Promise<{ summary: { verdict?: string; statement?: string } }>;
  /** Rows for the claims table, from this experiment's summary. */
  claims(summary: unknown): ClaimRow[];
}

function csv(v: string | undefined): string[] | undefined {
  return v ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}

export const EXPERIMENTS: ExperimentEntry[] = [
  {
    name: VIT_FASHION,
    description: "ViT on Fashion-MNIST, LayerNorm vs DyT (paper Table 1 in miniature)",
    flags: "--norm layernorm,dyt",
    run: (ctx, flags) => {
      const norms = csv(flags.norm) as ("layernorm" | "dyt" | "rmsnorm" | "identity")[] | undefined;
      const override: Parameters<typeof runVitFashion>[1] = {};
      if (norms) override.norms = norms;
      return runVitFashion(ctx, override);
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
  },
];

export function findExperiment(name: string): ExperimentEntry {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; available: ${EXPERIMENTS.map((x) => x.name).join(", ")}`);
  return e;
}
