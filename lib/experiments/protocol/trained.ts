import { readAlphas } from "../../hooks/alpha";
import type { Model, TrainResult } from "../../train/trainer";

/**
 * What every task saves of a finished training run, whatever the model:
 * status, curves, timing, parameter count and (DyT models) the final alphas.
 * Each task adds its own test metric and extras.
 */
export function trainedFields(res: TrainResult, model: Pick<Model, "norms"> & { parameterCount(): number }) {
  const alphas = res.status === "completed" ? readAlphas(model) : {};
  return {
    status: res.status,
    diverged: res.diverged,
    log: res.log,
    evals: res.evals,
    params: model.parameterCount(),
    msPerStep: res.msPerStep,
    trainWallTimeSec: res.wallTimeSec,
    ...(Object.keys(alphas).length ? { finalAlpha: alphas } : {}),
  };
}
