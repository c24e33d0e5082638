/** Shared LM test fixtures: a tiny LM base and made-up LM protocol records (lm-protocol, lm-embed-scale). */
import { resolveArm, type ArmRef } from "../lib/experiments/protocol/arms";
import type { LmRunBase } from "../lib/experiments/protocol/lm-task";
import type { LmProtocolRecord } from "../lib/experiments/protocol/runner";
import { resolveRun } from "../lib/experiments/protocol/task";

/** A tiny LM on the first 4 k tokens of the text train split: the runner's bookkeeping is under test, not learning. */
export const LM_TEST_BASE: LmRunBase = {
  task: "lm-text",
  model: { dim: 16, depth: 1, heads: 2 },
  train: { steps: 6, batchSize: 4, warmupSteps: 1, evalEvery: 3, evalLimit: 8, evalBatchSize: 8, logEvery: 1, checkpointEvery: 3 },
  data: { seqLen: 16, trainTokens: 4097, testLimit: 8 },
};

/** A made-up LM record: final validation and test bpb, the baselines of a typical English byte stream. */
export function fakeLm(o: { arm?: ArmRef; seed?: number; lr?: number; bpb?: number; status?: string; role?: "tune" | "eval" }): LmProtocolRecord {
  const a = resolveArm(o.arm ?? "rmsnorm");
  const config = resolveRun(LM_TEST_BASE, a, o.seed ?? 101, { lr: o.lr ?? 1e-3 });
  const done = (o.status ?? "completed") === "completed";
  const base = { uniformBpb: 8.0, unigramBpb: 4.5 };
  return {
    experiment: "t",
    scale: "smoke",
    run: `${a.id}-${o.lr}-${o.seed}`,
    seed: o.seed ?? 101,
    epoch: 2,
    role: o.role ?? "tune",
    arm: a.id,
    label: a.label,
    axes: {},
    config,
    result: {
      status: (o.status ?? "completed") as "completed",
      log: [],
      evals: o.bpb === undefined ? [] : [{ step: 3, loss: 2, acc: 0.3, bpb: o.bpb + 0.3 }, { step: 6, loss: 1.8, acc: 0.4, bpb: o.bpb }],
      ...(done && o.bpb !== undefined ? { test: { loss: 1.8, acc: 0.4, bpb: o.bpb } } : {}),
      baselines: { val: base, test: base },
      params: 1,
      msPerStep: 1,
      trainWallTimeSec: 1,
    },
    provenance: {} as never,
    wallTimeSec: 1,
  };
}
