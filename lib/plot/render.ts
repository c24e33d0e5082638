/**
 * Static PNG rendering of Plotly figures: playwright-core drives the system Chromium
 * (Debian's /usr/bin/chromium; nothing is downloaded) headless, with plotly.js from
 * node_modules loaded once into one page. One browser per process, started on first use;
 * closeRenderer() (or an idle timeout) shuts it down so processes can exit.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import type { Browser, Page } from "playwright-core";
import type { Figure } from "./types";

export interface RenderOptions {
  /** CSS pixels (default 800 x 500). */
  width?: number;
  height?: number;
  /** Device pixel ratio of the PNG (default 1). */
  scale?: number;
}

export const DEFAULT_WIDTH = 800;
export const DEFAULT_HEIGHT = 500;
// Generous: on a loaded 2-core machine the first render (Chromium start + plotly.js load) took over 60 s.
const RENDER_TIMEOUT_MS = 180_000;

/** Flags for a quiet, sandbox-free, GPU-free headless Chromium. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
] as const;

/** Raised by renderPng when no Chromium is installed. */
export class RendererUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RendererUnavailableError";
  }
}

/** The Chromium binary: env DYT_CHROMIUM ("none" disables PNG rendering), else the first system one found. */
export function chromiumPath(): string | null {
  const env = process.env.DYT_CHROMIUM;
  if (env !== undefined && env !== "") {
    if (env === "none") return null;
    return fs.existsSync(env) ? env : null;
  }
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Path of plotly.js (the minified dist bundle). */
export function plotlyJsPath(): string {
  return require.resolve("plotly.js-dist-min/plotly.min.js");
}

interface RendererState {
  browser: Browser;
  page: Page;
  tmpDir: string;
}

let starting: Promise<RendererState> | null = null;
let queue: Promise<unknown> = Promise.resolve();
let idleTimer: NodeJS.Timeout | null = null;
let idleCloseMs: number | null | undefined = undefined;
let startMs = 0;

/**
 * Close the browser after this many ms without a render (null: never; default 30000 in a
 * tslab kernel, 2000 elsewhere so a script that forgets closeRenderer() still exits; undefined
 * restores that default).
 */
export function setRendererIdleClose(ms: number | null | undefined): void {
  idleCloseMs = ms;
}

function defaultIdleMs(): number {
  return Object.keys(require.cache).some((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k)) ? 30000 : 2000;
}

async function start(): Promise<RendererState> {
  const exe = chromiumPath();
  if (!exe) throw new RendererUnavailableError("no Chromium found (install Debian's chromium, or set DYT_CHROMIUM)");
  const t0 = Date.now();
  // Lazy: importing dyt-lab must not load playwright.
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  // launch() gives the browser a fresh temporary profile (user-data-dir), removed on close.
  const browser = await chromium.launch({ executablePath: exe, headless: true, args: [...CHROMIUM_FLAGS], timeout: 180_000 });
  // A file:// page that loads plotly.js from node_modules: faster than pushing 4.8 MB through
  // the DevTools protocol (measured ~1.6-2 s vs ~2.5-3.8 s for addScriptTag).
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-render-"));
  try {
    const page = await browser.newPage();
    const html = path.join(tmpDir, "render.html");
    fs.writeFileSync(
      html,
      `<!doctype html><html><head><meta charset="utf-8"><script src="${pathToFileURL(plotlyJsPath()).href}"></script></head><body></body></html>`,
    );
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(() => typeof (globalThis as unknown as { Plotly?: unknown }).Plotly !== "undefined");
    startMs = Date.now() - t0;
    return { browser, page, tmpDir };
  } catch (e) {
    await browser.close().catch(() => undefined);
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  }
}

/** Milliseconds the last browser start took (0 if none started yet). */
export function rendererStartMs(): number {
  return startMs;
}

function armIdleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  const ms = idleCloseMs === undefined ? defaultIdleMs() : idleCloseMs;
  if (ms === null) return;
  idleTimer = setTimeout(() => {
    idleTimer = null;
    void closeRenderer();
  }, ms);
  idleTimer.unref();
}

/** Render a figure to PNG bytes. Throws RendererUnavailableError when no Chromium is installed. */
export async function renderPng(fig: Figure, opts: RenderOptions = {}): Promise<Buffer> {
  const width = opts.width ?? fig.layout.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? fig.layout.height ?? DEFAULT_HEIGHT;
  const scale = opts.scale ?? 1;
  const job = queue.then(async () => {
    if (idleTimer) {
      clearTimeout(idleTimer);
      idleTimer = null;
    }
    if (!starting) {
      const s = start();
      starting = s;
      s.then(
        (st) =>
          st.browser.on("disconnected", () => {
            if (starting === s) starting = null; // crashed or killed: start afresh next time
          }),
        () => {
          if (starting === s) starting = null;
        },
      );
    }
    const { page } = await starting;
    const spec = JSON.parse(JSON.stringify(fig)) as Figure; // drops undefined, NaN -> null
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`PNG rendering took over ${RENDER_TIMEOUT_MS / 1000} s`)), RENDER_TIMEOUT_MS);
    });
    const render = page.evaluate(
      async ({ spec, width, height, scale }) => {
        const P = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return P.toImage({ data: spec.data, layout: { ...spec.layout, width, height } }, { format: "png", width, height, scale });
      },
      { spec, width, height, scale },
    );
    const url = await Promise.race([render, timeout]).finally(() => clearTimeout(timer));
    const prefix = "data:image/png;base64,";
    if (!url.startsWith(prefix)) throw new Error("plotly toImage returned no PNG");
    return Buffer.from(url.slice(prefix.length), "base64");
  });
  queue = job.catch(() => undefined).finally(armIdleClose);
  return job;
}

let noticePrinted = false;

/** renderPng, or null (with a one-line notice, once per process) when Chromium is missing or fails. */
export async function tryRenderPng(fig: Figure, opts: RenderOptions = {}): Promise<Buffer | null> {
  try {
    return await renderPng(fig, opts);
  } catch (e) {
    if (!noticePrinted) {
      noticePrinted = true;
      const why = e instanceof RendererUnavailableError ? e.message : `Chromium failed: ${(e as Error).message.split("\n")[0]}`;
      console.warn(`[dyt-lab plot] no PNG fallback for figures: ${why}`);
    }
    return null;
  }
}

/** Close the renderer's browser (if started) so the process can exit. Safe to call any time. */
export async function closeRenderer(): Promise<void> {
  if (idleTimer) {
    clearTimeout(idleTimer);
    idleTimer = null;
  }
  const s = starting;
  starting = null;
  if (!s) return;
  try {
    const { browser, tmpDir } = await s;
    fs.rmSync(tmpDir, { recursive: true, force: true });
    await browser.close();
  } catch {
    /* never started or already gone */
  }
}
