/**
 * Reviewer study: does DyT replace LayerNorm in every norm placement, and
 * with depth? The same ViT with pre-norm, post-norm and res-post-norm
 * (Swin-V2, gain 0 at init) blocks, LN or DyT in every slot, at several
 * depths; same budget (epochs), schedule and seeds everywhere. Each
 * (norm, placement) arm runs at its own lr, tuned on validation at the
 * tuning depth with a tuning seed. Per (placement, depth) cell: DyT keeps up
 * with LN (paired "matches" on test accuracy) where LN learns; the claim
 * needs every cell (intersection-union over cells).
 */
import { PLACEMENTS, type Placement } from "../../models/transformer";
import type { Scale } from "../scale";
import { saveSummary, type ExperimentContext } from "../runner";
import { arm, deriveArm, type Arm } from "../protocol/arms";
import { armJob, describeBase, edgeNote, epochSchedule, picksFor, tuneJobs, type ArmJobSpec } from "../protocol/jobs";
import { armSeeds, everyCell, keepsUp, type ArmComparison, type ArmSeeds } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type ProtocolRecord } from "../protocol/runner";
import type { RunBase } from "../protocol/task";
import { assertTuning, type LrPick, type LrTuningConfig } from "../protocol/tuning";
import { describeEffect, type Outcome, type PairedEvidence } from "../protocol/verdict";

export const PLACEMENT = "placement";

export interface PlacementScale {
  base: RunBase;
  /** [A, B]: the claim is "A replaces B in every placement" (registry ids: DyT, LayerNorm). */
  norms: [string, string];
  placements: Placement[];
  depths: number[];
  epochs: number;
  seeds: number[];
  /** Each arm's lr is tuned at `depth` and used at every depth. */
  tuning: LrTuningConfig & { depth: number };
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

/**
 * full: width 32, depths 2 and 6, 0.8 epoch of the first 20,000 training
 * images (250 steps at batch 64; the old budget was 300 steps at lr 1e-3 for
 * every arm) x 3 seeds = 36 runs, plus 6 arms x 3 tuning lrs at depth 2.
 */
export const PLACEMENT_SCALES: Record<Scale, PlacementScale> = {
  smoke: {
    base: { model: { dim: 32, heads: 2, patchSize: 7 }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 500, testLimit: 250 } },
    norms: ["dyt", "layernorm"],
    placements: [...PLACEMENTS],
    depths: [2],
    epochs: 0.5,
    seeds: [1, 2],
    tuning: { lrs: [1e-3, 4e-3], seed: 101, depth: 2 },
  },
  quick: {
    base: { model: { dim: 32, heads: 4, patchSize: 7 }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    norms: ["dyt", "layernorm"],
    placements: [...PLACEMENTS],
    depths: [2, 6],
    epochs: 0.5,
    seeds: [1, 2],
    tuning: { lrs: [4e-3, 1.6e-2], seed: 101, depth: 2 },
  },
  full: {
    base: { model: { dim: 32, heads: 4, patchSize: 7 }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 5000 } },
    norms: ["dyt", "layernorm"],
    placements: [...PLACEMENTS],
    depths: [2, 6],
    epochs: 0.8,
    seeds: [1, 2, 3],
    tuning: { lrs: [4e-3, 1.6e-2, 6.4e-2], seed: 101, depth: 2 },
  },
};

/** The registry arm of a norm in a placement: "dyt-post", label "DyT post". */
export function placementArm(norm: string, placement: Placement): Arm {
  return deriveArm(norm, { placement });
}

export interface PlacementCell {
  arm: string;
  label: string;
  norm: string;
  placement: Placement;
  depth: number;
  runs: ArmSeeds;
}

export interface PlacementComparison extends ArmComparison {
  placement: Placement;
  depth: number;
  cell: string;
}

export interface PlacementSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  picks: LrPick[];
  cells: PlacementCell[];
  comparisons: PlacementComparison[];
  /** The claim's combined evidence (weakest cell's test; intersection-union p-values), when every live cell had one. */
  evidence?: PairedEvidence;
  verdict: Outcome;
  reason: string;
  statement: string;
}

function checkScale(s: PlacementScale): void {
  for (const p of s.placements) if (!(PLACEMENTS as readonly string[]).includes(p)) throw new Error(`${PLACEMENT}: unknown placement "${p}"; valid: ${PLACEMENTS.join(", ")}`);
  for (const d of [...s.depths, s.tuning.depth]) if (!Number.isInteger(d) || d < 1) throw new Error(`${PLACEMENT}: depths must be positive integers, got ${d}`);
  s.norms.forEach((n) => arm(n));
}

export async function runPlacement(ctx: ExperimentContext, override: Partial<PlacementScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: PlacementSummary }> {
  const s: PlacementScale = { ...PLACEMENT_SCALES[ctx.scale], ...override };
  checkScale(s);
  const seeds = ctx.seeds ?? s.seeds;
  assertTuning(s.tuning, seeds, PLACEMENT);
  const arms = s.placements.flatMap((p) => s.norms.map((n) => placementArm(n, p)));
  const spec: ArmJobSpec = { experiment: PLACEMENT, scale: ctx.scale, base: { ...s.base, train: { ...s.base.train, ...epochSchedule(s.epochs, s.base) } } };
  const tuneRecs = await runJobs(tuneJobs(spec, arms, s.tuning, { suffix: `d${s.tuning.depth}`, axes: { depth: s.tuning.depth }, model: { depth: s.tuning.depth } }), ctx);
  const picks = picksFor(tuneRecs, arms.map((a) => a.id), rules);
  const jobs = seeds.flatMap((seed) =>
    s.depths.flatMap((depth) => arms.map((a) => armJob(spec, a, seed, { run: `${a.id}-d${depth}-s${seed}`, role: "eval", lr: picks.get(a.id)!.bestLr, axes: { depth }, model: { depth } }))),
  );
  const records = [...tuneRecs, ...(await runJobs(jobs, ctx))];
  const summary = summarizePlacement(records, { ...s, seeds }, ctx.scale, rules);
  saveSummary(PLACEMENT, ctx.scale, summary);
  return { records, summary };
}

export function summarizePlacement(records: readonly ProtocolRecord[], s: PlacementScale, scale: Scale, rules: ProtocolRules = RULES): PlacementSummary {
  const [A, B] = s.norms;
  const armIds = s.placements.flatMap((p) => s.norms.map((n) => placementArm(n, p).id));
  const picks = [...picksFor(records, armIds.filter((id) => records.some((r) => r.role === "tune" && r.arm === id)), rules).values()];
  const cells: PlacementCell[] = s.placements.flatMap((placement) =>
    s.depths.flatMap((depth) =>
      s.norms.flatMap((norm) => {
        const a = placementArm(norm, placement);
        const rs = records.filter((r) => r.role === "eval" && r.arm === a.id && r.axes.depth === depth);
        return rs.length ? [{ arm: a.id, label: a.label, norm, placement, depth, runs: armSeeds(rs, rules) }] : [];
      }),
    ),
  );
  const comparisons: PlacementComparison[] = s.placements.flatMap((placement) =>
    s.depths.flatMap((depth) => {
      const at = (n: string) => cells.find((c) => c.norm === n && c.placement === placement && c.depth === depth);
      const a = at(A);
      const b = at(B);
      return a && b ? [{ ...keepsUp(a.runs, b.runs, rules), placement, depth, cell: `${placement} d${depth}` }] : [];
    }),
  );
  const all = everyCell(comparisons, rules);
  const edges = edgeNote(picks, (id) => cells.find((c) => c.arm === id)?.label ?? id);
  const setup = `${describeBase(s.base, s.epochs)}; depths ${s.depths.join("/")}; lr tuned per (norm, placement) on validation at depth ${s.tuning.depth} (seed ${s.tuning.seed}, grid ${s.tuning.lrs.join(", ")}); ${s.seeds.length} seeds`;
  const facts = comparisons.map((c) => `${c.cell}: ${c.evidence ? `${c.a.label.split(" ")[0]} − ${c.b.label.split(" ")[0]} ${describeEffect(c.evidence)}` : c.reason} (${c.outcome})`).join("; ");
  const statement = `${all.outcome}: ${all.reason}. Per cell: ${facts || "none"}.${edges ? ` ${edges}.` : ""}`;
  return { experiment: PLACEMENT, scale, setup, picks, cells, comparisons, ...(all.evidence ? { evidence: all.evidence } : {}), verdict: all.outcome, reason: all.reason, statement };
}
