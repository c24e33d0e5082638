/**
 * One run classification for every experiment: diverged, did not learn, or
 * learned. A verdict never rests on a run that diverged or stayed at chance:
 * claims check "both arms learned" as a precondition. Classifiers are judged
 * on accuracy against chance, language models on held-out bits per byte
 * (DNA models: bits per nucleotide) against the unigram baseline, wav2vec
 * models on contrastive accuracy (ties lost) against chance 1/(K+1).
 */
import { RULES, type ProtocolRules } from "./rules";
import type { DinoProtocolRecord, DitProtocolRecord, DnaProtocolRecord, LmProtocolRecord, MaeProtocolRecord, SpeechProtocolRecord } from "./runner";

export type RunClass = "diverged" | "did not learn" | "learned";

export interface ClassifiableRun {
  status: string;
  /** Final accuracy in [0, 1] (test, or validation where no test was run). */
  acc?: number;
  numClasses: number;
}

/** The accuracy (0..1) at or above which a run counts as having learned. */
export function learnedThreshold(numClasses: number, rules: ProtocolRules = RULES): number {
  const chance = 1 / numClasses;
  return chance + rules.learnedFraction * (1 - chance);
}

export function classifyRun(r: ClassifiableRun, rules: ProtocolRules = RULES): RunClass {
  if (r.status === "diverged" || r.acc === undefined || !Number.isFinite(r.acc)) return r.status === "diverged" ? "diverged" : "did not learn";
  return r.acc >= learnedThreshold(r.numClasses, rules) ? "learned" : "did not learn";
}

/** Validation-accuracy curve of a run: has it plateaued by the protocol's rule? */
/** The first eval at or after two thirds of the last eval's step, and the last: what every plateau rule compares. */
function lastThird<E extends { step: number }>(evals: readonly E[]): { ref: E; last: E } {
  const last = evals[evals.length - 1]!;
  return { ref: evals.find((e) => e.step >= (2 / 3) * last.step) ?? last, last };
}

export function plateaued(evals: readonly { step: number; acc: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainPoints: number } {
  if (evals.length < 2) return { plateaued: false, gainPoints: NaN };
  const { ref, last } = lastThird(evals);
  const gainPoints = 100 * (last.acc - ref.acc);
  return { plateaued: ref !== last && gainPoints < rules.plateauPoints, gainPoints };
}

/** A language-model run: its status, final held-out bpb and the unigram baseline of the same split. */
export interface ClassifiableLmRun {
  status: string;
  bpb?: number;
  unigramBpb: number;
}

/**
 * diverged: the trainer stopped it, or its final bpb is not finite; learned:
 * final bpb at least `lmLearnedBelowUnigramBpb` below the unigram baseline;
 * did not learn: otherwise (also an unfinished run with no final bpb).
 */
export function classifyLmRun(r: ClassifiableLmRun, rules: ProtocolRules = RULES): RunClass {
  return classifyBelowUnigram(r, rules.lmLearnedBelowUnigramBpb);
}

/** A DNA language-model run (bpb = bits per nucleotide): classifyLmRun's rule with the DNA threshold (rules.dnaLearnedBelowUnigramBits). */
export function classifyDnaRun(r: ClassifiableLmRun, rules: ProtocolRules = RULES): RunClass {
  return classifyBelowUnigram(r, rules.dnaLearnedBelowUnigramBits);
}

function classifyBelowUnigram(r: ClassifiableLmRun, below: number): RunClass {
  if (r.status === "diverged" || (r.bpb !== undefined && !Number.isFinite(r.bpb))) return "diverged";
  if (r.bpb === undefined) return "did not learn";
  return r.bpb <= r.unigramBpb - below ? "learned" : "did not learn";
}

/**
 * A bits-scored run (LM: bits per byte; DNA: bits per base) on one split: its
 * final bits there (validation: the last eval; test: the final test; NaN when
 * it has none) and its class against that split's unigram baseline, with the
 * task's own threshold. lr tuning, the alpha0 grid and recordClass score runs
 * this way.
 */
export function bitsScore(r: LmProtocolRecord | DnaProtocolRecord, split: "val" | "test", rules: ProtocolRules = RULES): { bpb: number; class: RunClass } {
  const bpb = split === "val" ? r.result.evals.at(-1)?.bpb : r.result.test?.bpb;
  const classify = r.config.task === "dna-lm" ? classifyDnaRun : classifyLmRun;
  return { bpb: bpb ?? NaN, class: classify({ status: r.result.status, ...(bpb !== undefined ? { bpb } : {}), unigramBpb: r.result.baselines[split].unigramBpb }, rules) };
}

/** Validation-bpb curve of an LM run: has it plateaued by the protocol's rule (fall < lmPlateauBpb over the last third)? */
export function lmPlateaued(evals: readonly { step: number; bpb?: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainBpb: number } {
  return bitsPlateaued(evals, rules.lmPlateauBpb);
}

/** Validation bits-per-base curve of a DNA run: plateaued when it fell < rules.dnaPlateauBits over the last third. */
export function dnaPlateaued(evals: readonly { step: number; bpb?: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainBpb: number } {
  return bitsPlateaued(evals, rules.dnaPlateauBits);
}

function bitsPlateaued(evals: readonly { step: number; bpb?: number }[], threshold: number): { plateaued: boolean; gainBpb: number } {
  if (evals.length < 2) return { plateaued: false, gainBpb: NaN };
  const { ref, last } = lastThird(evals);
  const gainBpb = (ref.bpb ?? NaN) - (last.bpb ?? NaN);
  return { plateaued: ref !== last && gainBpb < threshold, gainBpb };
}

/**
 * A wav2vec run on one split (pre-registered for wav2vec-ln-dyt, 2026-12-02):
 * its pretraining loss there (validation: the last eval; test: the final
 * test; NaN when it has none) and its class by the accuracy rule: learned when
 * the contrastive accuracy with ties lost (`strictAcc`: a distractor equal to
 * its target is a tie) is at least rules.learnedFraction of the way from
 * chance 1/(K+1) to 100 %. Never by the loss: with a collapsed codebook the
 * distractors equal their target, leave fairseq's softmax, and its loss falls
 * to ~0 with nothing learned (fairseq's accuracy then reads 100 %; strictAcc
 * 0). The loss read here is the eval's `loss`, which counts those ties
 * (evaluateWav2Vec; amended before any run), so collapse scores chance.
 */
export function speechScore(r: SpeechProtocolRecord, split: "val" | "test", rules: ProtocolRules = RULES): { loss: number; strictAcc: number; class: RunClass } {
  const e = split === "val" ? (r.result.evals.at(-1) as { loss: number; strictAcc?: number } | undefined) : r.result.test;
  const loss = e?.loss ?? NaN;
  const strictAcc = e?.strictAcc ?? NaN;
  if (r.result.status === "diverged" || (e && !Number.isFinite(loss))) return { loss, strictAcc, class: "diverged" };
  return { loss, strictAcc, class: classifyRun({ status: r.result.status, ...(e?.strictAcc !== undefined ? { acc: e.strictAcc } : {}), numClasses: r.config.model.numNegatives + 1 }, rules) };
}

/** Validation-loss curve of a wav2vec run: plateaued when the loss fell < rules.speechPlateauNats over the last third. */
export function speechPlateaued(evals: readonly { step: number; loss: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainNats: number } {
  const p = bitsPlateaued(evals.map((e) => ({ step: e.step, bpb: e.loss })), rules.speechPlateauNats);
  return { plateaued: p.plateaued, gainNats: p.gainBpb };
}

/**
 * A DiT run on one split (pre-registered for dit-ln-dyt, 2026-12-04, rules
 * ditMatchFdRatio): its denoising loss there (validation: the last eval;
 * test: the final test; NaN when it has none) and its class by the accuracy
 * rule on its samples: learned when the Fréchet-distance classifier assigns
 * at least rules.learnedFraction of the way from chance to 100 % of them to
 * their conditioning class. A run with no samples (it did not finish) did not
 * learn; a diverged one diverged.
 */
export function ditScore(r: DitProtocolRecord, split: "val" | "test", rules: ProtocolRules = RULES): { loss: number; sampleAcc: number; class: RunClass } {
  const loss = (split === "val" ? r.result.evals.at(-1)?.loss : r.result.test?.loss) ?? NaN;
  const sampleAcc = r.result.samples?.sampleAcc ?? NaN;
  if (r.result.status === "diverged" || (r.result.status === "completed" && !Number.isFinite(loss))) return { loss, sampleAcc, class: "diverged" };
  return { loss, sampleAcc, class: classifyRun({ status: r.result.status, ...(r.result.samples ? { acc: sampleAcc } : {}), numClasses: r.config.model.numClasses }, rules) };
}

/** Validation denoising-loss curve of a DiT run: plateaued when it fell by < rules.ditPlateauRelative of its value over the last third. */
export function ditPlateaued(evals: readonly { step: number; loss: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainRelative: number } {
  return relativePlateau(evals, rules.ditPlateauRelative);
}

/** A loss curve plateaued when it fell by < `threshold` of its value over the last third. */
function relativePlateau(evals: readonly { step: number; loss: number }[], threshold: number): { plateaued: boolean; gainRelative: number } {
  if (evals.length < 2) return { plateaued: false, gainRelative: NaN };
  const { ref, last } = lastThird(evals);
  const gainRelative = (ref.loss - last.loss) / ref.loss;
  return { plateaued: ref !== last && gainRelative < threshold, gainRelative };
}

/**
 * An MAE run on one split (pre-registered for mae-ln-dyt, 2026-12-04): its
 * masked-reconstruction loss there (validation: the last eval; test: the
 * final test; NaN when none) and its class by the accuracy rule on the
 * fine-tuned classifier: on "val" its best validation accuracy over the
 * fine-tuning grid (lr tuning never reads the test split), on "test" its test
 * accuracy. A run with no fine-tuning (it did not finish) did not learn.
 */
export function maeScore(r: MaeProtocolRecord, split: "val" | "test", rules: ProtocolRules = RULES): { loss: number; acc: number; class: RunClass } {
  const loss = (split === "val" ? r.result.evals.at(-1)?.loss : r.result.pretrainTest?.loss) ?? NaN;
  const vals = (r.result.finetune?.grid ?? []).map((g) => g.valAcc).filter((v): v is number => v !== null);
  const acc = split === "val" ? (vals.length ? Math.max(...vals) : NaN) : (r.result.test?.acc ?? NaN);
  if (r.result.status === "diverged" || (r.result.status === "completed" && !Number.isFinite(loss))) return { loss, acc, class: "diverged" };
  return { loss, acc, class: classifyRun({ status: r.result.status, ...(Number.isFinite(acc) ? { acc } : {}), numClasses: 10 }, rules) };
}

/** Validation reconstruction-loss curve of an MAE run: plateaued when it fell by < rules.maePlateauRelative of its value over the last third. */
export function maePlateaued(evals: readonly { step: number; loss: number }[], rules: ProtocolRules = RULES): { plateaued: boolean; gainRelative: number } {
  return relativePlateau(evals, rules.maePlateauRelative);
}

/** DINO's collapse check (rules.dinoCollapseFraction) on the teacher's entropies: "one prototype", "uniform", or undefined (no collapse). */
export function dinoCollapse(e: { teacherEntropy: number; marginalEntropy: number; lnOutDim: number } | undefined, rules: ProtocolRules = RULES): "one prototype" | "uniform" | undefined {
  if (!e) return undefined;
  if (e.marginalEntropy <= rules.dinoCollapseFraction * e.lnOutDim) return "one prototype";
  if (e.teacherEntropy >= (1 - rules.dinoCollapseFraction) * e.lnOutDim) return "uniform";
  return undefined;
}

/**
 * A DINO run on one split (pre-registered for dino-ln-dyt, 2026-12-04): the
 * teacher's k-NN accuracy there (validation: the last eval; test: the final
 * test; NaN when none), the same network's at initialisation, and its class:
 * learned when the accuracy is at least rules.learnedFraction of the way
 * from the init's accuracy to 100 % and the teacher did not collapse
 * (dinoCollapse, on that split's entropies). A run that did not finish has
 * no init reference and did not learn.
 */
export function dinoScore(r: DinoProtocolRecord, split: "val" | "test", rules: ProtocolRules = RULES): { acc: number; initAcc: number; collapse?: string; class: RunClass } {
  const last = r.result.evals.at(-1);
  const acc = (split === "val" ? last?.acc : r.result.test?.acc) ?? NaN;
  const initAcc = r.result.knnInit?.[split] ?? NaN;
  const st = split === "val" ? last?.stats : r.result.collapse;
  const collapse = dinoCollapse(st && { teacherEntropy: st.teacherEntropy!, marginalEntropy: st.marginalEntropy!, lnOutDim: st.lnOutDim! }, rules);
  if (r.result.status === "diverged" || (r.result.status === "completed" && !Number.isFinite(acc))) return { acc, initAcc, class: "diverged" };
  if (r.result.status !== "completed" || !Number.isFinite(initAcc)) return { acc, initAcc, class: "did not learn" };
  const learned = acc >= initAcc + rules.learnedFraction * (1 - initAcc) && !collapse;
  return { acc, initAcc, ...(collapse ? { collapse } : {}), class: learned ? "learned" : "did not learn" };
}
