/** Receives training progress; the trainer calls it after every step. */
export interface ProgressSink {
  start(total: number, label: string, from: number): void;
  update(step: number, info: { loss: number; lr: number; msPerStep: number; evalAcc?: number }): void;
  end(summary: string): void;
}

function fmtTime(sec: number): string {
  if (!Number.isFinite(sec)) return "?";
  const m = Math.floor(sec / 60);
  const s = Math.round(sec % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}

/**
 * Terminal: a redrawn bar on a TTY. Elsewhere (notebook cells, CI logs) a
 * line every ~10% of the run, which Jupyter streams live into the cell.
 */
export function consoleProgress(opts: { lines?: number; stream?: NodeJS.WriteStream } = {}): ProgressSink {
  // Jupyter shows stderr in red; notebooks get stdout.
  const stream = opts.stream ?? (process.env.JPY_PARENT_PID ? process.stdout : process.stderr);
  const tty = !!stream.isTTY && !process.env.JPY_PARENT_PID;
  let total = 1;
  let label = "";
  let lastLine = -1;
  let t0 = Date.now();
  let from = 0;
  return {
    start(n, l, f) {
      total = n;
      label = l;
      from = f;
      t0 = Date.now();
      lastLine = -1;
      if (f > 0) stream.write(`${label}: resuming at step ${f}/${n}\n`);
    },
    update(step, info) {
      const done = step + 1;
      const elapsed = (Date.now() - t0) / 1000;
      const eta = ((total - done) * elapsed) / Math.max(1, done - from);
      const acc = info.evalAcc !== undefined ? ` acc ${(100 * info.evalAcc).toFixed(1)}%` : "";
      const text = `${label} ${done}/${total} loss ${info.loss.toFixed(4)} lr ${info.lr.toExponential(2)} ${info.msPerStep.toFixed(0)} ms/step${acc} eta ${fmtTime(eta)}`;
      if (tty) {
        const width = 24;
        const fill = Math.round((width * done) / total);
        stream.write(`\r[${"#".repeat(fill)}${".".repeat(width - fill)}] ${text}\x1b[K`);
      } else {
        // Notebook cells keep every line: fewer there.
        const lines = opts.lines ?? (process.env.JPY_PARENT_PID ? 4 : 10);
        const bucket = Math.floor((done * lines) / total);
        if (bucket !== lastLine || done === total) {
          lastLine = bucket;
          stream.write(text + "\n");
        }
      }
    },
    end(summary) {
      if (tty) stream.write("\n");
      stream.write(`${label}: ${summary}\n`);
    },
  };
}

/** Discards progress (tests). */
export const silentProgress: ProgressSink = { start() {}, update() {}, end() {} };
