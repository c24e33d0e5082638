#!/usr/bin/python3
"""Execute one notebook headlessly with nbclient, failing on any error.

Driven by lib/notebook/runner.ts (`npm run notebooks`); run with Debian's
/usr/bin/python3 (it has nbclient). The caller sets JUPYTER_PATH so the
project-local tslab kernelspec (jupyter/kernels/tslab) is found, and DYT_SCALE.

Errors from detached work (a promise nobody awaits, a throwing timer callback)
do not fail a tslab cell by themselves. So, out of band (the extra code never
becomes a cell of the saved notebook), the driver
  * runs a guard before the first cell: it records process-level
    'unhandledRejection' / 'uncaughtException' events into a global, and
  * runs a check after every code cell (and once more at the end, after a
    short grace period) that throws if anything was recorded; the failure is
    attributed to the cell just executed and its output is moved into that cell.

Writes the executed notebook to --out atomically (also on failure, so the
failing cell's output can be inspected) and a JSON summary to --result.
With --light, figure outputs keep only their PNG and text: the interactive
text/html (plotly div + figure spec + the PNG again) is dropped (see light_outputs).
Exit status: 0 ok, 1 notebook failed, 2 driver error.
"""
import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
import traceback

import nbformat
from nbclient import NotebookClient
from nbclient.util import ensure_async
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

INJECTED = "dyt_injected"

GUARD_CODE = r"""
(() => {
  const g: any = globalThis as any;
  if (g.__dytGuard === undefined) {
    const st: any = { errors: [] as any[] };
    g.__dytGuard = st;
    process.on("unhandledRejection", (reason: any) => { st.errors.push({ kind: "unhandledRejection", reason }); });
    process.on("uncaughtException", (err: any) => { st.errors.push({ kind: "uncaughtException", reason: err }); });
  }
})();
"""

CHECK_CODE = r"""
{
  await new Promise<void>((r) => setTimeout(r, __DELAY__));
  const st: any = (globalThis as any).__dytGuard;
  if (st === undefined) throw new Error("dyt-lab notebook guard is not installed");
  if (st.errors.length > 0) {
    const errs: any[] = st.errors.splice(0);
    const fmt = (e: any) => e.kind + ": " + (e.reason && e.reason.stack ? e.reason.stack : String(e.reason));
    const err = new Error(errs.length + " error(s) from un-awaited code (a detached promise or callback) " +
      "raised while running this cell or before:\n" + errs.map(fmt).join("\n"));
    err.name = "UnhandledAsyncError";
    throw err;
  }
}
"""


class GuardedClient(NotebookClient):
    """NotebookClient that runs the guard/check code between user cells."""

    check_timeout = 120
    final_grace_ms = 200

    def __init__(self, nb, **kw):
        super().__init__(nb, **kw)
        self._guard_installed = False

    async def _run_injected(self, code, cell_index):
        """Run code in the kernel as a throwaway cell; returns it (outputs inside).

        nbclient writes the executed cell back to nb.cells[cell_index], so the
        user's cell is restored afterwards; the cell counter is not advanced."""
        user_cell = self.nb.cells[cell_index]
        tmp = nbformat.v4.new_code_cell(code)
        tmp.metadata[INJECTED] = True
        try:
            await super().async_execute_cell(tmp, cell_index, store_history=False)
        except CellExecutionError as e:
            e.dyt_cell = tmp
            raise
        finally:
            self.nb.cells[cell_index] = user_cell
            self.code_cells_executed -= 1
        return tmp

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        is_code = cell.cell_type == "code" and cell.source.strip() != ""
        if is_code and not self._guard_installed:
            await self._run_injected(GUARD_CODE, cell_index)
            self._guard_installed = True
        await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if is_code:
            await self.check_after(cell_index, delay_ms=0)
        return cell

    async def check_after(self, cell_index, delay_ms):
        code = CHECK_CODE.replace("__DELAY__", str(int(delay_ms)))
        try:
            await self._run_injected(code, cell_index)
        except CellExecutionError as e:
            raise CheckFailed(cell_index, getattr(e, "dyt_cell", None)) from None


class CheckFailed(Exception):
    """The check after cell `cell_index` found errors from detached work."""

    def __init__(self, cell_index, check_cell):
        super().__init__("unhandled async error after cell %d" % (cell_index + 1))
        self.cell_index = cell_index
        self.check_cell = check_cell


def stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == name)


def error_output(cell):
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return o
    return None


ERROR_LINE = re.compile(r"^(?:Uncaught\w*: )?([A-Za-z_$][\w$]*(?:Error|Exception)(?: \[[^\]]*\])?|Error)(?::\s?(.*))?$")


def parse_stderr_error(stderr):
    """tslab reports a failed cell only on stderr: find 'SomeError: message' there
    (or a TypeScript diagnostic 'L:C - message')."""
    lines = [ln.rstrip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        m = ERROR_LINE.match(ln.strip())
        if m:
            return m.group(1), (m.group(2) or "").strip()
    for ln in lines:
        if re.match(r"^\d+:\d+ - ", ln):
            return "TypeScriptError", ln
    return "CellError", (lines[0] if lines else "")


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


CELL_TIMEOUT = {"s": 0.0}


def describe_failure(nb, cell_index, kind, exc):
    cell = nb.cells[cell_index] if 0 <= cell_index < len(nb.cells) else None
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    tb = None
    stderr = ""
    if cell is not None:
        err = error_output(cell)
        if err is not None:
            ename = ename or err.get("ename")
            evalue = evalue or err.get("evalue")
            tb = tb or "\n".join(err.get("traceback", []))
        stderr = stream_text(cell, "stderr")
    stderr = stderr.strip()
    if kind == "timeout":
        ename = "CellTimeoutError"
        evalue = "the cell did not finish within %g s (the per-cell timeout; see --cell-timeout)" % CELL_TIMEOUT["s"]
    elif kind == "dead":
        ename, evalue = "DeadKernelError", str(exc) or "kernel died"
    # tslab reports no ename/evalue: the error text is on the cell's stderr.
    if (not ename or ename == "<Error>") and stderr:
        ename, evalue = parse_stderr_error(stderr)
    if isinstance(tb, list):
        tb = "\n".join(tb)
    detail = tb or stderr or str(exc)
    return {
        "kind": kind,
        "cellIndex": cell_index,
        "cellNumber": cell_index + 1,
        "codeCellNumber": sum(1 for c in nb.cells[: cell_index + 1] if c.cell_type == "code"),
        "firstLine": first_line(cell.source) if cell is not None else "",
        "ename": ename or "Error",
        "evalue": evalue or "",
        "traceback": detail,
    }


def clean_for_save(nb):
    """Renumber execution counts 1..n over executed code cells (cells after a failure keep none)."""
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            continue
        n += 1
        cell["execution_count"] = n
        for o in cell.get("outputs", []):
            if o.get("output_type") == "execute_result":
                o["execution_count"] = n


def light_outputs(nb):
    """Drop text/html from every output that also has image/png (a showFigure bundle): the PNG and
    text/plain stay, so the copy is small and renders anywhere. Outputs without a PNG (tables,
    figures rendered without Chromium) keep their HTML: it is their only rich view."""
    dropped = 0
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = o.get("data")
            if data and "image/png" in data and "text/html" in data:
                del data["text/html"]
                o.get("metadata", {}).pop("text/html", None)
                dropped += 1
    return dropped


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp-%d-%d" % (path, os.getpid(), int(time.time() * 1000))
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--notebook", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--timeout", type=float, required=True, help="per-cell timeout, seconds")
    ap.add_argument("--startup-timeout", type=float, default=120)
    ap.add_argument("--kernel", default="", help="kernel name (default: notebook metadata, else tslab)")
    ap.add_argument("--scale", default="")
    ap.add_argument("--light", action="store_true", help="figure outputs: PNG + text only (no interactive HTML)")
    args = ap.parse_args()

    nb_path = os.path.abspath(args.notebook)
    nb = nbformat.read(nb_path, as_version=4)
    kernel = args.kernel or nb.metadata.get("kernelspec", {}).get("name") or "tslab"
    if not args.timeout > 0:
        raise SystemExit("--timeout must be > 0")
    cell_timeout = max(1, int(math.ceil(args.timeout)))  # nbclient: 0/None would mean no timeout
    CELL_TIMEOUT["s"] = cell_timeout

    client = GuardedClient(
        nb,
        kernel_name=kernel,
        timeout=cell_timeout,
        timeout_func=lambda cell: GuardedClient.check_timeout if cell.metadata.get(INJECTED) else cell_timeout,
        startup_timeout=int(args.startup_timeout),
        allow_errors=False,
        force_raise_errors=True,
        interrupt_on_timeout=False,
        record_timing=False,
        resources={"metadata": {"path": os.path.dirname(nb_path)}},
    )

    t0 = time.time()
    failure = None
    current = {"index": -1}

    async def run_all():
        async with client.async_setup_kernel():
            msg_id = await ensure_async(client.kc.kernel_info())
            info = await client.async_wait_for_reply(msg_id)
            if info is not None and "language_info" in info["content"]:
                nb.metadata["language_info"] = info["content"]["language_info"]
            last_code = -1
            for index, cell in enumerate(nb.cells):
                current["index"] = index
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                if cell.cell_type == "code" and cell.source.strip():
                    last_code = index
            if last_code >= 0:
                current["index"] = last_code
                # Late detached errors (timers that fire after the last cell).
                await client.check_after(last_code, delay_ms=GuardedClient.final_grace_ms)

    try:
        asyncio.run(run_all())
    except CheckFailed as e:
        idx = e.cell_index
        text = stream_text(e.check_cell, "stderr").strip() if e.check_cell is not None else ""
        failure = describe_failure(nb, idx, "unhandled", e)
        failure["ename"] = "UnhandledAsyncError"
        failure["evalue"] = "an un-awaited promise rejected or a callback threw, during or before this cell"
        failure["traceback"] = text or str(e)
        # Show it in the saved copy, on the cell it belongs to.
        nb.cells[idx].setdefault("outputs", []).append(nbformat.v4.new_output(
            "error", ename=failure["ename"], evalue=failure["evalue"],
            traceback=(text or str(e)).splitlines()))
    except CellTimeoutError as e:
        failure = describe_failure(nb, current["index"], "timeout", e)
    except DeadKernelError as e:
        failure = describe_failure(nb, current["index"], "dead", e)
    except CellExecutionError as e:
        failure = describe_failure(nb, current["index"], "error", e)
    except Exception as e:  # kernel failed to start, bad notebook, ...
        failure = {
            "kind": "driver", "cellIndex": current["index"], "cellNumber": current["index"] + 1,
            "codeCellNumber": 0, "firstLine": "", "ename": type(e).__name__, "evalue": str(e),
            "traceback": traceback.format_exc(),
        }
    seconds = time.time() - t0

    clean_for_save(nb)
    if args.light:
        light_outputs(nb)
    nb.metadata["dyt_run"] = {
        "ok": failure is None,
        "scale": args.scale or os.environ.get("DYT_SCALE", ""),
        "seconds": round(seconds, 2),
        "executed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "light": bool(args.light),
        "note": "executed headlessly by npm run notebooks; an unhandled-rejection guard ran between cells (not saved as cells)",
    }
    write_atomic(args.out, nbformat.writes(nb) + "\n")
    write_atomic(args.result, json.dumps({"ok": failure is None, "seconds": seconds, "failure": failure}))
    return 0 if failure is None else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(2)
