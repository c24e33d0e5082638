// Data sets: IDX parsing, Fashion-MNIST, mini-batch sampling.
export * from "./idx";
export * from "./dataset";
export * from "./sampler";
export * from "./fashion-mnist";
export * from "./text";
export * from "./emoji";
export * from "./dna";
export * from "./speech";
export * from "./multicrop";
