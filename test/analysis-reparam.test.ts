// Pure math behind the norm-free baselines: baselines.md vectors (power
// iteration, SWS, AGC, Fixup, T-Fixup, NF beta_k and gamma_act), and the
// tensor (tfjs kernel layout) versions on cpu and wasm.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import {
  powerIterationStep,
  topSingularValue,
  powerIterationStepTensor,
  sigmaOf,
  scaledWeightStandardization,
  scaledWeightStandardizationKernel,
  agcClip,
  agcClipTensor,
  fixupScale,
  fixupTransformerScales,
  tfixupScale,
  nfBeta,
  nfBetas,
  nfActivationGamma,
} from "../lib/analysis";

function closeArr(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-5, what = ""): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const tol = expected[i] === 0 ? 1e-7 : rel * Math.abs(expected[i]!);
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}] got ${actual[i]}, expected ${expected[i]}`);
  }
}
/** Read a temporary tensor and free it. */
function data(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
const close = (a: number, e: number, rel = 1e-5, what = ""): void => closeArr([a], [e], rel, what);

test("power iteration: W=[[1,2],[3,4]], u0=[1,0]", () => {
  const W = [
    [1, 2],
    [3, 4],
  ];
  const s1 = powerIterationStep(W, [1, 0]);
  closeArr(s1.u, [0.581238, 0.813733], 1e-5, "u");
  closeArr(s1.v, [0.316228, 0.948683], 1e-5, "v");
  close(s1.sigma, 5.440588, 1e-6, "sigma1");
  const s2 = powerIterationStep(W, s1.u);
  close(s2.sigma, 5.464985, 1e-6, "sigma2");
  close(topSingularValue(W).sigma, 5.464986, 1e-6, "sigma_max");
  close(topSingularValue([
    [3, 0],
    [0, 1],
  ]).sigma, 3, 1e-12, "diag");
  // Rectangular [out=3, in=2]: sigma_max of [[1,0],[0,2],[0,0]] = 2.
  close(topSingularValue([
    [1, 0],
    [0, 2],
    [0, 0],
  ]).sigma, 2, 1e-12, "rect");
});

test("SWS, AGC, init factors (baselines.md)", () => {
  const sws = scaledWeightStandardization([
    [1, 2, 3],
    [0, 0, 3],
  ]);
  closeArr(sws.flat(), [-0.707106, 0, 0.707106, -0.408248, -0.408248, 0.816496], 1e-5, "sws");
  for (const row of sws) close(Math.hypot(...row), 1, 1e-5, "unit norm");
  closeArr(scaledWeightStandardization([[1, 2, 3]], [2]).flat(), [-1.414212, 0, 1.414212], 1e-5, "gain");
  const g = agcClip(
    [
      [3, 4],
      [0, 0],
    ],
    [
      [0.3, 0.4],
      [1, 0],
    ],
  );
  closeArr(g.flat(), [0.03, 0.04, 1e-5, 0], 1e-9, "agc");
  closeArr(agcClip([[3, 4]], [[0.01, 0]]).flat(), [0.01, 0], 0, "agc no-op below the limit");
  close(fixupScale(12, 2), 0.288675, 1e-5);
  close(fixupScale(12, 4), 0.660901, 1e-5);
  const f24 = fixupTransformerScales(24);
  close(f24.fc1, 0.204124, 1e-5);
  close(f24.qkv, 0.588796, 1e-5);
  close(tfixupScale(6, "encoder"), 0.428092, 1e-5);
  close(tfixupScale(6, "decoder"), 0.368894, 1e-5);
  close(tfixupScale(12), 0.359981, 1e-5);
  close(tfixupScale(12, "embedding"), 0.310202, 1e-5);
  closeArr(nfBetas(5, 0.2), [1, 1.019804, 1.03923, 1.058301, 1.077033], 1e-5, "beta_k");
  close(nfBeta(3), 1.058301, 1e-5);
  close(nfActivationGamma("relu"), 1.71286, 1e-5, "relu gamma");
  close(nfActivationGamma("gelu"), 1.70093, 1e-5, "gelu gamma");
  close(nfActivationGamma((z) => z), 1, 1e-9, "identity gamma");
});

for (const backend of ["cpu", "wasm"] as const) {
  test(`[${backend}] tensor versions in tfjs kernel layout [in, out]`, async () => {
    await initEngine({ engine: backend, quiet: true });
    const before = tf.memory().numTensors;
    // Kernel K = W^T for W=[[1,2],[3,4]].
    const K = tf.tensor2d([
      [1, 3],
      [2, 4],
    ]);
    const u0 = tf.tensor1d([1, 0]);
    const st = powerIterationStepTensor(K, u0);
    closeArr(st.u.dataSync(), [0.581238, 0.813733], 1e-5, "u");
    closeArr(st.v.dataSync(), [0.316228, 0.948683], 1e-5, "v");
    closeArr(st.sigma.dataSync(), [5.440588], 1e-5, "sigma");
    // Gradient through sigma (u, v constant) is u v^T in kernel layout.
    const gK = tf.grad((k: tf.Tensor) => sigmaOf(k as tf.Tensor2D, st.u, st.v))(K);
    const u = st.u.dataSync();
    const v = st.v.dataSync();
    closeArr(gK.dataSync(), [u[0]! * v[0]!, u[0]! * v[1]!, u[1]! * v[0]!, u[1]! * v[1]!], 1e-5, "dsigma/dK");
    // SWS per output unit = per column of the kernel.
    const Ks = tf.tensor2d([
      [1, 0],
      [2, 0],
      [3, 3],
    ]);
    const w = scaledWeightStandardizationKernel(Ks);
    closeArr(data(tf.transpose(w)), [-0.707106, 0, 0.707106, -0.408248, -0.408248, 0.816496], 1e-5, "sws kernel");
    // AGC per output unit = per column.
    const P = tf.tensor2d([
      [3, 0],
      [4, 0],
    ]);
    const G = tf.tensor2d([
      [0.3, 1],
      [0.4, 0],
    ]);
    const gc = agcClipTensor(P, G);
    closeArr(data(tf.transpose(gc)), [0.03, 0.04, 1e-5, 0], 1e-5, "agc kernel");
    // Bias (rank 1): the whole vector is one unit.
    const pb = tf.tensor1d([3, 4]);
    const gbIn = tf.tensor1d([0.3, 0.4]);
    const gb = agcClipTensor(pb, gbIn);
    closeArr(gb.dataSync(), [0.03, 0.04], 1e-5, "agc bias");
    tf.dispose([K, u0, st.u, st.v, st.sigma, gK, Ks, w, P, G, gc, gb, pb, gbIn]);
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  });
}
