/**
 * Training-step speed of the vision families (ConvNeXt, MLP-Mixer, ResNet) at
 * their default (smoke) sizes, LN vs DyT (ResNet: BN vs DyT), through the
 * lab's trainer on the chosen engine (default: the fastest, native).
 *
 *   node build/scripts/bench-vision.js [--engine native] [--steps 8] [--warmup 2] [--rounds 2] [--batch 64] [--size 28]
 *
 * Rounds alternate the arms (LN, DyT, LN, DyT, ...) so load swings on a
 * shared machine hit both; reported: median of the trainer's per-step ms over
 * all rounds after the warm-up steps, and the load average at start.
 */
import * as os from "os";
import { initEngine, type EngineName } from "../lib/engine";
import { ConvNeXt, MLPMixer, ResNet } from "../lib/models";
import type { NormKind } from "../lib/norms/types";
import { train, type Model } from "../lib/train";
import type { ImageDataset } from "../lib/data/dataset";
import { Rng } from "../lib/util/rng";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function randomImages(n: number, size: number, channels: number): ImageDataset {
  const r = new Rng(0);
  return {
    name: "random",
    split: "train",
    n,
    height: size,
    width: size,
    channels,
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    images: Float32Array.from({ length: n * size * size * channels }, () => r.normal()),
    labels: Int32Array.from({ length: n }, () => r.int(10)),
    normalization: { kind: "none", mean: 0, std: 1 },
    origin: "memory",
  };
}

async function main(): Promise<void> {
  const engine = arg("engine", "native") as EngineName;
  const steps = Number(arg("steps", "8"));
  const warmup = Number(arg("warmup", "2"));
  const rounds = Number(arg("rounds", "2"));
  const batch = Number(arg("batch", "64"));
  const size = Number(arg("size", "28"));
  const channels = size === 32 ? 3 : 1;
  const info = await initEngine({ engine });
  const load = os.loadavg()[0]!.toFixed(1);
  const data = { train: randomImages(4 * batch, size, channels), eval: randomImages(batch, size, channels) };
  const g = { imageSize: size, channels };
  const arms: [string, NormKind, () => Model & { dispose(): void; parameterCount(): number }][] = [];
  for (const norm of ["layernorm", "dyt"] as const) arms.push([`ConvNeXt`, norm, () => new ConvNeXt({ ...g, norm })]);
  for (const norm of ["layernorm", "dyt"] as const) arms.push([`MLP-Mixer`, norm, () => new MLPMixer({ ...g, norm })]);
  for (const norm of ["batchnorm", "dyt"] as const) arms.push([`ResNet`, norm, () => new ResNet({ ...g, norm })]);
  const ms = new Map<string, number[]>();
  const params = new Map<string, number>();
  for (let r = 0; r < rounds; r++)
    for (const [name, norm, make] of arms) {
      const m = make();
      params.set(`${name} ${norm}`, m.parameterCount());
      const res = await train(m, data, { steps: warmup + steps, batchSize: batch, warmupSteps: 1, evalEvery: 10_000, logEvery: 1, checkpointEvery: 0, seed: r }, { progress: false });
      const key = `${name} ${norm}`;
      ms.set(key, [...(ms.get(key) ?? []), ...res.log.slice(warmup).map((l) => l.ms as number)]);
      m.dispose();
    }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(`engine ${info.name} (${info.detail}); batch ${batch}, ${size}x${size}x${channels}; ${rounds} rounds x ${steps} steps; load average at start ${load} on ${os.cpus().length} cores`);
  console.log("| model | norm | params | median ms/step | min | max |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const [key, v] of ms) {
    const [name, norm] = key.split(" ");
    console.log(`| ${name} | ${norm} | ${params.get(key)} | ${median(v)} | ${Math.min(...v)} | ${Math.max(...v)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
