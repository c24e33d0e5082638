import { barFigure, baseLayout, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import type { ScurvesRecord, ScurvesSummary } from "./spec";

type Rec = ScurvesRecord;
/** Token colours: palette entries that are not red (red marks the top channels). */
const TOKEN_COLORS = [paletteColor(0), paletteColor(2), paletteColor(4), paletteColor(9)];

/** The record that carries scatter samples (the first seed). */
export function sampledRecord(records: Rec[]): Rec | undefined {
  return records.find((r) => r.result.captures.some((c) => c.fits.some((f) => f.sample)));
}

/**
 * One scatter panel per LN layer (rows = blocks, columns = norm1 / norm2),
 * output vs input at one capture step: grey = sampled tokens, a few tokens in
 * colour (each a straight line for LN: slope 1/sigma_t), faint red = the 4
 * channels with the largest |x| (all sampled tokens), black = the fitted k tanh(s x).
 */
export function scurveGridFigure(rec: Rec, step: number, opts: { output?: "pre" | "post"; colorTokens?: number } = {}): Figure {
  const cap = rec.result.captures.find((c) => c.step === step);
  if (!cap) throw new Error(`scurveGridFigure: run ${rec.run} has no capture at step ${step}; captured: ${rec.result.captures.map((c) => c.step).join(", ")}`);
  const output = opts.output ?? "pre";
  const fits = cap.fits.filter((f) => f.block !== null && f.sample);
  if (!fits.length) throw new Error(`scurveGridFigure: capture at step ${step} of ${rec.run} has no plot samples (they are kept for the first seed only)`);
  const depth = Math.max(...fits.map((f) => f.block!)) + 1;
  const data: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout = baseLayout({ title: `LayerNorm ${output === "pre" ? "output before the affine" : "output"} vs input, step ${step} (seed ${rec.seed})` });
  fits.forEach((f) => {
    const col = f.slot === "norm1" ? 0 : 1;
    const k = f.block! * 2 + col + 1;
    const ax = k === 1 ? "" : String(k);
    const xa = `x${ax}`;
    const ya = `y${ax}`;
    const s = f.sample!;
    const y = output === "pre" ? s.yPre : s.yPost;
    const top = new Set(f.topChannels);
    const tokens = [...new Set(s.token)];
    const colorTok = new Set(tokens.slice(0, opts.colorTokens ?? 4));
    const pick = (keep: (i: number) => boolean) => {
      const xs: number[] = [];
      const ys: number[] = [];
      s.x.forEach((v, i) => {
        if (keep(i)) {
          xs.push(v);
          ys.push(y[i]!);
        }
      });
      return { x: xs, y: ys };
    };
    const common = { type: "scatter", mode: "markers" as const, xaxis: xa, yaxis: ya, showlegend: k === 1 };
    data.push({ ...common, name: "tokens", legendgroup: "all", ...pick((i) => !top.has(s.channel[i]!)), marker: { color: "#bbbbbb", size: 3, opacity: 0.6 } });
    // Top channels first (faint), single tokens on top, so each token's straight line stays visible.
    data.push({ ...common, name: "top-4 |x| channels", legendgroup: "top", ...pick((i) => top.has(s.channel[i]!)), marker: { color: "#d62728", size: 3, opacity: 0.35 } });
    [...colorTok].forEach((t, j) =>
      data.push({ ...common, name: `token ${j + 1}`, legendgroup: `t${j}`, ...pick((i) => s.token[i] === t), marker: { color: TOKEN_COLORS[j % TOKEN_COLORS.length], size: 5 } }),
    );
    const fs = output === "pre" ? f.pre : f.post;
    const lo = Math.min(...s.x);
    const hi = Math.max(...s.x);
    const cx = Array.from({ length: 80 }, (_, i) => lo + ((hi - lo) * i) / 79);
    data.push({ ...common, mode: "lines", name: "fit k tanh(s x)", legendgroup: "fit", x: cx, y: cx.map((v) => fs.k * Math.tanh(fs.s * v)), line: { color: "#000000", width: 1.5 } });
    annotations.push({
      xref: `${xa} domain`,
      yref: `${ya} domain`,
      x: 0.02,
      y: 0.98,
      showarrow: false,
      align: "left",
      font: { size: 10 },
      text: `${f.layer}<br>ΔR²=${fs.deltaR2.toFixed(3)}, s·max|x|=${fs.maxArg.toFixed(1)}`,
    });
  });
  layout.grid = { rows: depth, columns: 2, pattern: "independent" };
  layout.annotations = annotations;
  layout.height = 260 * depth;
  layout.width = 900;
  return { data, layout };
}

/** S-shapedness (pre-affine deltaR2) per layer, one bar series per capture step, error bars = std over seeds. */
export function scurvesDeltaFigure(summary: ScurvesSummary): Figure {
  const layerNames = [...new Set(summary.layers.map((l) => l.layer))];
  const series = summary.captureSteps.map((step, i) => {
    const ls = layerNames.map((n) => summary.layers.find((l) => l.layer === n && l.step === step));
    return {
      name: `step ${step}`,
      values: ls.map((l) => l?.deltaR2.mean ?? NaN),
      errors: ls.map((l) => l?.deltaR2.std ?? NaN),
      color: paletteColor(i),
    };
  });
  return barFigure(
    { categories: layerNames, series },
    { title: `How tanh-like each LayerNorm is: R²(tanh) − R²(linear), mean ± std over ${summary.seeds.length} seed(s)`, yLabel: "ΔR² (pre-affine)", xLabel: "layer (input side first)" },
  );
}

/** One row per layer at the given capture step: fit quality, mean over seeds. */
export function scurvesTable(summary: ScurvesSummary, step?: number): Row[] {
  const st = step ?? summary.captureSteps.at(-1);
  const init = summary.captureSteps[0];
  return summary.layers
    .filter((l) => l.step === st)
    .map((l) => {
      const at0 = summary.layers.find((x) => x.layer === l.layer && x.step === init);
      return {
        layer: l.layer,
        "R² tanh": l.r2Tanh.mean,
        "R² linear": l.r2Linear.mean,
        "ΔR²": l.deltaR2.mean,
        "ΔR² std": l.deltaR2.std,
        s: l.s.mean,
        k: l.k.mean,
        "s·max|x|": l.maxArg.mean,
        "ΔR² post-affine": l.postDeltaR2.mean,
        [`ΔR² at step ${init}`]: at0?.deltaR2.mean ?? NaN,
        seeds: l.n,
      };
    });
}
