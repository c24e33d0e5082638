import { curvesFigure, heatmapFigure, heatmapNotes, scatterFigure, type ScatterSeries } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { paperLlamaAlpha0 } from "../../models/llama";
import type { LmProtocolRecord } from "../protocol/runner";
import type { LmAlpha0Config, LmAlpha0Pair, LmAlpha0Summary } from "./spec";
import { fixed } from "../../util/format";

const f3 = fixed(3);
const finiteMean = (v: readonly number[]) => {
  const f = v.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};

/**
 * Per config: mean final validation bpb over the seeds on the (attention α₀
 * rows x other α₀ columns) grid. "★ best" and "N" mark the best pair and the
 * near-best set; "✕" marks a pair with a run that diverged or did not learn
 * (no score; its value, if any, is the mean of the seeds that have one).
 */
export function lmAlpha0Heatmaps(s: LmAlpha0Summary): { size: string; figure: Figure }[] {
  return s.configs.map((c) => {
    const at = (i: number, j: number): LmAlpha0Pair | undefined => c.pairs.find((p) => p.attn === s.attn[i] && p.other === s.other[j]);
    const z = s.attn.map((_, i) => s.other.map((_, j) => finiteMean(at(i, j)?.valBpb ?? [])));
    const fig = heatmapFigure({ z, x: s.other, y: s.attn }, { title: `${c.size} (width ${c.width}, depth ${c.depth}): mean validation bpb after ${s.steps} steps, lr ${s.lr}`, xLabel: "α₀ other (FFN, final norm)", yLabel: "α₀ attention", zLabel: "bpb", annotate: ".3f" });
    const isBest = (p: LmAlpha0Pair | undefined) => p !== undefined && c.best?.attn === p.attn && c.best.other === p.other;
    const failed = heatmapNotes(s.other, s.attn, (i, j) => {
      const p = at(i, j);
      const bad = p?.classes.filter((k) => k !== "learned") ?? [];
      return p && bad.length ? `✕ ${[...new Set(bad)].join(", ")}` : undefined;
    });
    const marks = heatmapNotes(s.other, s.attn, (i, j) => (isBest(at(i, j)) ? "★ best" : at(i, j)?.nearBest ? "N" : undefined), { color: "#ffffff", yshift: 14 });
    fig.layout.annotations = [...failed, ...marks];
    return { size: c.size, figure: fig };
  });
}

/**
 * The near-best set's α₀ against width, log-log: the effective α₀ and the
 * geometric means of the attention and other α₀ over N (depth 2), the best
 * pair, the deep config of the depth claim, and the paper's LLaMA table.
 * The width amendment's ladder when the summary has it (its sizes that ran:
 * without them the figure is the pre-registered ladder's, as before).
 */
export function lmAlpha0WidthFigure(s: LmAlpha0Summary): Figure {
  const names = s.widthExtended?.ladder ?? s.ladder;
  const ladder = names.flatMap((n) => s.configs.find((c) => c.size === n) ?? []).sort((x, y) => x.width - y.width);
  const x = ladder.map((c) => c.width);
  const line = (name: string, y: (c: LmAlpha0Config) => number, mode: ScatterSeries["mode"] = "lines+markers"): ScatterSeries => ({ name, x, y: ladder.map(y), mode, size: 8 });
  const deep = s.configs.find((c) => c.size === s.depthPair?.[1]);
  const paper = [1024, 2048, 4096, 8192];
  const series: ScatterSeries[] = [
    line("effective α₀ = geo-mean √(a·o) over N", (c) => c.effective.alpha0),
    line("attention α₀, geo-mean over N", (c) => c.effective.attn),
    line("other α₀, geo-mean over N", (c) => c.effective.other),
    line("best pair: attention α₀", (c) => c.best?.attn ?? NaN, "markers"),
    line("best pair: other α₀", (c) => c.best?.other ?? NaN, "markers"),
    ...(deep ? [{ name: `effective α₀, ${deep.size} (depth ${deep.depth})`, x: [deep.width], y: [deep.effective.alpha0], size: 12 }] : []),
    { name: "paper (LLaMA): attention α₀", x: paper, y: paper.map((w) => paperLlamaAlpha0(w).alpha0Attn), mode: "lines+markers", color: "#999999" },
    { name: "paper (LLaMA): other α₀", x: paper, y: paper.map((w) => paperLlamaAlpha0(w).alpha0Ffn), mode: "lines+markers", color: "#cccccc" },
  ];
  return scatterFigure(series, { title: `α₀ of the near-best pairs by width (depth ${ladder[0]?.depth ?? "—"}; ours at lr ${s.lr}, the paper's LLaMA table at 1024-8192)`, xLabel: "model width (log)", yLabel: "α₀ (log)", logX: true, logY: true });
}

/** Validation bpb against the step of the corner's runs and the grid's runs of its pairs (one seed; a diverged run's curve stops). */
export function lmAlpha0CornerFigure(records: readonly LmProtocolRecord[], s: LmAlpha0Summary): Figure | undefined {
  const c = s.corner;
  if (!c) return undefined;
  const mine = records.filter((r) => c.runs.some((k) => r.axes.size === c.size && r.seed === k.seed && r.config.train.lr === k.lr && r.axes.alpha0Attn === k.attn && r.axes.alpha0Other === k.other));
  return curvesFigure(
    mine.map((r) => ({ label: `α₀ ${r.axes.alpha0Attn}/${r.axes.alpha0Other}, lr ${r.config.train.lr}${r.result.status === "diverged" ? " (diverged)" : ""}`, points: r.result.evals.filter((e) => e.bpb !== undefined).map((e) => ({ x: e.step, y: e.bpb! })) })),
    { metric: "validation bits per byte", title: `Large α₀ x large lr at ${c.size}, seed ${c.runs[0]?.seed ?? "—"}: validation bpb` },
  );
}

/** One row per corner run. */
export function lmAlpha0CornerTable(s: LmAlpha0Summary): Row[] {
  return (s.corner?.runs ?? []).map((r) => ({
    "α₀ attention": r.attn,
    "α₀ other": r.other,
    lr: String(r.lr),
    seed: r.seed,
    run: r.class,
    "diverged at step": r.divergedStep ?? "—",
    "final val bpb": f3(r.valBpb),
    source: r.fromGrid ? "grid" : "corner",
  }));
}

/** One row per (config, pair): validation bpb per seed and mean, run classes, best / near-best. */
export function lmAlpha0PairTable(s: LmAlpha0Summary): Row[] {
  return s.configs.flatMap((c) =>
    c.pairs.map((p) => ({
      size: c.size,
      "α₀ attention": p.attn,
      "α₀ other": p.other,
      "val bpb per seed": p.valBpb.map(f3).join(" / "),
      "mean (score)": f3(p.meanBpb),
      runs: p.classes.join(", "),
      "near-best": c.best?.attn === p.attn && c.best.other === p.other ? "best" : p.nearBest ? "N" : "",
    })),
  );
}

/** One row per config: best pair, near-best set, effective α₀. */
export function lmAlpha0ConfigTable(s: LmAlpha0Summary): Row[] {
  const g = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)) : "—");
  return s.configs.map((c) => ({
    size: c.size,
    width: c.width,
    depth: c.depth,
    "best α₀ (attn/other)": c.best ? `${c.best.attn}/${c.best.other}` : "—",
    "best bpb": f3(c.best?.meanBpb),
    "near-best set N": c.nearBest.map(([a, o]) => `${a}/${o}`).join(", ") || (c.failure ?? "—"),
    "effective α₀": g(c.effective.alpha0),
    "attention α₀ (N)": g(c.effective.attn),
    "other α₀ (N)": g(c.effective.other),
  }));
}
