import type { ExperimentContext } from "./runner";
import { runVitFashion, VIT_FASHION } from "./vit-fashion";

/** An experiment the CLI and the reproduce script can run by name. */
export interface ExperimentEntry {
  name: string;
  description: string;
  /** CLI flags it understands beyond --scale/--seed/--force. */
  flags: string;
  run(ctx: ExperimentContext, flags: Record<string, string>): Promise<{ summary: { verdict?: string; statement?: string } }>;
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
  },
];

export function findExperiment(name: string): ExperimentEntry {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; available: ${EXPERIMENTS.map((x) => x.name).join(", ")}`);
  return e;
}
