export * from "./transformer";
export * from "./vit";
export * from "./residual";
export * from "./linear";
export * from "./convnext";
export * from "./mixer";
export * from "./resnet";
export { patchify, applyNormNHWC } from "./vision-common";
export * from "./dit";
