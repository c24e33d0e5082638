export * from "./transformer";
export * from "./vit";
export * from "./residual";
export * from "./linear";
