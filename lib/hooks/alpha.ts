import type { AlphaTrace } from "../plot/figures";
import type { Model, TrainHook } from "../train/trainer";

/** Current alpha of every DyT layer, keyed by the norm's name. */
export function readAlphas(model: Pick<Model, "norms">): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of model.norms()) if (n.alpha) out[n.name] = n.alpha.dataSync()[0]!;
  return out;
}

/** Adds `alpha: {layer: value}` to each logged metrics line (nothing for models without DyT). */
export function alphaTraceHook(): TrainHook {
  return {
    name: "alpha-trace",
    onLog(_step, model) {
      const a = readAlphas(model);
      return Object.keys(a).length ? { alpha: a } : undefined;
    },
  };
}


/** Per-layer alpha series from metrics lines written with alphaTraceHook. */
export function alphaTraces(log: { step: number; alpha?: unknown }[]): AlphaTrace[] {
  const by = new Map<string, AlphaTrace>();
  for (const l of log) {
    const a = l.alpha as Record<string, number> | undefined;
    if (!a) continue;
    for (const [layer, v] of Object.entries(a)) {
      let t = by.get(layer);
      if (!t) by.set(layer, (t = { layer, step: [], alpha: [] }));
      t.step.push(l.step);
      t.alpha.push(v);
    }
  }
  return [...by.values()];
}
