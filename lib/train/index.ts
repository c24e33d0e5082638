export * from "./adamw";
export * from "./schedule";
export * from "./clip";
export * from "./checkpoint";
export * from "./progress";
export * from "./trainer";
export * from "./task";
