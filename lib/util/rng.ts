/**
 * Seeded PRNG (sfc32) with state that can be saved in a checkpoint, so a
 * resumed run draws exactly the numbers the uninterrupted run would have.
 * tfjs's own random ops are not used for anything that must be reproducible.
 */
export class Rng {
  private s: Uint32Array;
  constructor(seed: number | readonly number[]) {
    if (typeof seed === "number") {
      // splitmix32 expands one seed into four words.
      let z = seed >>> 0;
      const next = (): number => {
        z = (z + 0x9e3779b9) >>> 0;
        let t = z;
        t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
        t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
        return (t ^ (t >>> 15)) >>> 0;
      };
      this.s = Uint32Array.from([next(), next(), next(), next()]);
      for (let i = 0; i < 12; i++) this.nextU32();
    } else {
      if (seed.length !== 4) throw new Error(`Rng state must have 4 words, got ${seed.length}`);
      this.s = Uint32Array.from(seed);
    }
  }
  state(): number[] {
    return Array.from(this.s);
  }
  nextU32(): number {
    const s = this.s;
    const t = (((s[0]! + s[1]!) >>> 0) + s[3]!) >>> 0;
    s[3] = (s[3]! + 1) >>> 0;
    s[0] = s[1]! ^ (s[1]! >>> 9);
    s[1] = (s[2]! + (s[2]! << 3)) >>> 0;
    s[2] = ((s[2]! << 21) | (s[2]! >>> 11)) >>> 0;
    s[2] = (s[2]! + t) >>> 0;
    return t;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /**
   * N(0, std^2) truncated to the absolute interval [a, b], as timm's and
   * PyTorch's trunc_normal_(std, a=-2, b=2): the bounds are values, not
   * multiples of std, so at std 0.02 they never bite and the sampled std is
   * std itself (cutting at +-2 std instead would give 0.88 std).
   */
  truncNormal(std: number, a = -2, b = 2): number {
    if (!(a < b)) throw new Error(`truncNormal: empty interval [${a}, ${b}]; pass a < b`);
    for (;;) {
      const x = this.normal() * std;
      if (x >= a && x <= b) return x;
    }
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
