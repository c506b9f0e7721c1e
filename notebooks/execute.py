"""Strips and executes the finseg notebooks headless (called by run.sh; run with /usr/bin/python3).

Source notebooks are kept without outputs: they are stripped in place first (in CI, a notebook
that needed stripping is an error, since it was committed with outputs). Each notebook then runs
in its own kernel with a per-cell timeout, and the executed copy is written to output/ even when
a cell fails, so the failing cell's output can be read there. The exit code is 1 when any
notebook failed, 0 otherwise.
"""
import argparse
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# Cell metadata that records a run rather than the notebook (nbstripout drops the same keys).
RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def strip(nb):
    """Removes outputs, execution counts and run metadata; returns True when anything changed."""
    changed = False
    for cell in nb.cells:
        for key in RUN_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
        if cell.cell_type == "code":
            if cell.get("outputs"):
                cell.outputs = []
                changed = True
            if cell.get("execution_count") is not None:
                cell.execution_count = None
                changed = True
    return changed


def failure_report(cell_index, cell, error):
    """The failing cell: its first line and what it printed (tslab reports errors on stderr)."""
    lines = [f"  cell {cell_index}: {(cell.source.splitlines() or [''])[0][:100]}"]
    shown = False
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            text = "\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}"
        elif o.get("name") == "stderr":
            text = o.get("text", "")
        else:
            continue
        shown = True
        lines.extend(f"    | {line}" for line in text.rstrip().splitlines()[:40])
    if not shown:
        lines.append("    | " + (str(error).strip().splitlines() or ["(no message)"])[-1])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--output", required=True, help="folder for the executed copies")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    ap.add_argument("--strip-only", action="store_true", help="strip the notebooks and stop")
    args = ap.parse_args()
    ci = os.environ.get("CI", "").lower() in ("1", "true")

    committed_with_outputs = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            nbformat.write(nb, path)
            committed_with_outputs.append(path)
            print(f"stripped outputs from {path}")
    if args.strip_only:
        return 0
    if ci and committed_with_outputs:
        print("error: notebooks were committed with outputs: " + ", ".join(committed_with_outputs))
        print("strip them with `npm run notebooks -- --strip` before committing")
        return 1

    os.makedirs(args.output, exist_ok=True)
    failed = []
    for path in args.notebooks:
        name = os.path.basename(path)
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=args.timeout,
            startup_timeout=120,
            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "tslab"),
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        current = {}
        client.on_cell_start = lambda cell, cell_index: current.update(cell=cell, index=cell_index)
        started = time.monotonic()
        error = None
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            error = e
        seconds = time.monotonic() - started
        nbformat.write(nb, os.path.join(args.output, name))
        if error is None:
            print(f"ok      {name} ({seconds:.1f} s)")
        else:
            failed.append(name)
            print(f"FAILED  {name} ({seconds:.1f} s): {type(error).__name__}")
            print(failure_report(current.get("index", "?"), current.get("cell", nbformat.v4.new_code_cell()), error))
        sys.stdout.flush()
    print(f"notebooks: {len(args.notebooks) - len(failed)} ran, {len(failed)} failed; executed copies in {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
