/**
 * Engine choice. Every model and trainer uses the one `@tensorflow/tfjs`
 * instance; an engine is just which backend that instance runs on.
 *
 *   native        wasm + native OpenBLAS kernels (lib/engine/native, issue 4)
 *   wasm          tfjs-backend-wasm, SIMD build (ships inside the npm package)
 *   cpu           tfjs pure-JS backend: slow, the numerical reference
 *   tfjs-node     libtensorflow CPU, when a real tfjs-node is installed
 *   tfjs-node-gpu libtensorflow CUDA, when tfjs-node-gpu is installed
 *
 * Selection: option `engine`, else env DYT_ENGINE, else "auto" (the fastest
 * available). The chosen engine is printed once per process.
 */
import * as tf from "@tensorflow/tfjs";
import * as path from "path";

export const ENGINE_NAMES = ["native", "wasm", "cpu", "tfjs-node", "tfjs-node-gpu"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface EngineInfo {
  /** The engine requested after resolving "auto". */
  name: EngineName;
  /** The tfjs backend name actually active. */
  backend: string;
  /** Human-readable detail (SIMD, BLAS kernel, ...). */
  detail: string;
  tfjsVersion: string;
}

export interface EngineOptions {
  engine?: EngineName | "auto";
  /** Print nothing (the one-line banner is printed otherwise, once). */
  quiet?: boolean;
}

let current: EngineInfo | undefined;
let announced = false;

/** Hooks for extra engines (the native BLAS one registers itself here). */
export interface EngineProvider {
  name: EngineName;
  /** Try to activate; return detail text, or throw with the reason. */
  activate(): Promise<string>;
  /** Undo activate()'s global changes (e.g. kernel overrides) when another engine is chosen. */
  deactivate?(): void;
}
const providers = new Map<EngineName, EngineProvider>();
export function registerEngineProvider(p: EngineProvider): void {
  providers.set(p.name, p);
}

function wasmDistDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
}

let wasmLoaded = false;
/** Set up and select the stock wasm backend (also the base of the native engine). */
export async function activateWasm(): Promise<string> {
  const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
  if (!wasmLoaded) {
    // Threads need a blob: Worker, which Node refuses; the SIMD build is used.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setWasmPaths(wasmDistDir() + path.sep);
    wasmLoaded = true;
  }
  const ok = await tf.setBackend("wasm");
  if (!ok) throw new Error("tfjs-backend-wasm failed to initialise");
  return `wasm ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "scalar"}`;
}

function realTfjsNode(gpu: boolean): boolean {
  const pkg = gpu ? "@tensorflow/tfjs-node-gpu" : process.env.DYT_TFJS_NODE || "@tensorflow/tfjs-node";
  try {
    const meta = require(`${pkg}/package.json`) as { version: string };
    if (meta.version.includes("dyt-lab-shim")) return false; // the danfo shim, not libtensorflow
    require(pkg);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: EngineName): Promise<string> {
  // The native engine patches wasm kernels in place: undo that for any other engine.
  if (name !== "native") for (const p of providers.values()) p.deactivate?.();
  switch (name) {
    case "cpu": {
      await tf.setBackend("cpu");
      return "pure JS reference";
    }
    case "wasm":
      return activateWasm();
    case "tfjs-node":
    case "tfjs-node-gpu": {
      if (!realTfjsNode(name === "tfjs-node-gpu"))
        throw new Error(`${name} is not installed (it downloads libtensorflow at install time; install it where that works)`);
      const ok = await tf.setBackend("tensorflow");
      if (!ok) throw new Error(`${name}: backend "tensorflow" failed to initialise`);
      return "libtensorflow";
    }
    case "native": {
      const p = providers.get("native") ?? (await loadNativeProvider());
      if (!p) throw new Error("native engine is not built (npm run setup builds it; needs g++ and libopenblas-dev)");
      return p.activate();
    }
  }
}

async function loadNativeProvider(): Promise<EngineProvider | undefined> {
  try {
    // Optional module: absent until the native addon exists.
    const mod = require("./native") as { provider?: EngineProvider };
    if (mod.provider) registerEngineProvider(mod.provider);
    return mod.provider;
  } catch {
    return undefined;
  }
}

function parseEngine(v: string, where: string): EngineName | "auto" {
  if (v === "auto" || (ENGINE_NAMES as readonly string[]).includes(v)) return v as EngineName | "auto";
  throw new Error(`unknown engine "${v}" (from ${where}); choose one of: auto, ${ENGINE_NAMES.join(", ")}`);
}

/**
 * Select and initialise the engine. Idempotent: calling again with the same
 * (or no) request returns the active engine.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const requested =
    opts.engine !== undefined
      ? parseEngine(opts.engine, "option engine")
      : process.env.DYT_ENGINE
        ? parseEngine(process.env.DYT_ENGINE, "env DYT_ENGINE")
        : "auto";
  if (current && (requested === "auto" || requested === current.name)) return current;
  tf.enableProdMode();
  const order: EngineName[] = requested === "auto" ? ["tfjs-node-gpu", "native", "wasm", "cpu"] : [requested];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const detail = await activate(name);
      await tf.ready();
      current = { name, backend: tf.getBackend(), detail, tfjsVersion: tf.version.tfjs };
      break;
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
      if (requested !== "auto") throw new Error(`engine "${name}" is unavailable: ${(e as Error).message}`);
    }
  }
  if (!current) throw new Error(`no engine could start:\n  ${failures.join("\n  ")}`);
  if (!opts.quiet && !announced) {
    const skipped = requested === "auto" && failures.length ? ` (skipped: ${failures.map((f) => f.split(":")[0]).join(", ")})` : "";
    console.log(`[dyt-lab] engine: ${current.name} (${current.detail}, tfjs ${current.tfjsVersion})${skipped}`);
    announced = true;
  }
  return current;
}

/** The active engine, or undefined before initEngine. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}

export { tf };
export * from "./leak";
