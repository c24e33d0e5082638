import type { ClaimRow } from "./claims";
import type { ExperimentContext } from "./runner";

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

export function csv(v: string | undefined): string[] | undefined {
  return v ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}
