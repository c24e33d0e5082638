// dyt-lab public API: `import { ... } from "dyt-lab"`.
export * from "./engine";
export * from "./util/rng";
export * from "./util/atomic";
export * from "./util/paths";
export * from "./util/provenance";
export * from "./ops/param";
export * from "./ops/matmul";
export * from "./norms";
export * from "./models";
export * from "./train";
export * from "./hooks";
export * from "./experiments";
export * from "./data";
export * from "./plot";
export { toDataFrame, fromDataFrame, showTable, tableToMarkdown, tableToHtml, tableToText, type Row, type Cell, type TableOptions } from "./tables";
export * from "./notebook";
export * from "./analysis";
export * from "./bench";
