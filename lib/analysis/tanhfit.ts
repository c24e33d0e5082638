/**
 * Least-squares fit y ~ k*tanh(s*x) (the S-curve analysis: how tanh-like is
 * a norm layer's input->output map). Levenberg-Marquardt on (k, s), started
 * from the best point of a log grid over s where k is solved in closed form
 * (for fixed s the model is linear in k), so no user init is needed and a
 * wrong-sign or wrong-scale start cannot trap it.
 *
 * A purely linear relation (e.g. LN on one token) has no finite optimum: s
 * shrinks and k grows with k*s -> slope. The fit then stops on its iteration
 * cap; R^2 is still meaningful, and maxArg = max|s x| << 1 flags that the
 * data never reached the saturating part of tanh.
 */

export interface TanhFit {
  k: number;
  s: number;
  /** 1 - SSres/SStot (SStot about mean(y)). */
  r2: number;
  /** max |s x| over the data: < ~1 means the fit is effectively linear. */
  maxArg: number;
  iterations: number;
  converged: boolean;
}

export interface TanhFitOptions {
  maxIter?: number;
  /** Stop when the relative SSE improvement is below this (default 1e-14). */
  tol?: number;
}

function sseFor(x: ArrayLike<number>, y: ArrayLike<number>, k: number, s: number): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const r = y[i]! - k * Math.tanh(s * x[i]!);
    e += r * r;
  }
  return e;
}

export function fitTanh(x: ArrayLike<number>, y: ArrayLike<number>, opts: TanhFitOptions = {}): TanhFit {
  const n = x.length;
  if (y.length !== n) throw new Error(`fitTanh: x has ${n} values, y has ${y.length}`);
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-14;
  let sx2 = 0;
  let my = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sx2 += x[i]! * x[i]!;
    my += y[i]!;
    syy += y[i]! * y[i]!;
  }
  my /= n;
  let sst = 0;
  for (let i = 0; i < n; i++) sst += (y[i]! - my) ** 2;
  const xrms = Math.sqrt(sx2 / n);
  if (n === 0 || xrms === 0) return { k: 0, s: 0, r2: NaN, maxArg: 0, iterations: 0, converged: false };

  // Grid over s (both signs, 6 decades around 1/rms(x)) with k = <y,t>/<t,t>.
  let k = 0;
  let s = 0;
  let sse = Infinity;
  for (let j = -30; j <= 30; j++) {
    for (const sign of [1, -1]) {
      const sc = (sign * Math.pow(10, j / 10)) / xrms;
      let yt = 0;
      let tt = 0;
      for (let i = 0; i < n; i++) {
        const t = Math.tanh(sc * x[i]!);
        yt += y[i]! * t;
        tt += t * t;
      }
      if (tt === 0) continue;
      const kc = yt / tt;
      const e = Math.max(0, syy - (yt * yt) / tt); // SSE at the optimal k, without a second pass
      if (e < sse) {
        sse = e;
        k = kc;
        s = sc;
      }
    }
  }

  sse = sseFor(x, y, k, s); // exact value for the LM acceptance test

  // Levenberg-Marquardt with Marquardt's diagonal scaling.
  let lambda = 1e-3;
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter && sse > 0; iterations++) {
    let a11 = 0;
    let a12 = 0;
    let a22 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const t = Math.tanh(s * x[i]!);
      const r = y[i]! - k * t;
      const jk = t; // d(model)/dk
      const js = k * x[i]! * (1 - t * t); // d(model)/ds
      a11 += jk * jk;
      a12 += jk * js;
      a22 += js * js;
      g1 += jk * r;
      g2 += js * r;
    }
    let accepted = false;
    for (let tries = 0; tries < 30; tries++) {
      const b11 = a11 * (1 + lambda);
      const b22 = a22 * (1 + lambda);
      const det = b11 * b22 - a12 * a12;
      if (!(Math.abs(det) > 0)) {
        lambda *= 10;
        continue;
      }
      const dk = (g1 * b22 - a12 * g2) / det;
      const ds = (b11 * g2 - a12 * g1) / det;
      const e = sseFor(x, y, k + dk, s + ds);
      if (e < sse) {
        const rel = (sse - e) / sse;
        k += dk;
        s += ds;
        sse = e;
        lambda = Math.max(lambda / 10, 1e-12);
        accepted = true;
        if (rel < tol) converged = true;
        break;
      }
      lambda *= 10;
    }
    if (!accepted) {
      converged = true; // no descent direction left: a (local) minimum to machine precision
      break;
    }
    if (converged) break;
  }
  if (sse === 0) converged = true;
  // k tanh(s x) = (-k) tanh(-s x): report the form with s >= 0 so k carries the sign.
  if (s < 0) {
    s = -s;
    k = -k;
  }
  let maxArg = 0;
  for (let i = 0; i < n; i++) maxArg = Math.max(maxArg, Math.abs(s * x[i]!));
  return { k, s, r2: sst > 0 ? 1 - sse / sst : NaN, maxArg, iterations, converged };
}
