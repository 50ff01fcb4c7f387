#!/usr/bin/python3
"""P3 helper: what `jupyter-execute NOTEBOOK` does (nbclient's NotebookClient, same
arguments as nbclient.cli.NbClientApp.run_notebook), with its phases timed.

Usage: /usr/bin/python3 bench/nbclient_phases.py NOTEBOOK
stdout: one JSON object, milliseconds:
    {"setup_ms": kernel start + client + kernel_info reply,
     "cells_ms": executing every cell, "shutdown_ms": kernel shutdown, "cells": n}
The process's own start (interpreter, imports) is what the caller's wall time adds.
The kernel is always shut down (nbclient's async_setup_kernel context).
"""

import asyncio
import json
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient


async def run(path):
    with open(path) as f:
        nb = nbformat.read(f, as_version=4)
    client = NotebookClient(nb, resources={"metadata": {"path": pathlib.Path(path).parent.absolute()}})
    t0 = time.perf_counter()
    async with client.async_setup_kernel():
        info = await client.async_wait_for_reply(client.kc.kernel_info())
        if info is None:
            raise RuntimeError("no kernel_info reply")
        t1 = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    return {
        "setup_ms": round((t1 - t0) * 1000, 3),
        "cells_ms": round((t2 - t1) * 1000, 3),
        "shutdown_ms": round((t3 - t2) * 1000, 3),
        "cells": len(nb.cells),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.stdout.write(json.dumps(asyncio.run(run(sys.argv[1]))) + "\n")
