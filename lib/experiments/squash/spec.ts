/**
 * Paper ablation (Table 7) under the protocol: DyT with other squashing
 * functions, with alpha learned (from alpha0 = 0.5) or frozen at 1 (the
 * paper's "without alpha": y = gamma * phi(x) + beta), and identity (no
 * squashing). Each arm at its own lr tuned on validation where the scale
 * affords it, else at a stated shared lr; claims are paired over seeds.
 *
 * "Identity diverges" (claim 5-identity) needs the paper's setting: with
 * gradient clipping every update is bounded, and on a 2-block model an
 * identity norm practically never diverges. The claim is therefore tested on
 * a stated variant without clipping (identity-learn-noclip); an identity arm
 * that clips gives "not testable" with that reason.
 */
import type { Squasher } from "../../norms/types";
import type { ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { VIT_SMALL } from "../sizes";
import { deriveArm, type Arm } from "../protocol/arms";
import { allOf, armComparer, describeComparison, describeVerdict, type ArmResult, type CombinedVerdict, type Comparison } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import type { ProtocolRecord } from "../protocol/runner";
import { armStudy, runComparisonStudy, studyArms, type ArmStudy, type StudyScale } from "../protocol/study";
import { describeBase } from "../protocol/jobs";
import type { LrPick } from "../protocol/tuning";
import type { ClaimVerdict, Outcome } from "../protocol/verdict";

export const SQUASH = "squash";

export type AlphaMode = "learned" | "fixed1" | "fixed0.5";

/** The DyT arm with squasher `sq` and alpha `mode` (labels are defined here and nowhere else). */
export function squashArm(sq: Squasher, mode: AlphaMode): Arm {
  switch (mode) {
    case "learned":
      return deriveArm("dyt", { id: `${sq}-learn`, label: `${sq}, learned α`, normOptions: { squash: sq, alpha0: 0.5, learnAlpha: true } });
    case "fixed1":
      return deriveArm("dyt", { id: `${sq}-fixed1`, label: `${sq}, no α (frozen at 1)`, normOptions: { squash: sq, alpha0: 1, learnAlpha: false } });
    case "fixed0.5":
      return deriveArm("dyt", { id: `${sq}-fixed0.5`, label: `${sq}, α frozen at 0.5`, normOptions: { squash: sq, alpha0: 0.5, learnAlpha: false } });
  }
}

/** Identity with learned alpha and no gradient clipping: the paper's setting for "identity diverges". */
export const IDENTITY_NOCLIP: Arm = deriveArm("dyt", { id: "identity-learn-noclip", label: "identity, learned α, no clipping", normOptions: { squash: "identity", alpha0: 0.5, learnAlpha: true }, train: { clipNorm: 0 } });

function armAxes(a: Arm): Record<string, string> {
  const o = a.normOptions ?? {};
  const alpha = o.learnAlpha === false ? (o.alpha0 === 1 ? "fixed1" : `fixed${o.alpha0}`) : "learned";
  return { squash: o.squash ?? "tanh", alpha, clip: a.train?.clipNorm === 0 ? "off" : "on" };
}

export interface SquashScale extends StudyScale {
  arms: Arm[];
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const learn = (...sq: Squasher[]) => sq.map((s) => squashArm(s, "learned"));
const fixed1 = (...sq: Squasher[]) => sq.map((s) => squashArm(s, "fixed1"));
const AT_TANH = (why: string) => ({ arm: "tanh-learn", why });

/**
 * The small ViT (width 32, 2 blocks) on the first 20,000 training images,
 * 1 epoch per run: the full grid is 8 claim arms tuned over 4 lrs (1e-3..6.4e-2) plus 3 seeds
 * each (plus 3 descriptive squashers), about the steps of the pre-protocol grid.
 */
export const SQUASH_SCALES: Record<Scale, SquashScale> = {
  smoke: {
    base: { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { ...TRAIN, batchSize: 32, evalLimit: 200 }, data: { trainLimit: 1000, testLimit: 300 } },
    epochs: 0.5,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "shared", lr: 2e-3, why: "smoke runs only check the plumbing" },
    arms: [...learn("tanh", "identity"), ...fixed1("tanh"), IDENTITY_NOCLIP],
  },
  quick: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 10_000, testLimit: 5000 } },
    epochs: 1,
    seeds: [1, 2, 3],
    extraSeeds: [],
    lr: { kind: "shared", lr: 2e-3, why: "quick keeps the reproduce run short; full tunes each arm's lr" },
    arms: [...learn("tanh", "hardtanh", "sigmoid", "identity"), ...fixed1("tanh"), IDENTITY_NOCLIP],
  },
  full: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    epochs: 1,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    // Widened after the first full run under the protocol (commit d4a50f4), where every arm's pick sat at
    // the old grid's top, 4e-3 (the optimum lay above it); that run is kept in results/squash/full-grid-1e-3-4e-3/.
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 } },
    arms: [...learn("tanh", "hardtanh", "sigmoid", "identity"), ...fixed1("tanh", "hardtanh", "sigmoid"), IDENTITY_NOCLIP, ...learn("shifted-sigmoid", "softsign", "erf")],
    lrFrom: {
      "identity-learn-noclip": AT_TANH("the claim swaps the squasher in tanh DyT's recipe and drops clipping"),
      "shifted-sigmoid-learn": AT_TANH("descriptive arm, in no claim"),
      "softsign-learn": AT_TANH("descriptive arm, in no claim"),
      "erf-learn": AT_TANH("descriptive arm, in no claim"),
    },
  },
};

export function squashStudy(s: SquashScale): ArmStudy {
  return armStudy(SQUASH, s, s.arms, { axes: armAxes });
}

/** "Identity diverges": the claim's own rule on the no-clipping identity arm (not a paired comparison). */
export interface IdentityVerdict extends ClaimVerdict {
  /** Runs of the tested arm that diverged, of all. */
  diverged: number;
  runs: number;
  statement: string;
}

export interface SquashSummary {
  experiment: string;
  scale: Scale;
  /** Model and budget the verdicts hold for. */
  setup: string;
  picks: LrPick[];
  arms: ArmResult[];
  comparisons: Comparison[];
  /** Claim 5: tanh beats hardtanh, hardtanh beats sigmoid (alpha learned), each at its lr. */
  ordering: CombinedVerdict;
  /** Claim 5: identity (no squashing) diverges, without gradient clipping. */
  identity: IdentityVerdict;
  /** Claim 6: without alpha (frozen at 1) is worse than with alpha learned, for each squasher run. */
  removeAlpha: CombinedVerdict;
  /** Reviewer: a learnable scale alone (identity, alpha learned) is worse than tanh DyT. */
  scaleAlone: Comparison;
  verdict: string;
  statement: string;
}

export async function runSquash(ctx: ExperimentContext, override: Partial<SquashScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: SquashSummary }> {
  const s: SquashScale = { ...SQUASH_SCALES[ctx.scale], ...override };
  return runComparisonStudy(ctx, squashStudy(s), (arms) => squashComparisons(arms, rules).all, (records) => summarizeSquash(ctx.scale, records, s, rules), rules);
}

function squashComparisons(arms: ArmResult[], rules: ProtocolRules) {
  const cmp = armComparer(arms, rules);
  const ordering = [...cmp("tanh-learn", "hardtanh-learn", "beats"), ...cmp("hardtanh-learn", "sigmoid-learn", "beats")];
  const removeAlpha = (["tanh", "hardtanh", "sigmoid"] as Squasher[]).flatMap((sq) => cmp(`${sq}-fixed1`, `${sq}-learn`, "worse"));
  const scaleAlone = cmp("identity-learn", "tanh-learn", "worse");
  return { ordering, removeAlpha, scaleAlone, all: [...ordering, ...removeAlpha, ...scaleAlone] };
}

/**
 * The identity rule: supported when every seed of the no-clipping identity
 * arm diverged, not supported when every seed learned, else inconclusive.
 * Not testable when the arm was not run, clips its gradients, or has < 2 seeds.
 */
export function identityVerdict(arm: ArmResult | undefined, clipNorm: number | undefined, rules: ProtocolRules = RULES): IdentityVerdict {
  const rule = "rule: supported when every seed diverged, not supported when every seed learned, else inconclusive";
  if (!arm) return { outcome: "not testable", reason: "the identity arm without gradient clipping was not run at this scale", diverged: 0, runs: 0, statement: "No identity run without clipping." };
  const n = arm.seeds.length;
  const div = arm.classes.filter((c) => c === "diverged").length;
  const learned = arm.classes.filter((c) => c === "learned").length;
  const stuck = n - div - learned;
  const statement = `${arm.label} at lr ${arm.lr} (${arm.lrNote}): ${div} of ${n} seeds diverged${arm.divergedSteps.length ? ` (steps ${arm.divergedSteps.join(", ")})` : ""}, ${learned} learned, ${stuck} did not learn (chance + ${Math.round(100 * rules.learnedFraction)} % of the way to 100 % counts as learned).`;
  const base = { diverged: div, runs: n, statement };
  if (clipNorm === undefined || clipNorm > 0)
    return {
      ...base,
      outcome: "not testable",
      reason: `the identity arm clips gradients (global norm ${clipNorm ?? "?"}): every update is bounded, so divergence, the claim's phenomenon, cannot show on this model; the claim is testable only without clipping`,
    };
  if (n < 2) return { ...base, outcome: "not testable", reason: `${n} seed(s)` };
  if (div === n) return { ...base, outcome: "supported", reason: `${div} of ${n} seeds diverged; ${rule}` };
  if (learned === n) return { ...base, outcome: "not supported", reason: `every seed (${n}) trained without diverging and learned; ${rule}` };
  return { ...base, outcome: "inconclusive", reason: `${div} diverged, ${learned} learned, ${stuck} did not learn; ${rule}` };
}

export function summarizeSquash(scale: Scale, records: ProtocolRecord[], s: SquashScale = SQUASH_SCALES[scale], rules: ProtocolRules = RULES): SquashSummary {
  const { picks, arms } = studyArms(squashStudy(s), records, rules);
  const c = squashComparisons(arms, rules);
  const ordering = allOf(c.ordering, rules);
  const removeAlpha = allOf(c.removeAlpha, rules);
  const scaleAlone = c.scaleAlone[0] ?? { arms: ["identity-learn", "tanh-learn"], a: "identity, learned α", b: "tanh, learned α", prediction: "worse", lrPolicy: "—", metric: "test accuracy", outcome: "not testable", reason: "an arm was not run at this scale" };
  const noclip = records.find((r) => r.role === "eval" && r.arm === IDENTITY_NOCLIP.id);
  const identity = identityVerdict(
    arms.find((a) => a.arm === IDENTITY_NOCLIP.id),
    noclip?.config.train.clipNorm,
    rules,
  );
  const clipped = arms.find((a) => a.arm === "identity-learn");
  if (clipped) identity.statement += ` With clipping (${clipped.label}): ${clipped.diverged} of ${clipped.seeds.length} seeds diverged.`;
  const outcomes: [string, Outcome][] = [
    ["5", ordering.outcome],
    ["5-identity", identity.outcome],
    ["6", removeAlpha.outcome],
    ["R-squash-scale", scaleAlone.outcome],
  ];
  return {
    experiment: SQUASH,
    scale,
    setup: describeBase(s.base, s.epochs),
    picks,
    arms,
    comparisons: c.all,
    ordering,
    identity,
    removeAlpha,
    scaleAlone,
    verdict: outcomes.map(([id, o]) => `${id}: ${o}`).join("; "),
    statement: [
      describeVerdict("tanh > hardtanh > sigmoid (α learned)", ordering),
      `Identity diverges: ${identity.outcome} (${identity.reason}). ${identity.statement}`,
      describeVerdict("Without α (frozen at 1) is worse", removeAlpha),
      `A learnable scale alone: ${describeComparison(scaleAlone)}.`,
    ].join(" "),
  };
}
