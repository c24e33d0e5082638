import * as tf from "@tensorflow/tfjs";

export interface KnnOptions {
  /** Neighbours that vote (DINO reports k = 20). */
  k: number;
  /** Each neighbour votes exp(cosine similarity / temperature) (DINO: 0.07). */
  temperature: number;
  /** Queries per matrix product. */
  batchSize: number;
}

export const KNN_DEFAULTS: KnnOptions = { k: 20, temperature: 0.07, batchSize: 250 };

/**
 * Weighted k-nearest-neighbour classification on cosine similarity, as
 * DINO's eval_knn.py: features L2-normalised, the k most similar bank
 * entries vote for their label with weight exp(sim / T), the class with the
 * most weight wins (ties: the lower class). bank: [nBank, dim] row-major,
 * queries: [nQuery, dim]. Returns the predicted class of each query.
 */
export function knnPredict(bank: Float32Array, bankLabels: Int32Array, queries: Float32Array, dim: number, numClasses: number, opts: Partial<KnnOptions> = {}): Int32Array {
  const o = { ...KNN_DEFAULTS, ...opts };
  const nb = bankLabels.length;
  const nq = queries.length / dim;
  if (nb < 1 || bank.length !== nb * dim) throw new Error(`knnPredict: the bank has ${bank.length} values for ${nb} labels x dim ${dim}; pass [nBank, dim] features and one label each`);
  if (!Number.isInteger(nq)) throw new Error(`knnPredict: ${queries.length} query values are not a multiple of dim ${dim}`);
  if (!Number.isInteger(o.k) || o.k < 1) throw new Error(`knnPredict: k must be a positive integer, got ${o.k}`);
  if (!(o.temperature > 0)) throw new Error(`knnPredict: temperature must be > 0, got ${o.temperature}`);
  for (const y of bankLabels) if (!(y >= 0 && y < numClasses)) throw new Error(`knnPredict: bank label ${y} outside 0..${numClasses - 1}`);
  const k = Math.min(o.k, nb);
  const unit = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12));
  const out = new Int32Array(nq);
  const b = tf.tidy(() => tf.transpose(unit(tf.tensor2d(bank, [nb, dim]))));
  const labels = tf.tensor1d(bankLabels, "int32");
  try {
    for (let s = 0; s < nq; s += o.batchSize) {
      const m = Math.min(o.batchSize, nq - s);
      const pred = tf.tidy(() => {
        const sim = tf.matMul(unit(tf.tensor2d(queries.subarray(s * dim, (s + m) * dim), [m, dim])), b);
        const { values, indices } = tf.topk(sim, k);
        const votes = tf.mul(tf.oneHot(tf.gather(labels, indices), numClasses), tf.expandDims(tf.exp(tf.div(values, o.temperature)), 2));
        return tf.argMax(tf.sum(votes, 1), -1).dataSync();
      });
      out.set(pred, s);
    }
  } finally {
    tf.dispose([b, labels]);
  }
  return out;
}

/** Share of queries knnPredict classifies as their label. */
export function knnAccuracy(bank: Float32Array, bankLabels: Int32Array, queries: Float32Array, queryLabels: Int32Array, dim: number, numClasses: number, opts: Partial<KnnOptions> = {}): number {
  const p = knnPredict(bank, bankLabels, queries, dim, numClasses, opts);
  if (p.length !== queryLabels.length) throw new Error(`knnAccuracy: ${p.length} queries but ${queryLabels.length} labels`);
  return p.reduce((a, v, i) => a + (v === queryLabels[i] ? 1 : 0), 0) / Math.max(1, p.length);
}
