/**
 * Synthetic protocol records for verdict tests: a real resolved config
 * (resolveRun on a small base) with a made-up result.
 */
import { armOrPlacement } from "../lib/experiments/protocol/jobs";
import type { ProtocolRecord } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";
import type { LogLine } from "../lib/train/trainer";

export interface FakeRun {
  experiment?: string;
  arm: string;
  seed: number;
  /** Final test accuracy 0..1 (also the last validation accuracy); omitted with `divergeAt`. */
  acc?: number;
  /** The trainer stopped the run on a blow-up at this step (no test result). */
  divergeAt?: number;
  lr?: number;
  depth?: number;
  role?: ProtocolRecord["role"];
  axes?: ProtocolRecord["axes"];
  /** Training loss of every step (default: falling from 2.3 by 0.03 a step). */
  losses?: number[];
  steps?: number;
  /** Extra fields per log line (e.g. activation stats), by step. */
  extra?: (step: number) => Record<string, unknown>;
}

export function fakeRecord(o: FakeRun): ProtocolRecord {
  const a = armOrPlacement(o.arm);
  const steps = o.steps ?? 40;
  const resolved = resolveRun({ model: { dim: 16, depth: o.depth ?? 2, heads: 2, patchSize: 7 }, train: { steps, warmupSteps: 2, logEvery: 1 }, data: { trainLimit: 100, testLimit: 100 } }, a, o.seed, o.lr !== undefined ? { lr: o.lr } : {});
  const n = o.divergeAt ?? steps;
  const log: LogLine[] = Array.from({ length: n }, (_, i) => ({ step: i, loss: o.losses?.[i] ?? 2.3 - i * 0.03, lr: resolved.train.lr, gradNorm: 1 + i / 100, ...(o.extra?.(i) ?? {}) }) as LogLine);
  if (o.divergeAt !== undefined) log.push({ step: o.divergeAt, loss: NaN, lr: resolved.train.lr, gradNorm: NaN } as LogLine);
  const diverged = o.divergeAt !== undefined;
  return {
    experiment: o.experiment ?? "test",
    scale: "smoke",
    run: `${o.role ?? "eval"}-${a.id}-d${o.depth ?? 2}-lr${resolved.train.lr}-s${o.seed}`,
    seed: o.seed,
    epoch: 2,
    role: o.role ?? "eval",
    arm: a.id,
    label: a.label,
    axes: { ...(o.depth !== undefined ? { depth: o.depth } : {}), lr: resolved.train.lr, ...o.axes },
    config: resolved,
    result: {
      status: diverged ? "diverged" : "completed",
      ...(diverged ? { diverged: { step: o.divergeAt!, reason: "non-finite loss (NaN)" } } : { test: { loss: 0.5, acc: o.acc! } }),
      log,
      evals: diverged ? [] : [{ step: Math.round(steps / 2), loss: 1, acc: o.acc! * 0.9 }, { step: steps - 1, loss: 0.5, acc: o.acc! }],
      params: 1,
      msPerStep: 1,
      trainWallTimeSec: 1,
    },
    provenance: {} as never,
    wallTimeSec: 1,
  } as ProtocolRecord;
}
