// Sanity probe (not a result): wav2vec variants on the full speech set; does validation strict accuracy leave chance?
// node w2v-probe.js '{"norm":"layernorm","lr":2e-3,"steps":300,"batch":8,"window":16000,"model":{...}}'
const L = require("dyt-lab");
const { loadSpeechWindows, Wav2Vec2, wav2vecPretrainTask } = L;
(async () => {
  await L.initEngine({ engine: "native", quiet: true });
  const o = JSON.parse(process.argv[2]);
  const W = o.window || 16000;
  const tr = loadSpeechWindows({ split: "train", windowSamples: W });
  const va = loadSpeechWindows({ split: "val", windowSamples: W, limit: o.evalLimit || 256 });
  const cfg = { norm: o.norm || "layernorm", convNorm: "layernorm", seed: o.seed ?? 101, ...(o.model || {}) };
  const m = new Wav2Vec2(cfg);
  // "continuous": targets are the normed features themselves (wav2vec 2.0's quantize_targets=False ablation), no quantizer
  if (o.continuous) {
    const tf = require("@tensorflow/tfjs");
    m.quantizer.forward = (x) => ({ q: tf.add(x, tf.mul(0, tf.add(tf.sum(m.quantizer.proj.apply(x)), tf.sum(m.quantizer.codebook)))), perplexity: tf.scalar(cfg.quantGroups ? cfg.quantGroups * cfg.quantEntries : 64), onehot: tf.zeros([1]) });
  }
  const steps = o.steps;
  console.log("windows", tr.n, va.n, "params", m.parameterCount(), JSON.stringify(o));
  const t0 = Date.now();
  const r = await L.train(m, wav2vecPretrainTask(tr, va, cfg, { seed: o.seed ?? 101 }), { steps, batchSize: o.batch || 8, lr: o.lr, warmupSteps: Math.round(steps * (o.warmup ?? 0.05)), minLrRatio: o.minLrRatio ?? 1, weightDecay: 0.01, clipNorm: 1, evalEvery: o.evalEvery || 50, evalLimit: 0, evalBatchSize: 32, logEvery: 50, checkpointEvery: 0, seed: o.seed ?? 101 }, { progress: false });
  for (const e of r.evals) console.log("eval", e.step, e.loss.toFixed(3), "strictAcc", (100 * e.strictAcc).toFixed(1), "acc", (100 * e.acc).toFixed(1), "ppl", e.perplexity.toFixed(1), "eq", (100 * e.distractorsEqual).toFixed(1));
  console.log("ms/step", r.msPerStep, "wall", (Date.now() - t0) / 1000);
})();
