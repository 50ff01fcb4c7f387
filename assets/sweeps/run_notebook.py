"""Runs one run of a jlab-mcp sweep: its notebook, in place, with nbclient's Python API.

Written by jlab-mcp into <experiment>/.slurm/ and started by each task of the sweep's array job
(one `sbatch --array`). Task k runs entry k of the attempt's tasks file. Before the notebook's
cells, the record helper runs silently (not recorded). After every cell the notebook is written
atomically (temp file + rename), so a task killed by `scancel` or the walltime keeps the cells
that ran. Beside the notebook, `.run-NNNN.status.json` ({state, startedAt, endedAt, node, error,
cellReached, attempt, jobId, taskId}) is written atomically at the start, after each cell and at
the end. The first error stops the run; a cell past --cell-timeout ends it `timeout`.

Slurm sends USR1 to this process (the batch shell, by exec) shortly before the walltime, then
SIGTERM; SIGTERM alone is a cancel. Either way the notebook is saved and the status says which
cell was reached. Exit code: 0 completed, 1 otherwise, 2 bad arguments.
"""

import argparse
import datetime
import json
import os
import signal
import socket
import sys
import tempfile


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_atomic(path, text):
    """Readers see the old file or the new one, never half of one; an existing file keeps its mode."""
    directory = os.path.dirname(path) or "."
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def first_line(text):
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""


def status_path_of(notebook):
    directory, name = os.path.split(notebook)
    stem = name[:-6] if name.endswith(".ipynb") else name
    return os.path.join(directory, "." + stem + ".status.json")


class Run:
    """The run's notebook and status; every save is whole and atomic."""

    def __init__(self, notebook, attempt, job_id, task_id):
        import nbformat

        self.nbformat = nbformat
        self.notebook = notebook
        self.status_file = status_path_of(notebook)
        self.nb = nbformat.read(notebook, as_version=4)
        self.status = {
            "state": "running",
            "startedAt": now(),
            "node": socket.gethostname(),
            "attempt": attempt,
            "jobId": job_id,
            "taskId": task_id,
        }

    def save_notebook(self):
        write_atomic(self.notebook, self.nbformat.writes(self.nb))

    def save_status(self, **fields):
        self.status.update({k: v for k, v in fields.items() if v is not None})
        write_atomic(self.status_file, json.dumps(self.status) + "\n")

    def end(self, state, error=None):
        try:
            self.save_notebook()
        finally:
            self.save_status(state=state, error=error, endedAt=now())


class Stopped(BaseException):
    """SIGTERM arrived (scancel, or the walltime after USR1)."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", required=True, help="JSON array; entry k is task k's run {index, notebook}")
    parser.add_argument("--task-id", required=True, type=int)
    parser.add_argument("--helper", help="Python run silently before the first cell (the record helper)")
    parser.add_argument("--attempt", type=int, default=1)
    parser.add_argument("--job-id", default="")
    parser.add_argument("--cwd", help="the kernel's working directory")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell; past it the run ends `timeout`")
    parser.add_argument("--kernel", help="kernel name; default the notebook's kernelspec")
    args = parser.parse_args()

    with open(args.tasks, encoding="utf-8") as f:
        tasks = json.load(f)
    if not (0 <= args.task_id < len(tasks)):
        print(f"task {args.task_id} is not in {args.tasks} ({len(tasks)} entries)", file=sys.stderr)
        return 2
    notebook = tasks[args.task_id]["notebook"]

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    run = Run(notebook, args.attempt, args.job_id, args.task_id)
    walltime_near = {"seen": False}
    progress = {"cell": None}

    def on_usr1(signum, frame):
        walltime_near["seen"] = True

    def on_term(signum, frame):
        # Saved here, before the kernel's shutdown can use up Slurm's KillWait (then SIGKILL).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cell = progress["cell"]
        where = "before the first cell" if cell is None else f"in cell {cell}"
        if walltime_near["seen"]:
            run.end("timeout", f"walltime reached {where}")
        else:
            run.end("cancelled", f"cancelled {where}")
        raise Stopped()

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)

    # Outputs of an earlier attempt must not stand beside this one's.
    for cell in run.nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    run.save_notebook()
    run.save_status()

    kwargs = {"resources": {"metadata": {"path": args.cwd or os.path.dirname(notebook)}}}
    if args.kernel:
        kwargs["kernel_name"] = args.kernel
    if args.cell_timeout:
        kwargs["timeout"] = int(args.cell_timeout) if args.cell_timeout >= 1 else 1
    client = NotebookClient(run.nb, **kwargs)
    reached = None
    try:
        client.reset_execution_trackers()
        with client.setup_kernel():
            info = client.wait_for_reply(client.kc.kernel_info())
            if info and "language_info" in info.get("content", {}):
                run.nb.metadata["language_info"] = info["content"]["language_info"]
            if args.helper:
                with open(args.helper, encoding="utf-8") as f:
                    helper = f.read()
                reply = client.wait_for_reply(client.kc.execute(helper, silent=True, store_history=False))
                if reply and reply.get("content", {}).get("status") == "error":
                    content = reply["content"]
                    run.end("failed", f"the record helper failed: {content.get('ename')}: {first_line(content.get('evalue', ''))}")
                    return 1
            for index, cell in enumerate(run.nb.cells):
                reached = progress["cell"] = index
                run.save_status(cellReached=index)
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                run.save_notebook()
        run.end("completed")
        return 0
    except Stopped:
        return 1
    except CellTimeoutError:
        run.end("timeout", f"cell {reached} exceeded {kwargs.get('timeout')} s")
        return 1
    except CellExecutionError as error:
        run.end("failed", first_line(f"{error.ename}: {error.evalue}"))
        return 1
    except DeadKernelError:
        run.end("failed", "kernel died" + ("" if reached is None else f" in cell {reached}"))
        return 1
    except Exception as error:  # the kernel did not start, the notebook could not be written, ...
        where = "" if reached is None else f" in cell {reached}"
        run.end("failed", first_line(f"{type(error).__name__}{where}: {error}"))
        return 1


if __name__ == "__main__":
    sys.exit(main())
