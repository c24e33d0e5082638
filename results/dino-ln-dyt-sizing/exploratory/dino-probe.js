// Sanity probe (not a result): does DINO on Fashion-MNIST lift the teacher's k-NN accuracy above its init within a short run?
const L = require("dyt-lab");
const { fashionSplits } = require("dyt-lab/build/lib/experiments/protocol/task.js");
(async () => {
  await L.initEngine({ engine: "native", quiet: false });
  const [norm, lr, steps, mom] = [process.argv[2] || "layernorm", +(process.argv[3] || 1e-3), +(process.argv[4] || 600), +(process.argv[5] || 0.99)];
  const d = fashionSplits(0, 0);
  const m = new L.DINO({ norm, seed: 1, teacherMomentum: mom });
  const e0 = L.evaluateDino(m, d.train, 5000, d.val, 1000, 250);
  console.log("init", JSON.stringify(e0));
  const t0 = Date.now();
  const r = await L.train(m, L.dinoTask(d.train, d.val, { seed: 1, bank: 5000 }), { steps, batchSize: 64, lr, warmupSteps: Math.round(steps / 10), weightDecay: 0.04, evalEvery: Math.round(steps / 4), evalLimit: 1000, logEvery: 50, checkpointEvery: 0 }, { label: `dino-${norm}` });
  for (const e of r.evals) console.log(e.step, e.loss.toFixed(3), (100 * e.acc).toFixed(1), JSON.stringify(e.stats));
  console.log("ms/step", r.msPerStep, "wall", (Date.now() - t0) / 1000);
})();
