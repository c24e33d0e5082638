/**
 * DINO's multi-crop augmentation (Caron et al. 2021), for small square
 * images: two global views and several local views of each image, each a
 * random resized crop (torchvision's RandomResizedCrop sampling), resampled
 * bilinearly, flipped at random, with a random contrast change. Plain JS on
 * host arrays, drawn from a seeded Rng, so a resumed run redraws the same
 * views. Differences from DINO's recipe, for grey 28-px images: no colour
 * jitter, blur or solarisation (one channel, few pixels; contrast stands in
 * for colour), and no antialiasing when a crop is shrunk (at most ~1.5x here).
 */
import { gatherImages, type ImageDataset } from "./dataset";
import { Rng } from "../util/rng";

export interface MultiCropConfig {
  /** Side of the two global views (the images' own size in DINO's small setups). */
  globalSize: number;
  /** Share of the image's area a global crop covers: DINO [0.4, 1] (its default; 0.14-0.4 at ImageNet scale). */
  globalScale: [number, number];
  /** Local views per image (DINO: 6-10 at 96 px; fewer here, they cost a forward each). */
  localCrops: number;
  localSize: number;
  /** DINO: [0.05, 0.4]. */
  localScale: [number, number];
  /** Contrast factor drawn from [1 - contrast, 1 + contrast] around each view's mean (0 disables). */
  contrast: number;
  /** Mirror each view left-right with probability 1/2. */
  flip: boolean;
}

export const MULTICROP_DEFAULTS: MultiCropConfig = {
  globalSize: 28,
  globalScale: [0.4, 1],
  localCrops: 2,
  localSize: 12,
  localScale: [0.05, 0.4],
  contrast: 0.4,
  flip: true,
};

export function validateMultiCrop(c: MultiCropConfig, imageSize: number, patchSize: number): void {
  for (const [k, s] of [["globalSize", c.globalSize], ["localSize", c.localSize]] as const)
    if (!Number.isInteger(s) || s < patchSize || s % patchSize !== 0) throw new Error(`multi-crop config: ${k} ${s} must be a positive multiple of the patch size ${patchSize}`);
  if (c.globalSize !== imageSize) throw new Error(`multi-crop config: globalSize ${c.globalSize} must equal the backbone's imageSize ${imageSize} (global views use its learned positions as they are)`);
  for (const [k, r] of [["globalScale", c.globalScale], ["localScale", c.localScale]] as const)
    if (!(r[0] > 0 && r[0] <= r[1] && r[1] <= 1)) throw new Error(`multi-crop config: ${k} [${r.join(", ")}] must satisfy 0 < min <= max <= 1`);
  if (!Number.isInteger(c.localCrops) || c.localCrops < 0) throw new Error(`multi-crop config: localCrops must be an integer >= 0, got ${c.localCrops}`);
  if (!(c.contrast >= 0 && c.contrast < 1)) throw new Error(`multi-crop config: contrast must be in [0, 1), got ${c.contrast}`);
}

/** A crop box (top, left, height, width) in pixels: torchvision RandomResizedCrop.get_params (ratio 3/4..4/3, 10 tries, then the whole image). */
export function cropBox(H: number, W: number, scale: readonly [number, number], rng: Rng): [number, number, number, number] {
  const area = H * W;
  const [lr0, lr1] = [Math.log(3 / 4), Math.log(4 / 3)];
  for (let t = 0; t < 10; t++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.next());
    const aspect = Math.exp(lr0 + (lr1 - lr0) * rng.next());
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= W && h <= H) return [Math.floor(rng.next() * (H - h + 1)), Math.floor(rng.next() * (W - w + 1)), h, w];
  }
  return [0, 0, H, W];
}

/**
 * One view of one image: the crop box resampled to size x size (bilinear,
 * PyTorch's align_corners=False), optionally mirrored, contrast scaled around
 * the view's mean. src: [H, W, C]; out: [size, size, C] written at `at`.
 */
export function cropView(src: Float32Array, H: number, W: number, C: number, box: readonly [number, number, number, number], size: number, flip: boolean, contrast: number, out: Float32Array, at: number): void {
  const [top, left, h, w] = box;
  if (!(top >= 0 && left >= 0 && h >= 1 && w >= 1 && top + h <= H && left + w <= W)) throw new Error(`cropView: box [${box.join(", ")}] (top, left, height, width) does not fit a ${H}x${W} image`);
  const coord = (i: number, n: number, start: number): [number, number, number] => {
    const s = Math.min(Math.max((i + 0.5) * (n / size) - 0.5, 0), n - 1);
    const i0 = Math.floor(s);
    return [start + i0, start + Math.min(i0 + 1, n - 1), s - i0];
  };
  for (let y = 0; y < size; y++) {
    const [y0, y1, wy] = coord(y, h, top);
    for (let x = 0; x < size; x++) {
      const [x0, x1, wx] = coord(flip ? size - 1 - x : x, w, left);
      for (let c = 0; c < C; c++) {
        const v = (yy: number, xx: number) => src[(yy * W + xx) * C + c]!;
        out[at + (y * size + x) * C + c] = (1 - wy) * ((1 - wx) * v(y0, x0) + wx * v(y0, x1)) + wy * ((1 - wx) * v(y1, x0) + wx * v(y1, x1));
      }
    }
  }
  if (contrast !== 1) {
    const n = size * size * C;
    let m = 0;
    for (let i = 0; i < n; i++) m += out[at + i]!;
    m /= n;
    for (let i = 0; i < n; i++) out[at + i] = m + contrast * (out[at + i]! - m);
  }
}

/** A batch's views: globals[v] and locals[v] hold B views [B, size, size, C] each. */
export interface MultiCropBatch {
  globals: [Float32Array, Float32Array];
  locals: Float32Array[];
}

/** The views of images `idx` of ds, drawn from `rng` (image by image, view by view: a batch's draw depends on nothing else). */
export function multiCrop(ds: ImageDataset, idx: ArrayLike<number>, c: MultiCropConfig, rng: Rng): MultiCropBatch {
  const B = idx.length;
  const { height: H, width: W, channels: C } = ds;
  const ex = H * W * C;
  const src = gatherImages(ds, idx);
  const globals: [Float32Array, Float32Array] = [new Float32Array(B * c.globalSize ** 2 * C), new Float32Array(B * c.globalSize ** 2 * C)];
  const locals = Array.from({ length: c.localCrops }, () => new Float32Array(B * c.localSize ** 2 * C));
  const view = (img: Float32Array, size: number, scale: [number, number], out: Float32Array, b: number) => {
    const box = cropBox(H, W, scale, rng);
    const flip = c.flip && rng.next() < 0.5;
    const k = c.contrast > 0 ? 1 - c.contrast + 2 * c.contrast * rng.next() : 1;
    cropView(img, H, W, C, box, size, flip, k, out, b * size * size * C);
  };
  for (let b = 0; b < B; b++) {
    const img = src.subarray(b * ex, (b + 1) * ex);
    for (const g of globals) view(img, c.globalSize, c.globalScale, g, b);
    for (const l of locals) view(img, c.localSize, c.localScale, l, b);
  }
  return { globals, locals };
}
