const L = require("dyt-lab");
const { fashionSplits } = require("dyt-lab/build/lib/experiments/protocol/task.js");
(async () => {
  await L.initEngine({ engine: "native", quiet: true });
  const d = fashionSplits(0, 0);
  const nb = 5000, nq = 1000, D = 784;
  const bank = d.train.images.subarray(0, nb * D), q = d.val.images.subarray(0, nq * D);
  const lab = (ds, n) => Int32Array.from(ds.labels.subarray(0, n));
  console.log("pixels 20-NN", L.knnAccuracy(bank, lab(d.train, nb), q, lab(d.val, nq), D, 10, {}));
  console.log("pixels 1-NN", L.knnAccuracy(bank, lab(d.train, nb), q, lab(d.val, nq), D, 10, { k: 1 }));
})();
