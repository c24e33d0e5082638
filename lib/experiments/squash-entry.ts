import type { ExperimentEntry } from "./entry";
import { accCell, findVariant } from "./grid";
import { runSquash, SQUASH, type SquashSummary } from "./squash";

const NOTEBOOK = "notebooks/05-squashing-functions.ipynb";

export const squashEntry: ExperimentEntry = {
  name: SQUASH,
  description: "DyT squashing-function ablation: tanh, hardtanh, sigmoid, shifted sigmoid, softsign, erf, identity; α learned / frozen (paper Table 7)",
  flags: "(none)",
  run: (ctx) => runSquash(ctx),
  claims: (raw) => {
    const s = raw as SquashSummary;
    const acc = (name: string) => accCell(findVariant(s.variants, name));
    const n = Math.min(...s.variants.map((v) => v.seeds.length));
    const row = (id: string, claim: string, paper: string, ours: string, verdict: string) => ({ id, claim, paper, ours: `${s.setup}: ${ours}`, verdict, notebook: NOTEBOOK, scale: s.scale });
    return [
      row(
        "5",
        "Squashing function: tanh > hardtanh > sigmoid",
        "Table 7, ViT-B top-1: tanh 82.5, hardtanh 82.2, sigmoid 81.6",
        `Fashion-MNIST test % (α learned, n=${n} seeds): tanh ${acc("tanh-learned")}, hardtanh ${acc("hardtanh-learned")}, sigmoid ${acc("sigmoid-learned")}; ${s.ordering.statement}`,
        s.ordering.verdict,
      ),
      row("5-identity", "Without squashing (identity) training diverges", "Table 7: identity diverges", s.identity.statement, s.identity.verdict),
      row(
        "6",
        "Removing α (α frozen at 1) hurts",
        "Table 7, ViT-B without α: tanh 81.1, hardtanh 80.7, sigmoid 80.7 (vs 82.5 / 82.2 / 81.6)",
        `tanh: learned ${acc("tanh-learned")} vs frozen at 1 ${acc("tanh-fixed1")}; ${s.removeAlpha.statement}`,
        s.removeAlpha.verdict,
      ),
      row(
        "R-squash-scale",
        "A learnable scale alone (identity with learned α) does not replace DyT's tanh",
        "reviewer question (not in the paper)",
        `identity α learned ${acc("identity-learned")} vs tanh α learned ${acc("tanh-learned")}; ${s.scaleAlone.statement}`,
        s.scaleAlone.verdict,
      ),
    ];
  },
};
