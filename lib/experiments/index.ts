export * from "./scale";
export * from "./runner";
export * from "./registry";
export { csv } from "./entry";
export * from "./vit-fashion";
export * from "./vit-fashion-figures";
export * from "./claims";
