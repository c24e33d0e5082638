export * from "./alpha";
export * from "./capture";
