/**
 * Reviewer study: does DyT replace LN in every norm placement, and with
 * depth? The same ViT with pre-norm, post-norm and res-post-norm (Swin-V2,
 * gain 0 at init) blocks, LN or DyT in every slot, at several depths; same
 * recipe and seeds everywhere. Post-norm is known to need warmup; every arm
 * gets the same warmup.
 */
import { PLACEMENTS, type Placement } from "../models/transformer";
import type { ViTConfig } from "../models/vit";
import { assertNormKind } from "../norms/factory";
import type { NormKind } from "../norms/types";
import type { TrainConfig } from "../train/trainer";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { meanStd } from "./stats-lite";
import { vitRunSetup } from "./norm-free";
import { runVitFashionOne, type VitFashionConfig, type VitRunResult } from "./protocol/legacy";

export const PLACEMENT = "placement";

export interface PlacementConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  norms: NormKind[];
  placements: Placement[];
  depths: number[];
  seeds: number[];
  trainLimit: number;
  testLimit: number;
}

export const PLACEMENT_SCALES: Record<Scale, PlacementConfig> = {
  smoke: {
    model: { dim: 32, heads: 2, patchSize: 7 },
    train: { steps: 8, batchSize: 32, warmupSteps: 2, evalEvery: 8, evalLimit: 128, logEvery: 4, checkpointEvery: 0, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    placements: [...PLACEMENTS],
    depths: [2],
    seeds: [1],
    trainLimit: 500,
    testLimit: 250,
  },
  quick: {
    model: { dim: 32, heads: 4, patchSize: 7 },
    train: { steps: 200, batchSize: 64, warmupSteps: 20, evalEvery: 100, evalLimit: 1000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    placements: [...PLACEMENTS],
    depths: [2, 6],
    seeds: [1, 2],
    trainLimit: 0,
    testLimit: 2000,
  },
  // full: sized for the shared 2-core machine (36 runs).
  full: {
    model: { dim: 32, heads: 4, patchSize: 7 },
    train: { steps: 300, batchSize: 64, warmupSteps: 30, evalEvery: 150, evalLimit: 1000, logEvery: 10, checkpointEvery: 150, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    placements: [...PLACEMENTS],
    depths: [2, 6],
    seeds: [1, 2, 3],
    trainLimit: 0,
    testLimit: 5000,
  },
};

export interface PlacementCell {
  norm: NormKind;
  placement: Placement;
  depth: number;
  seeds: number[];
  /** Test accuracy %, diverged runs at chance. */
  scoredAcc: { mean: number; std: number; n: number };
  diverged: number;
}

export interface PlacementSummary {
  experiment: string;
  scale: Scale;
  /** The model and budget the verdict holds for (depth is varied). */
  setup: string;
  cells: PlacementCell[];
  verdict: string;
  statement: string;
}

export async function runPlacement(ctx: ExperimentContext, override: Partial<PlacementConfig> = {}): Promise<{ records: RunRecord<VitFashionConfig, VitRunResult>[]; summary: PlacementSummary }> {
  const cfg: PlacementConfig = { ...PLACEMENT_SCALES[ctx.scale], ...override };
  cfg.norms.forEach((n) => assertNormKind(n));
  for (const p of cfg.placements)
    if (!(PLACEMENTS as readonly string[]).includes(p)) throw new Error(`placement: unknown placement "${p}"; valid: ${PLACEMENTS.join(", ")}`);
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<VitFashionConfig, VitRunResult>[] = [];
  for (const seed of seeds)
    for (const depth of cfg.depths)
      for (const placement of cfg.placements)
        for (const norm of cfg.norms) {
          const run = `${norm}-${placement}-d${depth}-s${seed}`;
          const runCfg: VitFashionConfig = { model: { ...cfg.model, depth, placement }, train: cfg.train, norms: [norm], seeds: [seed], trainLimit: cfg.trainLimit, testLimit: cfg.testLimit };
          records.push(await cachedRun(PLACEMENT, ctx, run, seed, runCfg, (dir) => runVitFashionOne(runCfg, norm, seed, dir, `${PLACEMENT}/${ctx.scale}/${run}`)));
        }
  const summary = summarizePlacement(ctx.scale, records);
  saveSummary(PLACEMENT, ctx.scale, summary);
  return { records, summary };
}

export function summarizePlacement(scale: Scale, records: RunRecord<VitFashionConfig, VitRunResult>[]): PlacementSummary {
  const key = (r: RunRecord<VitFashionConfig, VitRunResult>) => `${r.config.norms[0]}|${r.config.model.placement}|${r.config.model.depth}`;
  const cells: PlacementCell[] = [...new Set(records.map(key))].map((k) => {
    const rs = records.filter((r) => key(r) === k);
    const [norm, placement, depth] = k.split("|");
    return {
      norm: norm as NormKind,
      placement: placement as Placement,
      depth: Number(depth),
      seeds: rs.map((r) => r.seed),
      scoredAcc: meanStd(rs.map((r) => (r.result.test ? 100 * r.result.test.acc : 100 / (r.config.model.numClasses ?? 10)))),
      diverged: rs.filter((r) => r.result.status === "diverged").length,
    };
  });
  return { experiment: PLACEMENT, scale, setup: vitRunSetup(records[0]?.config).replace(/depth \d+/, `depth ${[...new Set(cells.map((c) => c.depth))].join("/")}`), cells, ...placementVerdict(cells) };
}

/**
 * DyT keeps up with LN in a (placement, depth) cell when its mean test
 * accuracy (diverged = chance) is no lower than LN's minus two standard
 * errors of the difference. Supported when it keeps up in every cell.
 */
export function placementVerdict(cells: PlacementCell[]): { verdict: string; statement: string } {
  const pairs = cells
    .filter((c) => c.norm === "layernorm")
    .map((ln) => ({ ln, dy: cells.find((c) => c.norm === "dyt" && c.placement === ln.placement && c.depth === ln.depth) }))
    .filter((p): p is { ln: PlacementCell; dy: PlacementCell } => p.dy !== undefined);
  if (pairs.length === 0) return { verdict: "not testable at this scale", statement: "No (placement, depth) cell has both LayerNorm and DyT runs." };
  const rows = pairs.map(({ ln, dy }) => {
    const diff = dy.scoredAcc.mean - ln.scoredAcc.mean;
    const band = 2 * Math.sqrt(ln.scoredAcc.std ** 2 / ln.scoredAcc.n + dy.scoredAcc.std ** 2 / dy.scoredAcc.n);
    return { ln, dy, diff, band, behind: diff < -band };
  });
  const facts = rows.map((r) => `${r.ln.placement} d${r.ln.depth}: DyT-LN ${r.diff >= 0 ? "+" : ""}${r.diff.toFixed(2)} pts (2 SE ${r.band.toFixed(2)}; diverged LN ${r.ln.diverged}, DyT ${r.dy.diverged})`).join("; ");
  const n = Math.min(...rows.flatMap((r) => [r.ln.scoredAcc.n, r.dy.scoredAcc.n]));
  if (n < 2) return { verdict: "not testable at this scale", statement: `One seed per cell cannot separate the norms from seed noise. ${facts}.` };
  const behind = rows.filter((r) => r.behind);
  return behind.length === 0
    ? { verdict: "supported", statement: `DyT kept up with LN in every placement and depth (n = ${n} seeds): ${facts}.` }
    : { verdict: "not supported", statement: `DyT fell behind LN beyond seed noise in ${behind.map((r) => `${r.ln.placement} d${r.ln.depth}`).join(", ")} (n = ${n} seeds): ${facts}.` };
}
