/**
 * LLM.int8-style outlier features (Dettmers et al. 2022) on the tracked
 * Linear inputs (q/k/v, Wo, fc1) of every layer, with the aggregation fixed in
 * baselines.md:
 *   feature c is an outlier if |x| >= thr at c in >= 25% of layers (a layer
 *   counts if ANY of its tracked tensors hits c at least once) AND c is hit
 *   at >= 6% of the positions (rows; batch pooled) of at least one tracked
 *   tensor.
 * thr = 6 (absolute), or in the RMS-relative variant 6 * RMS of that tensor
 * (DyT outputs are bounded by |g|+|b| and LN outputs have RMS ~1, so an
 * absolute 6 means different things for the two).
 */
import * as tf from "@tensorflow/tfjs";
import { kurtosis } from "./kurtosis";

/** A row-major [positions, features] matrix. */
export interface FeatureMatrix {
  data: ArrayLike<number>;
  positions: number;
  features: number;
}

/** A tracked input: a matrix, or a tensor whose last axis is the feature axis ([B,T,C] pools B*T positions). */
export type TrackedInput = FeatureMatrix | tf.Tensor;

export interface OutlierOptions {
  /** Magnitude threshold (default 6). With relative: true, a multiple of each tensor's RMS. */
  threshold?: number;
  relative?: boolean;
  /** Min fraction of layers that must hit the feature (default 0.25). */
  layerFraction?: number;
  /** Min fraction of positions hit in some tracked tensor (default 0.06). */
  positionFraction?: number;
}

export interface TensorOutlierStats {
  layer: number;
  index: number;
  /** The |x| threshold applied to this tensor. */
  threshold: number;
  maxAbs: number;
  rms: number;
  /** max|X| / RMS(X). */
  maxOverRms: number;
  kurtosis: number;
  excessKurtosis: number;
}

export interface OutlierReport {
  /** Outlier feature indices, ascending. */
  outliers: number[];
  count: number;
  /** Per feature: fraction of layers hit. */
  layerFraction: number[];
  /** Per feature: max over tracked tensors of the fraction of positions hit. */
  positionFraction: number[];
  tensors: TensorOutlierStats[];
  options: Required<OutlierOptions>;
}

/** Host view of a tracked input as [positions, features]. */
export function asFeatureMatrix(x: TrackedInput): FeatureMatrix {
  if (x instanceof tf.Tensor) {
    const features = x.shape[x.shape.length - 1] ?? 1;
    return { data: x.dataSync(), positions: x.size / features, features };
  }
  if (x.data.length !== x.positions * x.features) throw new Error(`matrix data has ${x.data.length} values, expected ${x.positions}x${x.features}`);
  return x;
}

/** max|X|, RMS, their ratio and kurtosis of one tensor (all elements). */
export function magnitudeStats(data: ArrayLike<number>): { maxAbs: number; rms: number; maxOverRms: number; kurtosis: number; excessKurtosis: number } {
  let maxAbs = 0;
  let ss = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(v));
    ss += v * v;
  }
  const rms = Math.sqrt(ss / data.length);
  const k = kurtosis(data);
  return { maxAbs, rms, maxOverRms: maxAbs / rms, kurtosis: k.k, excessKurtosis: k.excess };
}

/** Apply the outlier rule; layers[l] lists layer l's tracked inputs (all with the same feature count). */
export function outlierFeatures(layers: readonly (readonly TrackedInput[])[], opts: OutlierOptions = {}): OutlierReport {
  const o: Required<OutlierOptions> = {
    threshold: opts.threshold ?? 6,
    relative: opts.relative ?? false,
    layerFraction: opts.layerFraction ?? 0.25,
    positionFraction: opts.positionFraction ?? 0.06,
  };
  let C = -1;
  const layerHits: number[] = [];
  const posFrac: number[] = [];
  const tensors: TensorOutlierStats[] = [];
  layers.forEach((tracked, l) => {
    const hitThisLayer = new Set<number>();
    tracked.forEach((input, index) => {
      const m = asFeatureMatrix(input);
      if (C < 0) {
        C = m.features;
        for (let c = 0; c < C; c++) {
          layerHits.push(0);
          posFrac.push(0);
        }
      } else if (m.features !== C) throw new Error(`layer ${l} input ${index} has ${m.features} features, expected ${C}`);
      const st = magnitudeStats(m.data);
      const thr = o.relative ? o.threshold * st.rms : o.threshold;
      tensors.push({ layer: l, index, threshold: thr, ...st });
      const counts = new Array<number>(C).fill(0);
      for (let t = 0; t < m.positions; t++) {
        const row = t * C;
        for (let c = 0; c < C; c++) if (Math.abs(m.data[row + c]!) >= thr) counts[c]!++;
      }
      for (let c = 0; c < C; c++) {
        if (counts[c]! > 0) hitThisLayer.add(c);
        posFrac[c] = Math.max(posFrac[c]!, counts[c]! / m.positions);
      }
    });
    for (const c of hitThisLayer) layerHits[c]!++;
  });
  const nLayers = layers.length;
  const layerFraction = layerHits.map((h) => h / nLayers);
  const outliers: number[] = [];
  for (let c = 0; c < Math.max(C, 0); c++) {
    if (layerFraction[c]! >= o.layerFraction && posFrac[c]! >= o.positionFraction) outliers.push(c);
  }
  return { outliers, count: outliers.length, layerFraction, positionFraction: posFrac, tensors, options: o };
}
