export * from "./transformer";
export * from "./vit";
export * from "./residual";
export * from "./linear";
export * from "./llama";
export * from "./rope";
export * from "./embedding";
