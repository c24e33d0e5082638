/**
 * Regenerate the README's results section (between the RESULTS markers) from
 * the committed full-scale results: the claim-1 budget ladder, its figures and
 * the claims table. Every number and sentence is computed from the records;
 * nothing is typed here.
 *
 *   npm run readme-results      # trains nothing; missing results become "not testable" rows
 */
import * as fs from "fs";
import * as path from "path";
import { EXPERIMENTS, RULES, VIT_FASHION, ladderTable, type VitFashionSummary } from "../lib/experiments";
import { collectClaims, verdictCounts } from "../lib/experiments/report";
import { initEngine } from "../lib/engine";
import { tableToMarkdown } from "../lib/tables";
import { readJson, writeFileAtomic } from "../lib/util/atomic";
import { repoRoot, resultsDir } from "../lib/util/paths";
import { closeRenderer } from "../lib/plot/render";

async function main(): Promise<void> {
  await initEngine({ quiet: true });
  const rows = await collectClaims("full", { cachedOnly: true, verbose: false }, undefined, () => undefined);
  const rel = (p: string) => path.relative(repoRoot(), p);
  const out: string[] = [];
  const sumFile = path.join(resultsDir(), VIT_FASHION, "full", "summary.json");
  if (fs.existsSync(sumFile) && rows.some((r) => r.id === "1")) {
    const s = readJson<VitFashionSummary>(sumFile);
    const figs = ["ladder", "curves"].map((f) => path.join(resultsDir(), VIT_FASHION, "full", "figures", `${f}.png`)).filter((f) => fs.existsSync(f));
    const row = rows.find((r) => r.id === "1")!;
    out.push(
      "### Claim 1: DyT vs LayerNorm on a ViT, over a budget ladder",
      "",
      `${s.setup}. Test accuracy on the 10,000 test images; paired over evaluation seeds; 95 % CIs.`,
      "",
      tableToMarkdown(ladderTable(s)),
      `**${row.verdict}** (claim: DyT − LN > −${RULES.matchMarginPoints} point at the largest budget where every run plateaued): ${row.reason}. ${s.statement}`,
      "",
      ...figs.map((f) => `![${path.basename(f, ".png")}](${rel(f)})`),
      "",
      `Records, figures and provenance: \`${rel(path.dirname(sumFile))}/\`; notebook \`notebooks/01-dyt-vs-layernorm.ipynb\`.`,
      "",
    );
  }
  out.push(
    "### All claims (`full` scale)",
    "",
    `Verdicts: ${verdictCounts(rows)}. Each is computed by the rule in its experiment (lib/experiments/<name>/), paired rows corrected together (Holm); the full table with effects, CIs and detectable effects is [\`results/report-full.md\`](results/report-full.md). The previous protocol's outcomes stay in [\`results/report-full-v1.md\`](results/report-full-v1.md).`,
    "",
    tableToMarkdown(rows.map((r) => ({ "#": r.id, claim: r.claim, verdict: r.verdict, reason: r.reason ?? "", notebook: path.basename(r.notebook) }))),
  );
  const file = path.join(repoRoot(), "README.md");
  const readme = fs.readFileSync(file, "utf8");
  if (!/<!-- RESULTS -->[\s\S]*<!-- \/RESULTS -->/.test(readme)) throw new Error(`README.md has no <!-- RESULTS --> ... <!-- /RESULTS --> markers; add them where the results section goes`);
  writeFileAtomic(file, readme.replace(/<!-- RESULTS -->[\s\S]*<!-- \/RESULTS -->/, () => `<!-- RESULTS -->\n${out.join("\n")}\n<!-- /RESULTS -->`));
  console.log(`README results section regenerated from ${EXPERIMENTS.length} experiments (${verdictCounts(rows)})`);
  await closeRenderer();
}

main().catch((e: Error) => {
  console.error(`error: ${e.stack ?? e.message}`);
  process.exit(1);
});
