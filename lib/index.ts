// dyt-lab public API: `import { ... } from "dyt-lab"`.
export * from "./engine";
export * from "./util/rng";
export * from "./util/atomic";
export * from "./util/paths";
export * from "./util/provenance";
