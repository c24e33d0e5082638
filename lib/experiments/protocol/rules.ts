/**
 * The protocol's decision rules, written down before the protocol-2 runs
 * (2026-12-01) and used by every experiment. Tests move each threshold by
 * 1 % and check that no committed verdict flips (test/protocol.test.ts).
 */
export interface ProtocolRules {
  /** Family-wise error rate of the claims table (Holm). */
  alpha: number;
  /** Confidence level of every reported interval. */
  level: number;
  /**
   * A run "learned" when its final accuracy is at least this fraction of the
   * way from chance to 100 % (0.2: 28 % on 10 classes). Runs stuck at chance
   * (10 %) and runs that learn (>= 40 % after one epoch here) sit far from it.
   */
  learnedFraction: number;
  /**
   * A run has plateaued when its validation accuracy rose by less than this
   * many points between the eval at two thirds of its steps and its last eval.
   */
  plateauPoints: number;
  /** "A matches B" (non-inferiority) margin, accuracy points. */
  matchMarginPoints: number;
  /** "A beats B" counts as refuted when the data exclude an advantage this large (points). */
  beatMarginPoints: number;
  /** Seeds of a comparison; seeds are added up to maxSeeds while the outcome is inconclusive. */
  minSeeds: number;
  maxSeeds: number;
  /**
   * Language models (bits per byte, lower is better). A run "learned" when its
   * final held-out bpb is at least this far below the unigram baseline of the
   * same split (the training split's byte frequencies, ~4.5 bpb on English
   * bytes). A model that has not learned to use context sits at the unigram
   * rate; bigram statistics alone already lie about 1 bpb below it, so any run
   * that uses context clears 0.25, and a stuck run (a few hundredths of noise
   * around the unigram rate) does not. Written 2026-12-02, before any LM run.
   */
  lmLearnedBelowUnigramBpb: number;
  /**
   * "A matches B" margin for held-out bpb: A's bpb is at most this much above
   * B's. 0.02 bpb is ~1 % of the ~2-3 bpb the lab's small byte-level models
   * reach, the relative size of the ViT claim's 1-point margin on ~85 %
   * accuracy; the paper reports DyT and RMSNorm LLaMA losses as equal.
   */
  lmMatchMarginBpb: number;
  /**
   * An LM run has plateaued when its validation bpb fell by less than this
   * between the eval at two thirds of its steps and its last eval. LM claims
   * are made at a fixed token budget, as the paper's (its LLaMA runs stop at
   * 200B tokens, not at convergence): the plateau check is reported with the
   * verdict, not required by it.
   */
  lmPlateauBpb: number;
  /**
   * DNA language models (bits per nucleotide, lower is better; lib/data/dna.ts,
   * the dna-lm task). Written 2026-12-02, before any DNA model run, from
   * context-free statistics of the pretraining splits only: the unigram rate of
   * the validation split (training-split base frequencies) is 1.998 bits per
   * base, and order-k Markov models of the training split reach 1.979 (k = 1),
   * 1.962 (k = 4) and 1.946 (k = 8): on these mostly bacterial genomes all the
   * context a small model can use is worth a few hundredths of a bit, not the
   * ~2 bits per byte of English text, so the LM thresholds do not carry over.
   *
   * A run "learned" when its final held-out bits per base are at least this far
   * below the unigram baseline of the same split: half of what the previous
   * base alone is worth (order-1 Markov, 0.019 bits). A model stuck at the base
   * frequencies sits within a few thousandths of the unigram rate.
   */
  dnaLearnedBelowUnigramBits: number;
  /**
   * "A matches B" margin for held-out bits per base: A's is at most this much
   * above B's. 0.01 bits is 0.5 % of the ~2 bits per base, and about a fifth of
   * the ~0.05 bits an order-8 Markov model gains over the unigram rate, so
   * "matches" cannot hide the loss of a large share of what context buys (a
   * 0.02 margin, the LM's, would be ~40 % of it).
   */
  dnaMatchMarginBits: number;
  /**
   * A DNA run has plateaued when its validation bits per base fell by less than
   * this between the eval at two thirds of its steps and its last eval (half
   * the match margin). Reported with the verdict, not required by it: DNA
   * claims are made at a fixed budget, as the LM's.
   */
  dnaPlateauBits: number;
  /**
   * Speech (wav2vec 2.0 pretraining, the speech-pretrain task; experiment
   * wav2vec-ln-dyt). Pre-registered by the lead on 2026-12-02, before any run
   * of that experiment. The metric is the test-split pretraining loss in nats
   * per masked step: the objective's total (contrastive + diversityWeight x
   * diversity term), what fairseq reports as its validation loss and what the
   * paper compares (wav2vec 2.0 Base 1.95 / 1.95, Large 1.92 / 1.91, LN / DyT).
   * Amended the same day, before any run: the loss counts ties (the
   * contrastive term over all K + 1 candidates, a distractor equal to its
   * target kept in), so codebook collapse cannot lower it; fairseq's total is
   * reported beside it (wav2vec-ln-dyt spec, AMENDMENT).
   * A run "learned" by the accuracy rule (learnedFraction of the way from
   * chance 1/(K+1) to 100 % in contrastive accuracy with ties lost), never by
   * the loss: a collapsed codebook makes distractors equal their target,
   * they leave the softmax and the loss falls with nothing learned.
   *
   * "A matches B" margin for that loss: A's at most this many nats above B's.
   * 0.05 is 2.5 % of the paper's ~1.95; the paper's own gaps are 0.00 and 0.01.
   */
  speechMatchMarginNats: number;
  /**
   * A speech run has plateaued when its validation pretraining loss fell by
   * less than this (nats) between the eval at two thirds of its steps and its
   * last eval (half the match margin). Reported, not required: the claim is
   * made at a fixed budget, as the LM and DNA claims.
   */
  speechPlateauNats: number;
  /**
   * DiT (class-conditional diffusion on Fashion-MNIST, the image-diffusion
   * task; experiment dit-ln-dyt). Pre-registered on 2026-12-04, before any
   * run of that experiment. The claim's metric is the Fréchet distance (FD)
   * of 1,000 DDIM samples to 1,000 real test images in a ViT classifier's
   * features (the paper's FID, with the lab's classifier in place of
   * Inception: a proxy). FD has no natural unit, so arms are compared on
   * ln FD: "A matches B" when A's FD is at most this factor above B's,
   * ln FD_A − ln FD_B < ln(ditMatchFdRatio). 1.10: the paper's largest DiT
   * gap is DyT 20.8 vs LN 19.9 FID (+4.5 %, XL/2); its other two favour DyT.
   * A run "learned" by the accuracy rule on its samples: the classifier
   * assigns at least learnedFraction of the way from chance (10 %) to 100 %
   * of them to the class they were conditioned on (28 %); a sampler that
   * makes noise or one class for every label scores ~10 %.
   */
  ditMatchFdRatio: number;
  /**
   * A DiT run has plateaued when its validation denoising loss fell by less
   * than this fraction of its value between the eval at two thirds of its
   * steps and its last eval. Reported with the verdict, not required by it
   * (the claim is made at a fixed budget, as the paper's 400k steps).
   */
  ditPlateauRelative: number;
  /**
   * MAE (experiment mae-ln-dyt; pre-registered 2026-12-04, before any run). A
   * run has plateaued when its validation masked-reconstruction loss fell by
   * less than this fraction of its value over its last third; reported with
   * the verdicts, not required by them. The claims themselves use the
   * accuracy rules above: fine-tuned and linear-probe test accuracy, "DyT
   * matches LN" within matchMarginPoints, every run learned by
   * learnedFraction (10 classes: 28 %).
   */
  maePlateauRelative: number;
  /**
   * DINO (experiment dino-ln-dyt; pre-registered 2026-12-04, before any run
   * of the experiment). A random ViT's features already classify well by
   * k-NN (~50 % on Fashion-MNIST), so the accuracy rule reads the way from
   * the same network at initialisation: a run learned when its teacher's
   * k-NN accuracy is at least learnedFraction of the way from its init's to
   * 100 %, and its teacher did not collapse. Collapsed: the entropy of the
   * teacher's mean output is at most this fraction of ln(prototypes) (one
   * prototype takes every image), or its mean per-image entropy at least
   * 1 - this fraction of it (uniform outputs). Claims: "DyT matches LN" on
   * k-NN and linear-probe test accuracy within matchMarginPoints; the
   * accuracy plateau rule (plateauPoints) on the validation k-NN curve is
   * reported beside them.
   */
  dinoCollapseFraction: number;
}

export const RULES: ProtocolRules = {
  alpha: 0.05,
  level: 0.95,
  learnedFraction: 0.2,
  plateauPoints: 1.0,
  matchMarginPoints: 1.0,
  beatMarginPoints: 1.0,
  minSeeds: 3,
  maxSeeds: 5,
  lmLearnedBelowUnigramBpb: 0.25,
  lmMatchMarginBpb: 0.02,
  lmPlateauBpb: 0.05,
  dnaLearnedBelowUnigramBits: 0.01,
  dnaMatchMarginBits: 0.01,
  dnaPlateauBits: 0.005,
  speechMatchMarginNats: 0.05,
  speechPlateauNats: 0.025,
  ditMatchFdRatio: 1.1,
  ditPlateauRelative: 0.01,
  maePlateauRelative: 0.01,
  dinoCollapseFraction: 0.05,
};

/** The rules with every threshold scaled by `factor` (robustness checks). */
export function scaledRules(factor: number, base: ProtocolRules = RULES): ProtocolRules {
  return {
    ...base,
    learnedFraction: base.learnedFraction * factor,
    plateauPoints: base.plateauPoints * factor,
    matchMarginPoints: base.matchMarginPoints * factor,
    beatMarginPoints: base.beatMarginPoints * factor,
    lmLearnedBelowUnigramBpb: base.lmLearnedBelowUnigramBpb * factor,
    lmMatchMarginBpb: base.lmMatchMarginBpb * factor,
    lmPlateauBpb: base.lmPlateauBpb * factor,
    dnaLearnedBelowUnigramBits: base.dnaLearnedBelowUnigramBits * factor,
    dnaMatchMarginBits: base.dnaMatchMarginBits * factor,
    dnaPlateauBits: base.dnaPlateauBits * factor,
    speechMatchMarginNats: base.speechMatchMarginNats * factor,
    speechPlateauNats: base.speechPlateauNats * factor,
    // The ratio's excess over 1 is the threshold (1.10 -> 1.111 at factor 1.01).
    ditMatchFdRatio: 1 + (base.ditMatchFdRatio - 1) * factor,
    ditPlateauRelative: base.ditPlateauRelative * factor,
    maePlateauRelative: base.maePlateauRelative * factor,
    dinoCollapseFraction: base.dinoCollapseFraction * factor,
  };
}
