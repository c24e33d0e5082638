export * from "./transformer";
export * from "./vit";
