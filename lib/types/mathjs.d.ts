// mathjs 9.5.2 (pinned: danfojs-node needs ^9.4.4, so this is the copy npm already installs) ships
// types in types/index.d.ts but its package "exports" map does not expose them to node16
// resolution. The lab uses one function; this declares just that one.
declare module "mathjs" {
  /** Eigenvalues (ascending) and eigenvectors (the columns of `vectors`) of a real symmetric matrix (Jacobi). */
  export function eigs(x: number[][]): { values: number[]; vectors: number[][] };
}
