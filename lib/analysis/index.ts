// Statistics and numerical analyses used by the experiments (see each module's header).
export * from "./special";
export * from "./stats";
export * from "./kurtosis";
export * from "./quant";
export * from "./outliers";
export * from "./spikes";
export * from "./divergence";
export * from "./lrsens";
export * from "./reparam";
export * from "./tanhfit";
export * from "./paired";
export * from "./scurves";
export * from "./frechet";
export * from "./knn";
