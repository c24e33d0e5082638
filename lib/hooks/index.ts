export * from "./alpha";
export * from "./capture";
export * from "./activations";
