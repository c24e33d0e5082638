/**
 * Deterministic mini-batch sampler with resumable state.
 *
 * The index stream is epoch permutations of 0..n-1 laid end to end, each drawn
 * with the seeded Rng (lib/util/rng.ts). `next(b)` returns the next b indices
 * of that stream, so every batch is full; a batch may straddle two epochs.
 *
 * state() captures the Rng state from *before* the current epoch's permutation
 * was drawn, the position inside that permutation and the epoch number:
 * restore(state) redraws the same permutation and continues at the same
 * position, so a resumed run sees exactly the batches the uninterrupted run
 * would have seen. The state is plain JSON; keep it in the checkpoint.
 */
import { Rng } from "../util/rng";

export interface BatchSamplerState {
  kind: "BatchSampler";
  version: 1;
  /** Number of examples sampled from. */
  n: number;
  /** 0-based index of the current epoch permutation. */
  epoch: number;
  /** Indices of the current permutation already handed out (0..n). */
  pos: number;
  /** Rng state from before the current epoch's permutation was drawn. */
  rng: number[];
}

export class BatchSampler {
  readonly n: number;
  private rng: Rng;
  private epochRng: number[];
  private perm: Int32Array;
  private pos = 0;
  private ep = 0;

  constructor(n: number, seed: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`BatchSampler: n must be a positive integer, got ${n}`);
    this.n = n;
    this.rng = new Rng(seed);
    this.epochRng = this.rng.state();
    this.perm = this.rng.permutation(n);
  }

  /** A sampler continuing from a saved state. */
  static fromState(state: BatchSamplerState): BatchSampler {
    const s = new BatchSampler(state.n, 0);
    s.restore(state);
    return s;
  }

  /** The epoch the next index comes from (0-based); fractional progress in `progress`. */
  get epoch(): number {
    return this.pos === this.n ? this.ep + 1 : this.ep;
  }

  /** Epochs completed, fractional (e.g. 2.5 = half-way through the third). */
  get progress(): number {
    return this.ep + this.pos / this.n;
  }

  /** The next `batchSize` indices (Int32Array). */
  next(batchSize: number): Int32Array {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`BatchSampler.next: batchSize must be a positive integer, got ${batchSize}`);
    }
    const out = new Int32Array(batchSize);
    let k = 0;
    while (k < batchSize) {
      if (this.pos === this.n) this.newEpoch();
      const take = Math.min(batchSize - k, this.n - this.pos);
      out.set(this.perm.subarray(this.pos, this.pos + take), k);
      this.pos += take;
      k += take;
    }
    return out;
  }

  /** Batches needed to cover one epoch at this batch size (the last one straddles). */
  stepsPerEpoch(batchSize: number): number {
    return Math.ceil(this.n / batchSize);
  }

  state(): BatchSamplerState {
    return { kind: "BatchSampler", version: 1, n: this.n, epoch: this.ep, pos: this.pos, rng: this.epochRng.slice() };
  }

  restore(state: BatchSamplerState): void {
    if (state.kind !== "BatchSampler" || state.version !== 1) {
      throw new Error(`BatchSampler.restore: not a BatchSampler v1 state (kind ${String(state.kind)}, version ${String(state.version)})`);
    }
    if (state.n !== this.n) {
      throw new Error(`BatchSampler.restore: state is for n = ${state.n}, this sampler has n = ${this.n} (different data set or limit?)`);
    }
    if (!Number.isInteger(state.pos) || state.pos < 0 || state.pos > state.n) throw new Error(`BatchSampler.restore: bad pos ${state.pos}`);
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new Error(`BatchSampler.restore: bad epoch ${state.epoch}`);
    this.rng = new Rng(state.rng);
    this.epochRng = this.rng.state();
    this.perm = this.rng.permutation(this.n);
    this.pos = state.pos;
    this.ep = state.epoch;
  }

  private newEpoch(): void {
    this.epochRng = this.rng.state();
    this.perm = this.rng.permutation(this.n);
    this.pos = 0;
    this.ep++;
  }
}
