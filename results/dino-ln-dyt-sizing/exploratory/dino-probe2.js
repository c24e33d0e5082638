// Sanity probe (not a result): DINO recipe variants on Fashion-MNIST; does the teacher's k-NN rise above its init?
const L = require("dyt-lab");
const { fashionSplits } = require("dyt-lab/build/lib/experiments/protocol/task.js");
(async () => {
  await L.initEngine({ engine: "native", quiet: true });
  const o = JSON.parse(process.argv[2]);
  const d = fashionSplits(o.trainLimit || 0, 0);
  const m = new L.DINO({ norm: o.norm || "layernorm", seed: 1, ...(o.model || {}) });
  const e0 = L.evaluateDino(m, d.train, 5000, d.val, 1000, 250);
  console.log("init", (100 * e0.acc).toFixed(1), JSON.stringify(e0.stats));
  const t0 = Date.now();
  const steps = o.steps;
  const r = await L.train(m, L.dinoTask(d.train, d.val, { seed: 1, bank: 5000 }), { steps, batchSize: o.batch || 64, lr: o.lr, warmupSteps: Math.round(steps / 10), weightDecay: 0.04, clipNorm: 3, evalEvery: o.evalEvery || Math.round(steps / 8), evalLimit: 1000, logEvery: 50, checkpointEvery: 0 }, { progress: false });
  for (const e of r.evals) console.log(e.step, e.loss.toFixed(3), (100 * e.acc).toFixed(1), e.stats.teacherEntropy.toFixed(2), e.stats.marginalEntropy.toFixed(2));
  const fs = L.dinoFeatures;
  console.log("ms/step", r.msPerStep, "wall", (Date.now() - t0) / 1000);
})();
