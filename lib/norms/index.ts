export * from "./types";
export { makeNorm, assertNormKind, resolveNormOptions, NORM_DEFAULTS } from "./factory";
export { layerNorm } from "./layernorm";
export { rmsNorm } from "./rmsnorm";
export { dyt, squash } from "./dyt";
export { batchNorm, type BatchNormState } from "./batchnorm";
