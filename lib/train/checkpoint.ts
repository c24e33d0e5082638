import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../util/atomic";

/**
 * A checkpoint is one binary blob of float32 tensors plus a JSON manifest
 * (names, shapes, sha256 of the blob, and any JSON state). The blob is written
 * first under a step-numbered name, then the manifest is swapped in
 * atomically, so a crash at any moment leaves the previous checkpoint usable.
 */
export interface CheckpointManifest<S> {
  version: 1;
  step: number;
  blob: string;
  sha256: string;
  tensors: { name: string; shape: number[] }[];
  state: S;
}

const MANIFEST = "checkpoint.json";

export function saveCheckpoint<S>(dir: string, step: number, tensors: { name: string; tensor: tf.Tensor }[], state: S): void {
  fs.mkdirSync(dir, { recursive: true });
  const parts = tensors.map((t) => t.tensor.dataSync() as Float32Array);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  const bytes = new Uint8Array(buf.buffer);
  const blob = `tensors-${step}.bin`;
  writeFileAtomic(path.join(dir, blob), bytes);
  const manifest: CheckpointManifest<S> = {
    version: 1,
    step,
    blob,
    sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
    tensors: tensors.map((t) => ({ name: t.name, shape: t.tensor.shape })),
    state,
  };
  writeJsonAtomic(path.join(dir, MANIFEST), manifest);
  for (const f of fs.readdirSync(dir)) if (f.startsWith("tensors-") && f !== blob && !f.includes(".tmp-")) fs.rmSync(path.join(dir, f), { force: true });
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

export interface LoadedCheckpoint<S> {
  step: number;
  state: S;
  values: Map<string, { shape: number[]; data: Float32Array }>;
}

export function loadCheckpoint<S>(dir: string): LoadedCheckpoint<S> {
  const mf = readJson<CheckpointManifest<S>>(path.join(dir, MANIFEST));
  if (mf.version !== 1) throw new Error(`checkpoint ${dir}: unsupported version ${String(mf.version)}`);
  const file = path.join(dir, mf.blob);
  if (!fs.existsSync(file)) throw new Error(`checkpoint ${dir}: missing tensor file ${mf.blob}; delete ${dir} to start over`);
  const bytes = fs.readFileSync(file);
  const sha = crypto.createHash("sha256").update(bytes).digest("hex");
  if (sha !== mf.sha256)
    throw new Error(`checkpoint ${file} is corrupt (sha256 ${sha}, manifest says ${mf.sha256}); delete ${dir} to start over`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  let off = 0;
  for (const t of mf.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    values.set(t.name, { shape: t.shape, data: all.slice(off, off + n) });
    off += n;
  }
  if (off !== all.length) throw new Error(`checkpoint ${file}: size mismatch (${all.length} floats, manifest lists ${off})`);
  return { step: mf.step, state: mf.state, values };
}
