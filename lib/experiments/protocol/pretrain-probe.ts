/**
 * A pretrained model scored on a held-out loss plus a linear probe, paired
 * over seeds: the design the DNA (dna-hyena) and speech (wav2vec-ln-dyt)
 * experiments share. Two arms, each pretrained at its own tuned lr on the
 * evaluation seeds, and two claims, both "A matches B": one on the held-out
 * pretraining loss (lower is better; the metric, its units and margin are the
 * experiment's), one on the test accuracy of a linear probe on the frozen
 * model's features (points; every probe must reach the learned threshold for
 * its classes). The same probe on the model at initialisation is reported
 * beside it, and seeds are added while either claim is inconclusive.
 *
 * What lives here is what both experiments do alike, so one change reaches
 * both: an arm's per-seed probe, plateau and cost fields, the probe claim,
 * the run-and-extend loop, and the sentences and number formats of their
 * statements. Each experiment keeps its own metric (bits per base in mbit;
 * nats, strict accuracy, codebook state), its summary fields and the words
 * that name them.
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import { resolveArm } from "./arms";
import { classifyRun, learnedThreshold, type RunClass } from "./classify";
import { armSeeds, pairOverSeeds, type ArmSeeds } from "./compare";
import { edgeNote } from "./jobs";
import { RULES, type ProtocolRules } from "./rules";
import type { DinoProtocolRecord, DnaProtocolRecord, MaeProtocolRecord, ProtocolRecord, SpeechProtocolRecord } from "./runner";
import { runArmStudy, type ArmLr, type ArmStudy, type LrPolicy } from "./study";
import type { AnyRunBase, ResolvedOf } from "./task";
import type { LrPick } from "./tuning";
import { describeEffect, type Outcome, type PairedEvidence, type Precondition } from "./verdict";
import { fixed, signed } from "../../util/format";

/** A saved run of a pretrain-then-probe task: what the shared per-arm fields read. */
export type PretrainProbeRecord = DnaProtocolRecord | SpeechProtocolRecord | MaeProtocolRecord | DinoProtocolRecord;

/** One paired comparison of two arms (pairOverSeeds' answer). */
export type PairVerdict = ReturnType<typeof pairOverSeeds>;

/** One arm's evaluation runs, by seed: what every pretrain + probe experiment reports; each adds its own metric. */
export interface PretrainProbeRuns extends ArmSeeds {
  /** Probe test accuracy (%) per seed, of the pretrained model and of the same model at initialisation (NaN where none). */
  probeAccs: number[];
  probeInitAccs: number[];
  /** Each probe's class by the protocol's accuracy rule, for the probe task's number of classes. */
  probeClasses: RunClass[];
  /** Validation fall over the last third of each run (the experiment's units), and whether it plateaued by its rule. */
  lateGain: number[];
  plateaued: boolean[];
  /** How its lr was chosen. */
  lrNote: string;
  /** Mean final DyT alpha over layers and seeds (DyT arms). */
  meanFinalAlpha?: number;
  params: number;
  /** Mean training cost over its runs (ms per step, one worker). */
  msPerStep: number;
}

/** One claim's verdict and the statement that explains it. */
export interface PretrainProbeClaim {
  verdict: Outcome;
  reason: string;
  evidence?: PairedEvidence;
  statement: string;
}

/** What an experiment adds to the shared per-arm fields. */
export interface ArmMetrics<R extends PretrainProbeRecord, M extends object> {
  /** Its own per-seed fields (the pretraining metric and what is reported beside it), from the runs in seed order. */
  metrics: (rs: readonly R[]) => M;
  /** A run's validation fall over its last third and whether it plateaued, by the experiment's rule. */
  late: (r: R) => { gain: number; plateaued: boolean };
  /** Classes of the probe task (its learned threshold). */
  probeClasses: number;
}

/** x (a fraction) in %, NaN where absent. */
export const percent = (x: number | undefined): number => (x === undefined ? NaN : 100 * x);

/**
 * The evaluation runs of arm `armId`, in seed order: the arm's seeds, then the
 * experiment's own fields, then the shared ones (this order is the summary
 * JSON's, so committed summaries rebuild byte for byte). An arm with no runs
 * yet still gets its label and lr, with empty per-seed fields.
 */
export function pretrainProbeArmRuns<R extends PretrainProbeRecord, M extends object>(
  records: readonly R[],
  armId: string,
  lr: ArmLr | undefined,
  m: ArmMetrics<R, M>,
  rules: ProtocolRules = RULES,
): PretrainProbeRuns & M {
  const rs = records.filter((r) => r.role === "eval" && r.arm === armId).sort((x, y) => x.seed - y.seed);
  const seeds: ArmSeeds = rs.length ? armSeeds(rs, rules) : { arm: armId, label: resolveArm(armId).label, lr: lr?.lr ?? NaN, seeds: [], accs: [], classes: [] };
  const late = rs.map(m.late);
  const alphas = rs.flatMap((r) => (r.result.finalAlpha ? Object.values(r.result.finalAlpha) : []));
  const ms = rs.map((r) => r.result.msPerStep).filter(Number.isFinite);
  // A run that did not complete has no probe worth reading.
  const probe = (r: R) => (r.result.status === "completed" ? r.result.probe : undefined);
  return {
    ...seeds,
    ...m.metrics(rs),
    probeAccs: rs.map((r) => percent(probe(r)?.testAcc)),
    probeInitAccs: rs.map((r) => percent(probe(r)?.init?.testAcc)),
    probeClasses: rs.map((r) => classifyRun({ status: r.result.status, ...(r.result.probe ? { acc: r.result.probe.testAcc } : {}), numClasses: m.probeClasses }, rules)),
    lateGain: late.map((x) => x.gain),
    plateaued: late.map((x) => x.plateaued),
    lrNote: lr?.note ?? "",
    ...(alphas.length ? { meanFinalAlpha: meanStd(alphas).mean } : {}),
    params: rs[0]?.result.params ?? 0,
    msPerStep: ms.length ? meanStd(ms).mean : NaN,
  };
}

/** Every probe of the arm reached the learned threshold for `numClasses`: without it the probe claim is not testable. */
export function probePrecondition(a: Pick<PretrainProbeRuns, "label" | "probeClasses">, numClasses: number, rules: ProtocolRules = RULES): Precondition {
  const ok = a.probeClasses.filter((c) => c === "learned").length;
  return { ok: a.probeClasses.length > 0 && ok === a.probeClasses.length, reason: `${a.label} probe: ${ok} of ${a.probeClasses.length} seed(s) at or above ${(100 * learnedThreshold(numClasses, rules)).toFixed(0)} % (the learned threshold for ${numClasses} classes)` };
}

/** The probe claim: "A matches B" on the probe's test accuracy (points), paired over seeds; every probe must have learned. */
export function compareProbe<T extends PretrainProbeRuns>(a: T, b: T, numClasses: number, rules: ProtocolRules = RULES): PairVerdict {
  return pairOverSeeds(a, b, "matches", rules, { values: (r) => r.probeAccs, metric: "probe test accuracy", extra: [probePrecondition(a, numClasses, rules), probePrecondition(b, numClasses, rules)] });
}

/** An experiment's arms from its records, and its two claims on them. */
export interface PretrainProbeClaims<R, T extends PretrainProbeRuns> {
  armRuns: (records: readonly R[], armId: string, lr: ArmLr | undefined, rules: ProtocolRules) => T;
  pretrain: (a: T, b: T, rules: ProtocolRules) => PairVerdict;
  probe: (a: T, b: T, rules: ProtocolRules) => PairVerdict;
}

/** Both arms at their lrs and both claims on them: what the summary and the seed extension read alike. */
export function pairArms<R, T extends PretrainProbeRuns>(c: PretrainProbeClaims<R, T>, records: readonly R[], arms: readonly [string, string], lrs: Record<string, ArmLr>, rules: ProtocolRules = RULES): { a: T; b: T; pretrain: PairVerdict; probe: PairVerdict } {
  const [A, B] = arms;
  const a = c.armRuns(records, A, lrs[A], rules);
  const b = c.armRuns(records, B, lrs[B], rules);
  return { a, b, pretrain: c.pretrain(a, b, rules), probe: c.probe(a, b, rules) };
}

/**
 * Run (or load) the study: tuning, evaluation seeds and, while either claim is
 * inconclusive, the extra seeds for both arms; then summarise and save the
 * summary under the study's experiment.
 */
export async function runPretrainProbeStudy<B extends AnyRunBase, T extends PretrainProbeRuns, S>(
  ctx: ExperimentContext,
  study: ArmStudy<B>,
  arms: readonly [string, string],
  claims: PretrainProbeClaims<ProtocolRecord<ResolvedOf<B>>, T>,
  summarize: (records: readonly ProtocolRecord<ResolvedOf<B>>[]) => S,
  rules: ProtocolRules = RULES,
  summaryName = "summary.json",
): Promise<{ records: ProtocolRecord<ResolvedOf<B>>[]; summary: S }> {
  const inconclusive = (records: ProtocolRecord<ResolvedOf<B>>[], lrs: Record<string, ArmLr>): string[] => {
    const p = pairArms(claims, records, arms, lrs, rules);
    return [p.pretrain, p.probe].some((c) => c.outcome === "inconclusive") ? [...arms] : [];
  };
  const { records } = await runArmStudy(ctx, study, inconclusive, rules);
  const summary = summarize(records);
  saveSummary(study.experiment, ctx.scale, summary, summaryName);
  return { records, summary };
}

/** A claim as the summary keeps it: the verdict, its reason and evidence, and the statement. */
export function toClaim(c: PairVerdict, statement: string): PretrainProbeClaim {
  return { verdict: c.outcome, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}), statement };
}

// Numbers in statements: lib/util/format.ts (re-exported for the specs that read them from here).
export { fixed, signed };

/** Mean ± std over the finite values (a run without the metric is left out); NaN when there are none. */
export function finiteMeanStd(v: readonly number[]): { mean: number; std: number; n: number } {
  const m = meanStd(v.filter(Number.isFinite));
  return m.n ? m : { mean: NaN, std: NaN, n: 0 };
}

const f2 = fixed(2);

/** "DyT 1.9287 ± 0.0004 at lr 0.01": an arm's pretraining metric over seeds. */
export function meanAtLr(r: Pick<ArmSeeds, "label" | "lr">, values: readonly number[], fmt: (x: number) => string): string {
  const m = finiteMeanStd(values);
  return `${r.label} ${fmt(m.mean)} ± ${fmt(m.std)} at lr ${r.lr}`;
}

/** "lr tuned per arm on validation bits per base (seed 101, grid 0.001, 0.003, 0.01)", or the shared lr and why. */
export function lrPolicySentence(lr: LrPolicy, tunedOn: string): string {
  return lr.kind === "tuned" ? `lr tuned per arm on ${tunedOn} (seed ${lr.tuning.seed}, grid ${lr.tuning.lrs.join(", ")})` : `shared lr ${lr.lr} (${lr.why})`;
}

/** The DyT arm's α₀ as its records resolved it ("—" before any DyT run). */
export function dytAlpha0(records: readonly PretrainProbeRecord[]): string {
  const r = records.find((x) => x.config.model.norm === "dyt");
  return r?.config.normResolved.alpha0 !== undefined ? String(r.config.normResolved.alpha0) : "—";
}

/** " Best lr at the edge of the grid ...; the comparison may be bounded by the lr grid." (leading space), or "". */
export function edgeSentence(picks: Iterable<LrPick>, a: Pick<ArmSeeds, "arm" | "label">, b: Pick<ArmSeeds, "arm" | "label">): string {
  const edge = edgeNote(picks, (arm) => (arm === a.arm ? a.label : arm === b.arm ? b.label : arm));
  return edge ? ` ${edge[0]!.toUpperCase()}${edge.slice(1)}; the comparison may be bounded by the lr grid.` : "";
}

/** Every run of both arms has a plateau reading and plateaued. */
export function everyRunPlateaued(arms: readonly Pick<PretrainProbeRuns, "plateaued">[]): boolean {
  return arms.every((r) => r.plateaued.length > 0 && r.plateaued.every(Boolean));
}

/** How an experiment words its plateau rule. */
export interface PlateauWords {
  /** "validation loss fell < 0.025 nats": said when every run plateaued. */
  fell: string;
  /** "validation loss fall over the last third, nats": heads the per-run falls otherwise. */
  falls: string;
  rule: number;
  fmt: (x: number) => string;
}

/** The plateau sentence: reported, not required (a verdict at a fixed budget). */
export function plateauSentence(arms: readonly Pick<PretrainProbeRuns, "label" | "lateGain">[], all: boolean, w: PlateauWords): string {
  return all
    ? `Every run plateaued (${w.fell} over its last third).`
    : `Not every run plateaued (${w.falls}: ${arms.map((r) => `${r.label} ${r.lateGain.map(w.fmt).join("/")}`).join(", ")}; rule < ${w.rule}): a verdict at this budget.`;
}

/** How a lower-is-better gap is written: metric, units, decimals and an optional note on the units. */
export interface GapWords {
  metric: string;
  units: string;
  digits: number;
  note?: string;
}

/** "DyT − LayerNorm test pretraining loss: +0.012 [−0.020, +0.044] nats (n = 3; detectable 0.031 nats)": the evidence on negated values (B − A) turned back into A − B. */
export function lowerIsBetterGap(e: PairedEvidence, a: string, b: string, w: GapWords): string {
  const t = e.test;
  const s = signed(w.digits);
  return `${a} − ${b} ${w.metric}: ${s(-t.mean)} [${s(-t.ci[1])}, ${s(-t.ci[0])}] ${w.units} (n = ${t.n}; detectable ${fixed(w.digits)(t.detectable)} ${w.units}${w.note ? `; ${w.note}` : ""})`;
}

/** The pretraining claim's statement: `head` (the arms' metric and baselines), then the evidence and what "matches" means, or why there is none; then the plateau and lr-edge sentences. */
export function pretrainStatement(head: string, c: PairVerdict, gap: (e: PairedEvidence) => string, matches: string, plateau: string, edge: string): string {
  return `${head}. ` + (c.evidence ? `${gap(c.evidence)}; "matches" means ${matches}. ` : `No paired evidence (${c.reason}). `) + plateau + edge;
}

/** "DyT 72.95 ± 1.78 % (at initialisation 69.72 %)": an arm's probe accuracy, and what the same probe gave before pretraining. */
export function probeAccText(r: Pick<PretrainProbeRuns, "label" | "probeAccs" | "probeInitAccs">): string {
  const m = finiteMeanStd(r.probeAccs);
  const i = finiteMeanStd(r.probeInitAccs);
  return `${r.label} ${f2(m.mean)} ± ${f2(m.std)} % (at initialisation ${f2(i.mean)} %)`;
}

/** The probe claim's statement: `probe` names the probe, `after` follows the accuracies (e.g. the majority-class rate); then the evidence or why there is none, and the lr-edge sentence. */
export function probeStatement(what: { probe: string; after?: string }, a: PretrainProbeRuns, b: PretrainProbeRuns, c: PairVerdict, edge: string, rules: ProtocolRules = RULES): string {
  return (
    `${what.probe}, test accuracy (mean ± std over seeds): ${probeAccText(a)}, ${probeAccText(b)}${what.after ?? ""}. ` +
    (c.evidence ? `${a.label} − ${b.label}: ${describeEffect(c.evidence)}; "matches" means ${a.label} − ${b.label} > −${rules.matchMarginPoints} point.` : `No paired evidence (${c.reason}).`) +
    edge
  );
}
