import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  loadLayerBench,
  loadStepBench,
  layerSpeedRows,
  layerSpeedFigure,
  layerLiveVsCommittedRows,
  dytVsLnAtLargest,
  stepVsTorchRows,
  stepGoals,
  torchReference,
  kernelRows,
  efficiencyDir,
  allModelStepRows,
  matmulRates,
  ALL_MODELS_BENCH_DIR,
  AVX2_BENCH_DIR,
  BENCH_MODEL_FILES,
  type StepFile,
} from "../lib/bench/efficiency";
import { medianOf, type NormLayerBench } from "../lib/bench/layers";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dyt-eff-"));

const layers: Record<string, NormLayerBench> = {
  native: {
    engine: "native",
    detail: "test",
    rows: [
      { norm: "layernorm", rows: 64, channels: 64, fwdMs: 1, fwdBwdMs: 2, fwdCpu: 1, fwdBwdCpu: 2 },
      { norm: "dyt", rows: 64, channels: 64, fwdMs: 0.5, fwdBwdMs: 3, fwdCpu: 0.5, fwdBwdCpu: 3 },
      { norm: "layernorm", rows: 256, channels: 256, fwdMs: 4, fwdBwdMs: 8, fwdCpu: 4, fwdBwdCpu: 8 },
      { norm: "dyt", rows: 256, channels: 256, fwdMs: 2, fwdBwdMs: 6, fwdCpu: 2, fwdBwdCpu: 6 },
    ],
  },
};

const step: StepFile = {
  date: "2026-01-01T00:00:00.000Z",
  load: [0, 0, 0],
  results: [{ engine: "native", detail: "t", norm: "dyt", msPerStep: 150, stepsMs: [140, 150, 160], cpuMs: [200, 210, 220] }],
  torch: {
    dyt: { msPerStep: 100, torch: "1.13", threads: 2, ompWait: "passive", byPolicy: { default: [200, 300, 250], passive: [100, 90, 110] }, cpuByPolicy: { default: [400, 500, 420], passive: [150, 140, 160] } },
  },
};

describe("efficiency results", () => {
  it("medianOf: odd, even, empty", () => {
    assert.equal(medianOf([3, 1, 2]), 2);
    assert.equal(medianOf([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(medianOf([])));
  });

  it("layer table: DyT/LN ratio per engine and shape", () => {
    const rows = layerSpeedRows(layers);
    assert.equal(rows.length, 4);
    const dyt256 = rows.find((r) => r.norm === "dyt" && r.shape === "256x256")!;
    assert.equal(dyt256["fwd+bwd vs LN"], 6 / 8);
    assert.equal(dyt256.elements, 65536);
    assert.equal(rows.find((r) => r.norm === "layernorm" && r.shape === "64x64")!["fwd+bwd vs LN"], 1);
    assert.deepEqual(dytVsLnAtLargest(layers), [{ engine: "native", shape: "256x256", fwd: 0.5, fwdBwd: 0.75 }]);
  });

  it("layer figure: one log-log trace per engine x norm, sorted by size", () => {
    const fig = layerSpeedFigure(layers);
    assert.equal(fig.data.length, 2);
    assert.deepEqual(fig.data.map((t) => t.name), ["native layernorm", "native dyt"]);
    assert.deepEqual(fig.data[1]!.x, [4096, 65536]);
    assert.deepEqual(fig.data[1]!.y, [3, 6]);
    assert.equal(fig.layout.xaxis?.type, "log");
    assert.equal(fig.layout.yaxis?.type, "log");
    assert.notEqual(fig.data[0]!.line?.dash, fig.data[1]!.line?.dash);
  });

  it("live vs committed: ratio for matching shapes, NaN where nothing was committed", () => {
    const live: NormLayerBench = { engine: "native", detail: "t", rows: [
      { norm: "dyt", rows: 64, channels: 64, fwdMs: 1, fwdBwdMs: 6, fwdCpu: 1, fwdBwdCpu: 6 },
      { norm: "dyt", rows: 8, channels: 8, fwdMs: 1, fwdBwdMs: 1, fwdCpu: 1, fwdBwdCpu: 1 },
    ] };
    const rows = layerLiveVsCommittedRows(live, layers);
    assert.equal(rows[0]!["live / committed"], 2);
    assert.ok(Number.isNaN(rows[1]!["live / committed"]));
  });

  it("PyTorch reference: shipped = OMP_WAIT_POLICY default, best = the faster policy", () => {
    const ref = torchReference(step.torch.dyt!);
    assert.equal(ref.shippedMs, 250);
    assert.equal(ref.shippedCpu, 420);
    assert.equal(ref.bestMs, 100);
    assert.equal(ref.bestCpu, 150);
    assert.equal(ref.bestPolicy, "passive");
  });

  it("step table: both ratios by wall and CPU time; goal and stretch", () => {
    const rows = stepVsTorchRows(step);
    const n = rows.find((r) => r.engine === "native")!;
    assert.equal(n["x shipped"], 150 / 250);
    assert.equal(n["x shipped (cpu)"], 210 / 420);
    assert.equal(n["x best"], 150 / 100);
    assert.equal(n["x best (cpu)"], 210 / 150);
    assert.equal(rows.length, 3, "engine row + PyTorch shipped + PyTorch best");
    const [g] = stepGoals(step);
    assert.equal(g!.goalMet, true);
    assert.equal(g!.stretchMet, false);
  });

  it("kernel rows: top kernels and the rest, as shares of the kernel total", () => {
    const s: StepFile = {
      ...step,
      results: [{ ...step.results[0]!, profile: { stepMs: 10, kernelMs: 10, nestedMs: 0, shapes: [], kernels: [{ name: "A", ms: 6, calls: 1 }, { name: "B", ms: 3, calls: 2 }, { name: "C", ms: 1, calls: 3 }] } }],
    };
    const rows = kernelRows(s, "native", "dyt", 2);
    assert.deepEqual(rows.map((r) => r.kernel), ["A", "B", "(1 other kernels)"]);
    assert.equal(rows[0]!["%"], 60);
    assert.deepEqual(kernelRows(s, "wasm", "dyt"), []);
  });

  it("missing file: the error names the path and the command that regenerates it", () => {
    const f = path.join(tmp(), "layers.json");
    assert.throws(() => loadLayerBench(f), (e: Error) => e.message.includes(f) && e.message.includes("npm run bench -- --layers"));
  });

  it("corrupt or malformed file: the error names the file", () => {
    const d = tmp();
    const f = path.join(d, "step.json");
    fs.writeFileSync(f, "{ not json");
    assert.throws(() => loadStepBench(f), (e: Error) => e.message.includes(`corrupt JSON in ${f}`) && e.message.includes("npm run bench"));
    fs.writeFileSync(f, JSON.stringify({ results: [] }));
    assert.throws(() => loadStepBench(f), (e: Error) => e.message.includes(`malformed ${f}`) && e.message.includes("torch"));
    const g = path.join(d, "layers.json");
    fs.writeFileSync(g, JSON.stringify({ results: { native: { rows: [{ norm: "dyt" }] } } }));
    assert.throws(() => loadLayerBench(g), (e: Error) => e.message.includes(`malformed ${g}`));
  });

  it("the committed full results load and give a DyT/LN ratio for every engine", () => {
    const l = loadLayerBench();
    const s = loadStepBench();
    assert.ok(fs.existsSync(path.join(efficiencyDir(), "layers.json")));
    assert.deepEqual(Object.keys(l.results).sort(), ["cpu", "native", "wasm"]);
    assert.equal(dytVsLnAtLargest(l.results).length, 3);
    // The README's efficiency tables name the commit each measurement came from.
    const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
    assert.ok(readme.includes(`commit \`${s.provenance?.gitCommit.slice(0, 7)}\``), `README names the step bench's commit ${s.provenance?.gitCommit.slice(0, 7)}`);
    const avx512 = loadStepBench(path.join(efficiencyDir(), "avx512-2026-11-25", "step.json"));
    assert.equal(avx512.provenance?.gitCommit.slice(0, 7), "de27acb", "the AVX-512 measurement is kept beside the current one");
    for (const g of [...stepGoals(s), ...stepGoals(avx512)]) assert.ok(Number.isFinite(g.vsShipped) && Number.isFinite(g.vsBest));
  });

  it("matmul rates: the product with the most FLOPs per call at its median rate, and all products pooled", () => {
    const c = (batch: number, m: number, k: number, n: number, ms: number) => ({ batch, m, k, n, flops: 2 * batch * m * n * k, ms });
    // Over 2 steps: a 1x100x10x100 product (2e5 FLOPs) at 0.1, 0.3 and 0.2 ms, and a smaller 4x10x10x10 one (8e3 FLOPs).
    const r = matmulRates([c(1, 100, 10, 100, 0.1), c(4, 10, 10, 10, 0.01), c(1, 100, 10, 100, 0.3), c(1, 100, 10, 100, 0.2)], 2)!;
    assert.equal(r.largest, "1x100x10x100");
    assert.ok(Math.abs(r.largestGflops - 2e5 / 0.2 / 1e6) < 1e-9, `largest ${r.largestGflops}`);
    assert.ok(Math.abs(r.allGflops - (3 * 2e5 + 8e3) / 0.61 / 1e6) < 1e-9, `all ${r.allGflops}`);
    assert.equal(r.callsPerStep, 2);
    assert.equal(matmulRates([], 3), undefined);
  });

  for (const [dir, isa] of [[ALL_MODELS_BENCH_DIR, "native"], [AVX2_BENCH_DIR, "avx2"]] as const) {
    it(`the all-model folder ${dir} holds every bench model's step with PyTorch (--isa ${isa}), from one clean commit, which the README names`, () => {
      const rows = allModelStepRows(dir);
      const models = [...new Set(rows.map((r) => r.model))];
      assert.deepEqual(models, BENCH_MODEL_FILES.map((m) => m.model));
      const native = rows.filter((r) => r.engine === "native");
      assert.equal(native.length, 12, "two norms per model");
      for (const r of native) assert.ok(Number.isFinite(r["x best"] as number) && (r["x best"] as number) > 0, `${r.model}/${r.norm}: x best ${r["x best"]}`);
      const files = BENCH_MODEL_FILES.map((m) => loadStepBench(path.join(efficiencyDir(), dir, m.file)) as StepFile & { isa?: { isa?: string } });
      const commits = new Set(files.map((f) => f.provenance?.gitCommit.slice(0, 7)));
      assert.equal(commits.size, 1, `one commit for all six: ${[...commits]}`);
      for (const f of files) assert.equal(f.provenance?.gitDirty, false, "measured from a clean tree");
      for (const f of files) assert.equal(f.isa?.isa ?? "native", isa, "the ISA the folder claims");
      const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
      assert.ok(readme.includes(`commit \`${[...commits][0]}\``) && readme.includes(dir), "README names the folder and its commit");
    });
  }

  it("a missing all-model folder is an error naming the bench command", () => {
    assert.throws(() => allModelStepRows(path.join(os.tmpdir(), "dyt-no-bench-here")), /cannot read .*step\.json.*npm run bench/);
  });
});
