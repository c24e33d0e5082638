import * as path from "path";
import { showFigure } from "../../plot/display";
import type { Figure } from "../../plot/types";
import { resultPath } from "../runner";
import type { Scale } from "../scale";

/**
 * Save an experiment's figures beside its results (results/<experiment>/<scale>/figures/<name>.json
 * and .png where Chromium renders), so the report and README show the figures of the runs they cite.
 */
export async function saveFigures(experiment: string, scale: Scale, figs: Record<string, Figure | undefined>): Promise<string[]> {
  const saved: string[] = [];
  for (const [name, fig] of Object.entries(figs)) {
    if (!fig) continue;
    const base = resultPath(experiment, scale, path.join("figures", name));
    await showFigure(fig, { savePath: base });
    saved.push(base);
  }
  return saved;
}
