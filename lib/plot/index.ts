// Plotly figure builders (plain JSON), PNG rendering and notebook display.
export * from "./types";
export * from "./figures";
export * from "./render";
export * from "./html";
export * from "./display";
