/**
 * The claims table of a report: every experiment's rows, with the paired
 * rows' verdicts corrected together (Holm over all their one-sided tests).
 */
import * as fs from "fs";
import * as path from "path";
import { tableToMarkdown } from "../tables";
import { resultsDir } from "../util/paths";
import type { ClaimRow } from "./claims";
import { EXPERIMENTS, type ExperimentEntry } from "./registry";
import { MissingResultError, type ExperimentContext } from "./runner";
import type { Scale } from "./scale";
import { RULES, type ProtocolRules } from "./protocol/rules";
import { adjustTable, describeEffect, OUTCOMES, type ClaimVerdict, type Outcome } from "./protocol/verdict";

export interface TableRow extends ClaimRow {
  /** The verdict before the table-wide correction (protocol rows). */
  verdictUnadjusted?: string;
}

/** Apply Holm across the table's paired rows; other rows pass through unchanged. */
export function adjustClaims(rows: readonly ClaimRow[], rules: ProtocolRules = RULES): TableRow[] {
  const isProtocol = (r: ClaimRow) => (OUTCOMES as readonly string[]).includes(r.verdict);
  const verdicts: ClaimVerdict[] = rows.map((r) => ({ outcome: (isProtocol(r) ? r.verdict : "not testable") as Outcome, reason: r.reason ?? "", ...(isProtocol(r) && r.evidence ? { evidence: r.evidence } : {}) }));
  const adj = adjustTable(verdicts, rules);
  return rows.map((r, i) => {
    if (!isProtocol(r) || !r.evidence) return { ...r };
    return { ...r, verdict: adj[i]!.outcome, reason: adj[i]!.reason, verdictUnadjusted: r.verdict };
  });
}

/** The claims table in the design's columns. */
export function claimsMarkdown(rows: readonly TableRow[]): string {
  return tableToMarkdown(
    rows.map((c) => ({
      "#": c.id,
      claim: c.claim,
      paper: c.paper,
      "ours (effect, 95 % CI, n)": c.evidence ? `${describeEffect(c.evidence)}. ${c.ours}` : c.ours,
      "detectable effect": c.detectable ?? "—",
      verdict: c.verdict,
      reason: c.reason ?? "",
      notebook: c.notebook,
    })),
  );
}

/** Counts of each verdict, e.g. "2 supported, 1 not supported, 3 not testable". */
export function verdictCounts(rows: readonly TableRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(", ");
}

/**
 * Run (or, with cachedOnly, load) every experiment at a scale and collect its
 * claims rows; an experiment with no current results at this scale becomes a
 * "not testable" row naming the command that produces them.
 */
/** The "not testable" row of an experiment with no saved results at `scale`. */
function notRunRow(exp: ExperimentEntry, scale: Scale, why: string): ClaimRow {
  const v1 = scale === "full" ? " The previous protocol's outcomes are kept in results/report-full-v1.md." : "";
  return { id: exp.name, claim: exp.description, paper: "", ours: `not run at ${scale} scale under the current protocol`, verdict: "not testable", reason: `${why}.${v1}`, notebook: "", scale };
}

export async function collectClaims(scale: Scale, ctx: Omit<ExperimentContext, "scale"> = {}, only?: readonly string[], log: (line: string) => void = console.log): Promise<TableRow[]> {
  const claims: ClaimRow[] = [];
  for (const exp of EXPERIMENTS.filter((e) => !only || only.includes(e.name))) {
    log(`\n== ${exp.name} (${scale}): ${exp.description}`);
    // Cached-only with nothing saved: say so without running the experiment, which may first build
    // its data (the speech pool takes ~27 min) only to find no record.
    if (ctx.cachedOnly && !fs.existsSync(path.join(resultsDir(), exp.name, scale))) {
      log(`   not run at ${scale} scale: no saved results`);
      claims.push(notRunRow(exp, scale, `${exp.name}: no saved ${scale} results (run \`npm run exp -- ${exp.name} --scale ${scale}\`)`));
      continue;
    }
    try {
      const { summary } = await exp.run({ ...ctx, scale }, {});
      claims.push(...exp.claims(summary));
    } catch (e) {
      if (!(e instanceof MissingResultError)) throw e;
      log(`   not run at ${scale} scale: ${e.message}`);
      claims.push(notRunRow(exp, scale, e.message));
    }
  }
  // Rows of experiments not yet on the protocol keep their own rule; say so rather than mix rules silently.
  return adjustClaims(claims.map((c) => (c.evidence || c.reason ? c : { ...c, reason: "legacy rule (unpaired, |diff| < 2 SE; not yet on the protocol)" })));
}
