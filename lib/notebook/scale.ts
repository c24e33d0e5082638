/** Notebook scales, from fastest to slowest (see design.md "Scales"). */
export const NOTEBOOK_SCALES = ["smoke", "quick", "full"] as const;
export type NotebookScale = (typeof NOTEBOOK_SCALES)[number];

/** The default scale when DYT_SCALE is unset or empty. */
export const DEFAULT_NOTEBOOK_SCALE: NotebookScale = "quick";

/** Parse a scale name; throws a clear error listing the valid ones. */
export function parseNotebookScale(value: string, source = "scale"): NotebookScale {
  const v = value.trim();
  if ((NOTEBOOK_SCALES as readonly string[]).includes(v)) return v as NotebookScale;
  throw new Error(`invalid ${source} ${JSON.stringify(value)}: expected one of ${NOTEBOOK_SCALES.join(", ")}`);
}

/**
 * The scale a notebook should run at: env DYT_SCALE (set by `npm run notebooks -- --scale ...`),
 * default "quick". A bad value throws, naming the valid ones.
 */
export function notebookScale(): NotebookScale {
  const v = process.env.DYT_SCALE;
  if (v === undefined || v.trim() === "") return DEFAULT_NOTEBOOK_SCALE;
  return parseNotebookScale(v, "DYT_SCALE");
}
