import type { ImageDataset } from "../lib/data/dataset";
import { Rng } from "../lib/util/rng";

/**
 * A tiny learnable image set for trainer tests: 8x8 gray images, 4 classes,
 * each class a fixed random 4x4 texture tiled over the image, plus noise
 * (learnable from any patch, so a tiny ViT learns it in tens of steps).
 * Made in memory, so trainer tests need no data files and run in seconds.
 */
export function toyImages(n: number, seed = 0, split: ImageDataset["split"] = "train"): ImageDataset {
  const rng = new Rng(seed);
  const tex = new Rng(1234); // the class textures are the same for every split
  const templates = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => tex.normal()));
  const H = 8;
  const images = new Float32Array(n * H * H);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(4);
    labels[i] = c;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < H; x++) images[i * H * H + y * H + x] = templates[c]![(y % 4) * 4 + (x % 4)]! + 0.5 * rng.normal();
  }
  return {
    name: "toy",
    split,
    n,
    height: H,
    width: H,
    channels: 1,
    numClasses: 4,
    classNames: ["tl", "tr", "bl", "br"],
    images,
    labels,
    normalization: { kind: "none", mean: 0, std: 1 },
    origin: "memory",
  };
}

export const TOY_VIT = { imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 2, heads: 2, mlpRatio: 2, numClasses: 4 };
