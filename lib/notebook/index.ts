// Notebook support: the scale a notebook runs at, and the headless runner.
export * from "./scale";
export * from "./runner";
