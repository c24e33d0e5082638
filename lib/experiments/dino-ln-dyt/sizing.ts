/**
 * Recipe and budget sizing for dino-ln-dyt (`--sizing`), run on the tuning
 * seed with the LayerNorm arm only: no DyT run enters it, so it cannot
 * favour either arm.
 *
 * Why (2026-12-04): two exploratory LN runs outside the runner (their logs
 * and script kept in results/dino-ln-dyt-sizing/exploratory/) left the teacher's k-NN
 * accuracy near or below the same network's at initialisation: 4×4
 * patches, lr 1e-3, 600 steps: 52.8 % at init, 43.9 % after; 7×7 patches,
 * lr 5e-4, 2,000 steps: 62.2 % at init, 63.6 % after. By the study's
 * learned rule neither learned, so the study would only report "not
 * testable". The probe tries longer runs, each variant one LN run with the
 * teacher's validation k-NN scored at each eighth.
 *
 * DECISION RULE, written before the variants below ran: the study adopts
 * the first variant in this list whose LN run passes the learned rule
 * (classify.ts dinoScore on validation: k-NN at least 20 % of the way from
 * its init's to 100 %, teacher not collapsed) at some eighth, with that
 * variant's model, data and lr, and the first passing mark (in epochs,
 * rounded up to a whole epoch) as its budget. If no variant passes, the study is not run
 * at these sizes and its rows stay "not testable", with this probe as the
 * reason.
 */
import * as fs from "fs";
import * as path from "path";
import { initEngine } from "../../engine";
import { DINO, type DINOConfig } from "../../models/dino";
import { dinoKnn, dinoTask } from "../../train/dino-task";
import { train } from "../../train/trainer";
import { writeJsonAtomic } from "../../util/atomic";
import { runsDir } from "../../util/paths";
import { provenance, type Provenance } from "../../util/provenance";
import { resultPath, saveSummary, type ExperimentContext } from "../runner";
import { resolveArm } from "../protocol/arms";
import { dinoCollapse } from "../protocol/classify";
import type { DinoResolvedRun, DinoRunBase } from "../protocol/dino-task";
import { epochSchedule } from "../protocol/jobs";
import { RULES } from "../protocol/rules";
import { fashionSplits, resolveRun } from "../protocol/task";
import type { Scale } from "../scale";
import { DINO_SCALES } from "./spec";

export const DINO_SIZING = "dino-ln-dyt-sizing";

export interface DinoSizingVariant {
  id: string;
  why: string;
  model: Partial<DINOConfig>;
  /** Training images (the first N; 0 = all 55,000). */
  trainLimit: number;
  epochs: number;
  lr: number;
}

/** The variants, in the order the decision rule reads them. */
export const DINO_SIZING_VARIANTS: DinoSizingVariant[] = [
  {
    id: "p7-10k-30ep",
    why: "7×7 patches (16 tokens, ~3× cheaper than 4×4), 10,000 images seen 30 times (4,688 steps): DINO's small-data runs train for many epochs",
    model: { backbone: { patchSize: 7 }, crops: { globalSize: 28, globalScale: [0.4, 1], localCrops: 2, localSize: 14, localScale: [0.05, 0.4], contrast: 0.4, flip: true } },
    trainLimit: 10_000,
    epochs: 30,
    lr: 1e-3,
  },
  {
    id: "p7-10k-30ep-6local",
    why: "as p7-10k-30ep with 6 local views (DINO's multi-crop ablation: more local views, better features)",
    model: { backbone: { patchSize: 7 }, crops: { globalSize: 28, globalScale: [0.4, 1], localCrops: 6, localSize: 14, localScale: [0.05, 0.4], contrast: 0.4, flip: true } },
    trainLimit: 10_000,
    epochs: 30,
    lr: 1e-3,
  },
];

export interface DinoSizingPoint {
  epoch: number;
  step: number;
  /** Teacher k-NN accuracy on validation, %. */
  valKnn: number;
  valLoss: number;
  teacherEntropy: number;
  marginalEntropy: number;
  collapse?: string;
  learned: boolean;
}

export interface DinoSizingRun {
  variant: DinoSizingVariant;
  config: DinoResolvedRun;
  /** The same network's validation k-NN at initialisation, %, and the learned threshold it sets. */
  initValKnn: number;
  learnedKnn: number;
  points: DinoSizingPoint[];
  firstLearnedEpoch: number | null;
  status: string;
  provenance: Provenance;
}

export interface DinoSizingSummary {
  experiment: string;
  scale: string;
  arm: string;
  seed: number;
  runs: DinoSizingRun[];
  /** The variant the decision rule adopts and its budget (whole epochs), or null. */
  adopted: { id: string; epochs: number } | null;
  verdict: string;
  statement: string;
}

function variantBase(v: DinoSizingVariant, scale: Scale): DinoRunBase {
  const b = DINO_SCALES[scale].base;
  return { ...b, model: { ...b.model, ...v.model }, data: { ...b.data, trainLimit: v.trainLimit } };
}

function sizingFile(scale: Scale, id: string): string {
  return resultPath(DINO_SIZING, scale, `${id}.json`);
}

/** One variant's LN run (resumes from its checkpoints), k-NN at each eighth. */
async function runVariant(ctx: ExperimentContext, v: DinoSizingVariant, seed: number): Promise<DinoSizingRun> {
  const file = sizingFile(ctx.scale, v.id);
  const base = variantBase(v, ctx.scale);
  const sched = epochSchedule(v.epochs, base, { evals: 8 });
  const r = resolveRun({ ...base, train: { ...base.train, ...sched } }, resolveArm("layernorm"), seed, { lr: v.lr });
  const prev = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DinoSizingRun) : undefined;
  if (prev && JSON.stringify(prev.config) === JSON.stringify(r) && prev.status === "completed") return prev;
  if (ctx.cachedOnly) throw new Error(`${DINO_SIZING}: variant ${v.id} has no completed record; run \`npm run exp -- dino-ln-dyt --scale ${ctx.scale} --sizing\``);
  const prov = prev && JSON.stringify(prev.config) === JSON.stringify(r) ? prev.provenance : provenance();
  const d = fashionSplits(r.data.trainLimit, 0);
  const { bank, ...knn } = r.knn;
  const fresh = new DINO(r.model);
  let init: number;
  try {
    init = 100 * dinoKnn(fresh, d.train, bank, d.val, r.train.evalLimit, r.train.evalBatchSize, knn);
  } finally {
    fresh.dispose();
  }
  const learnedKnn = init + RULES.learnedFraction * (100 - init);
  const model = new DINO(r.model);
  const runDir = path.join(runsDir(), DINO_SIZING, ctx.scale, `${v.id}-s${seed}`);
  try {
    const res = await train(model, dinoTask(d.train, d.val, { seed: r.train.seed, bank, knn }), r.train, { runDir, label: `${DINO_SIZING}/${v.id}` });
    const points = res.evals.map((e): DinoSizingPoint => {
      const st = e.stats ?? {};
      const collapse = dinoCollapse({ teacherEntropy: st.teacherEntropy ?? NaN, marginalEntropy: st.marginalEntropy ?? NaN, lnOutDim: st.lnOutDim ?? NaN });
      const valKnn = 100 * e.acc;
      return { epoch: (v.epochs * e.step) / r.train.steps, step: e.step, valKnn, valLoss: e.loss, teacherEntropy: st.teacherEntropy ?? NaN, marginalEntropy: st.marginalEntropy ?? NaN, ...(collapse ? { collapse } : {}), learned: valKnn >= learnedKnn && !collapse };
    });
    const first = points.find((p) => p.learned);
    const out: DinoSizingRun = { variant: v, config: r, initValKnn: init, learnedKnn, points, firstLearnedEpoch: first ? first.epoch : null, status: res.status, provenance: prov };
    writeJsonAtomic(file, out);
    return out;
  } finally {
    model.dispose();
  }
}

function summarize(scale: Scale, seed: number, runs: DinoSizingRun[], variants: readonly DinoSizingVariant[]): DinoSizingSummary {
  // The rule reads the variants in order: the first that learned is adopted.
  const firstOk = runs.find((x) => x.firstLearnedEpoch !== null);
  const adopted = firstOk ? { id: firstOk.variant.id, epochs: Math.ceil(firstOk.firstLearnedEpoch! - 1e-9) } : null;
  const line = (x: DinoSizingRun) =>
    `${x.variant.id} (lr ${x.variant.lr}, ${x.config.train.steps} steps): init ${x.initValKnn.toFixed(1)} %, learned at >= ${x.learnedKnn.toFixed(1)} %; ` +
    x.points.map((p) => `${p.epoch.toFixed(1)} ep ${p.valKnn.toFixed(1)} %${p.collapse ? ` (collapsed: ${p.collapse})` : ""}`).join(", ");
  const done = runs.length === variants.length;
  return {
    experiment: DINO_SIZING,
    scale,
    arm: "layernorm",
    seed,
    runs,
    adopted,
    verdict: adopted ? `adopt ${adopted.id}, ${adopted.epochs} epoch(s)` : done ? "no variant learned: the study is not run at these sizes" : `partial (${runs.length} of ${variants.length} variants, none learned yet)`,
    statement: `LayerNorm DINO on the tuning seed ${seed}, the teacher's validation 20-NN accuracy at each eighth of each variant's one cosine run: ${runs.map(line).join("; ") || "no variant run yet"}.`,
  };
}

/** Run (or load) the variants in order, stopping at the first that learns (see the header); `only` runs one variant by id; `variants` replaces the list (tests). */
export async function runDinoSizing(ctx: ExperimentContext, o: { only?: string; variants?: readonly DinoSizingVariant[] } = {}): Promise<{ summary: DinoSizingSummary }> {
  const s = DINO_SCALES[ctx.scale];
  const seed = s.lr.kind === "tuned" ? s.lr.tuning.seed : 101;
  const variants = o.variants ?? DINO_SIZING_VARIANTS;
  const ids = variants.map((v) => v.id);
  if (o.only !== undefined && !ids.includes(o.only)) throw new Error(`${DINO_SIZING}: unknown variant "${o.only}"; variants: ${ids.join(", ")}`);
  if (!ctx.cachedOnly) await initEngine();
  const runs: DinoSizingRun[] = [];
  for (const v of variants) {
    if (o.only !== undefined && v.id !== o.only) {
      const f = sizingFile(ctx.scale, v.id);
      if (fs.existsSync(f)) runs.push(JSON.parse(fs.readFileSync(f, "utf8")) as DinoSizingRun);
      continue;
    }
    const run = await runVariant(ctx, v, seed);
    runs.push(run);
    if (o.only === undefined && run.firstLearnedEpoch !== null) break;
  }
  runs.sort((a, b) => ids.indexOf(a.variant.id) - ids.indexOf(b.variant.id));
  const summary = summarize(ctx.scale, seed, runs, variants);
  if (!ctx.cachedOnly) saveSummary(DINO_SIZING, ctx.scale, summary);
  return { summary };
}
