/**
 * The in-memory form every image data set loader returns, and helpers to cut
 * mini-batches out of it.
 */

export type Split = "train" | "val" | "test";
export const SPLITS: readonly Split[] = ["train", "val", "test"];

export interface ImageDataset {
  /** Data set name, e.g. "fashion-mnist". */
  name: string;
  split: Split;
  /** Number of examples. */
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames: readonly string[];
  /**
   * n * height * width * channels floats, example-major, channels last
   * (NHWC, what tfjs conv2d expects): images[((i*H + y)*W + x)*C + c].
   * Normalised: (pixel/255 - normalization.mean) / normalization.std.
   */
  images: Float32Array;
  /** n class ids in [0, numClasses). */
  labels: Int32Array;
  /** How images were normalised, so a figure can undo it. */
  normalization: { kind: string; mean: number; std: number };
  /** Where the data came from in this call: verified source files, the disk cache, or this process's memory. */
  origin: "files" | "cache" | "memory";
}

/** Floats per example. */
export function exampleSize(ds: Pick<ImageDataset, "height" | "width" | "channels">): number {
  return ds.height * ds.width * ds.channels;
}

function checkIndex(ds: { n: number; name: string; split: string }, j: number): void {
  if (!(j >= 0 && j < ds.n) || !Number.isInteger(j)) {
    throw new RangeError(`index ${j} out of range for ${ds.name}/${ds.split} (n = ${ds.n})`);
  }
}

/**
 * Copy the images of examples `idx` into one contiguous batch,
 * [idx.length, H, W, C] flattened. Pass `out` to reuse a buffer.
 */
export function gatherImages(ds: ImageDataset, idx: ArrayLike<number>, out?: Float32Array): Float32Array {
  const size = exampleSize(ds);
  const need = idx.length * size;
  if (out && out.length < need) throw new RangeError(`gatherImages: out has ${out.length} floats, need ${need}`);
  const dst = out ? out.subarray(0, need) : new Float32Array(need);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    checkIndex(ds, j);
    dst.set(ds.images.subarray(j * size, (j + 1) * size), i * size);
  }
  return dst;
}

/** The labels of examples `idx`. */
export function gatherLabels(ds: ImageDataset, idx: ArrayLike<number>, out?: Int32Array): Int32Array {
  if (out && out.length < idx.length) throw new RangeError(`gatherLabels: out has ${out.length} slots, need ${idx.length}`);
  const dst = out ? out.subarray(0, idx.length) : new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    checkIndex(ds, j);
    dst[i] = ds.labels[j]!;
  }
  return dst;
}

/** Examples per class (length numClasses). */
export function classCounts(ds: Pick<ImageDataset, "labels" | "numClasses">): number[] {
  const c = new Array<number>(ds.numClasses).fill(0);
  for (const l of ds.labels) c[l] = (c[l] ?? 0) + 1;
  return c;
}

/** The first n examples of ds as a view (no copy); n <= 0 or >= ds.n gives ds itself. */
export function firstExamples(ds: ImageDataset, n: number): ImageDataset {
  if (n <= 0 || n >= ds.n) return ds;
  return { ...ds, n, images: ds.images.subarray(0, n * exampleSize(ds)), labels: ds.labels.subarray(0, n) };
}
