/**
 * Budget sizing for dit-ln-dyt (`--sizing`), run on the tuning seed with the
 * LayerNorm arm only: no DyT run enters it, so it cannot favour either arm.
 *
 * Why (2026-12-04): the first full run (3 epochs, grid 3e-4..3e-3) was
 * stopped after its first tuning run. LayerNorm at lr 3e-4 ended with a
 * validation denoising loss of 0.089, but only 10.6 % of its samples were
 * recognised as their class. That is chance: the run did not learn. An
 * exploratory 1,000-step LN run at lr 2e-3 on 20,000 images (not saved)
 * reached a validation loss of 0.073 and 15.5 % recognised. Its loss rose
 * only 5-10 % when given the wrong labels, so the class conditioning was
 * barely used. That run's record is kept in
 * results/dit-ln-dyt/full-3-epochs-first-run/.
 *
 * The probe trains one LN DiT at lr 3e-3, the grid's top, for 8 epochs (one
 * cosine schedule), and scores 500 DDIM samples at each quarter of the run,
 * as the study scores its runs (the Fréchet distance, the share of samples
 * recognised, the floor). The points are written as they come, and an
 * interrupted probe resumes.
 *
 * DECISION RULE, written before the probe ran: the study's full budget
 * becomes the first quarter mark at which LN's samples pass the learned rule
 * (>= 28 % recognised), and its grid becomes 1e-3, 3e-3, 1e-2. If no mark
 * passes, the study is not run at this model size: its rows stay "not
 * testable", with this probe as the reason. A shorter run with its own
 * cosine decay ends at a lower lr than this probe has at the same step, so
 * picking a mark is, if anything, conservative.
 */
import * as path from "path";
import * as fs from "fs";
import { DiT } from "../../models/dit";
import { diffusionTask } from "../../train/diffusion";
import { train } from "../../train/trainer";
import { runsDir } from "../../util/paths";
import { provenance, type Provenance } from "../../util/provenance";
import { initEngine } from "../../engine";
import { resultPath, saveSummary, type ExperimentContext } from "../runner";
import { resolveArm } from "../protocol/arms";
import { learnedThreshold } from "../protocol/classify";
import { scoreDitSamples, type DitResolvedRun } from "../protocol/dit-task";
import { epochSchedule } from "../protocol/jobs";
import { RULES } from "../protocol/rules";
import { fashionSplits, resolveRun } from "../protocol/task";
import { lrId } from "../protocol/tuning";
import { DIT_SCALES } from "./spec";

export const DIT_SIZING = "dit-ln-dyt-sizing";

export interface DitSizingPoint {
  epoch: number;
  step: number;
  valLoss: number;
  fd: number;
  fdFloor: number;
  /** Share of samples recognised as their class, %. */
  sampleAcc: number;
  learned: boolean;
}

export interface DitSizingSummary {
  experiment: string;
  scale: string;
  arm: string;
  lr: number;
  seed: number;
  epochs: number;
  steps: number;
  samples: number;
  config: DitResolvedRun;
  points: DitSizingPoint[];
  /** The first mark whose samples passed the learned rule (the study's budget), or null. */
  firstLearnedEpoch: number | null;
  learnedAcc: number;
  provenance: Provenance;
  verdict: string;
  statement: string;
}

/** Train (or resume) the probe and score its samples at each quarter (see the header). */
export async function runDitSizing(ctx: ExperimentContext, o: { arm?: string; lr?: number; epochs?: number; samples?: number } = {}): Promise<{ summary: DitSizingSummary }> {
  const s = DIT_SCALES[ctx.scale];
  const armId = o.arm ?? "layernorm";
  const lr = o.lr ?? 3e-3;
  const epochs = o.epochs ?? 8;
  const samples = o.samples ?? (ctx.scale === "full" ? 500 : s.base.sample.n);
  const seed = s.lr.kind === "tuned" ? s.lr.tuning.seed : 101;
  const sched = epochSchedule(epochs, s.base);
  // Checkpoints at each quarter, so the probe stops and resumes there exactly.
  const quarter = Math.ceil(sched.steps / 4);
  const base = { ...s.base, train: { ...s.base.train, ...sched, checkpointEvery: quarter } };
  const r = resolveRun(base, resolveArm(armId), seed, { lr });
  const marks = [quarter, 2 * quarter, 3 * quarter, r.train.steps].filter((m, i, a) => m <= r.train.steps && a.indexOf(m) === i);
  const file = resultPath(DIT_SIZING, ctx.scale, "summary.json");
  const prev = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DitSizingSummary) : undefined;
  const same = prev && JSON.stringify(prev.config) === JSON.stringify(r);
  const points: DitSizingPoint[] = same ? prev.points : [];
  // The provenance of the probe's first training, kept when it resumes or is re-summarised.
  const prov = same ? prev.provenance : provenance();
  const learnedAcc = 100 * learnedThreshold(r.model.numClasses, RULES);
  const summarize = (): DitSizingSummary => {
    const first = points.find((p) => p.learned);
    const line = points.map((p) => `${p.epoch.toFixed(2)} ep (step ${p.step}): ${p.sampleAcc.toFixed(1)} % recognised, FD ${p.fd.toFixed(1)}, val loss ${p.valLoss.toFixed(4)}`).join("; ");
    return {
      experiment: DIT_SIZING,
      scale: ctx.scale,
      arm: armId,
      lr,
      seed,
      epochs,
      steps: r.train.steps,
      samples,
      config: r,
      points,
      firstLearnedEpoch: first ? first.epoch : null,
      learnedAcc,
      provenance: prov,
      verdict: points.length < marks.length && !first ? `partial (${points.length} of ${marks.length} marks)` : first ? `LN learns by ${first.epoch.toFixed(2)} epoch(s) (step ${first.step})` : `LN does not learn within ${epochs} epochs`,
      statement: `LayerNorm DiT, lr ${lr}, seed ${seed}, one ${epochs}-epoch cosine run (${r.train.steps} steps), ${samples} DDIM samples scored at each quarter (learned: >= ${learnedAcc.toFixed(0)} % recognised): ${line || "no mark scored yet"}.`,
    };
  };
  if (points.length === marks.length) {
    // Re-summarised from the saved points (same numbers, same provenance): a changed statement wording lands in the file.
    const summary = summarize();
    if (!ctx.cachedOnly) saveSummary(DIT_SIZING, ctx.scale, summary);
    return { summary };
  }
  if (ctx.cachedOnly) throw new Error(`${DIT_SIZING}: ${points.length} of ${marks.length} marks saved; run \`npm run exp -- dit-ln-dyt --scale ${ctx.scale} --sizing\``);
  await initEngine();
  const d = fashionSplits(r.data.trainLimit, 0);
  const model = new DiT(r.model);
  const runDir = path.join(runsDir(), DIT_SIZING, ctx.scale, `${armId}-lr${lrId(lr)}-s${seed}`);
  try {
    for (const mark of marks) {
      if (points.some((p) => p.step === mark)) continue;
      const last = mark === r.train.steps;
      const res = await train(model, diffusionTask(d.train, d.val, { schedule: r.diffusion, seed: r.train.seed }), r.train, { runDir, label: `${DIT_SIZING}/${armId}`, ...(last ? {} : { stopAfter: mark }) });
      if (res.status === "diverged") throw new Error(`${DIT_SIZING}: the probe diverged at step ${res.diverged?.step} (${res.diverged?.reason})`);
      const sc = await scoreDitSamples(model, { sample: { ...r.sample, n: samples }, diffusion: r.diffusion }, d);
      const acc = 100 * sc.sampleAcc;
      points.push({ epoch: (epochs * mark) / r.train.steps, step: mark, valLoss: res.evals.at(-1)?.loss ?? NaN, fd: sc.fd, fdFloor: sc.fdFloor, sampleAcc: acc, learned: acc >= learnedAcc });
      points.sort((a, b) => a.step - b.step);
      saveSummary(DIT_SIZING, ctx.scale, summarize());
      console.log(`[${DIT_SIZING}] ${points.at(-1)!.epoch.toFixed(2)} epoch(s), step ${mark}: ${acc.toFixed(1)} % recognised, FD ${sc.fd.toFixed(2)} (floor ${sc.fdFloor.toFixed(2)})`);
    }
  } finally {
    model.dispose();
  }
  const summary = summarize();
  saveSummary(DIT_SIZING, ctx.scale, summary);
  return { summary };
}
