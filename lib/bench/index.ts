export * from "./layers";
export * from "./efficiency";
