# Run silently by jlab-mcp (after python_setup.py) with `_jlab_mcp_spool_path = <JSON string>` in
# front. Every iopub message of a cell that runs longer than a second is appended, one JSON line
# each, to that file (0600, next to the notebook), started over for each such cell; a quicker
# cell never touches it. If jlab-mcp restarts while a cell runs, the next jlab-mcp reads what the
# cell printed while nobody was attached.
# Idempotent: run again (after a restart, or with a new path) it only changes the path.
def _jlab_mcp_spool(path, limit=64 << 20):
    import json
    import os
    import threading
    import time

    try:
        from ipykernel.kernelbase import Kernel
    except Exception:
        return
    if not Kernel.initialized():
        return
    session = Kernel.instance().session
    state = getattr(session, "_jlab_mcp_spool", None)
    if state is not None:
        state["path"] = path
        return
    state = {"path": path, "parent": None, "file": None, "size": 0, "pending": [], "started": 0.0, "done": False, "lock": threading.Lock()}
    kinds = {"execute_input", "stream", "display_data", "update_display_data", "execute_result", "error", "clear_output", "status"}
    original = session.send
    # A cell that ends within this many seconds never touches the file: only a cell still running
    # then can be left running by a jlab-mcp that goes away (its registry records it after ~1 s).
    quiet = 1.0
    try:
        io_loop = Kernel.instance().iopub_thread.io_loop
    except Exception:
        io_loop = None

    def line(msg, kind, parent):
        return json.dumps(
            {"header": {"msg_id": msg["header"]["msg_id"], "msg_type": kind}, "parent_header": {"msg_id": parent}, "content": msg.get("content", {})},
            default=str,
        )

    def open_and_drain(parent):
        # Called with the lock held: the file now holds the cell's messages so far.
        if state["parent"] != parent:
            return
        if state["file"] is None:
            fd = os.open(state["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            state["file"] = os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass")
        for msg, kind in state["pending"]:
            text = line(msg, kind, parent)
            if state["size"] > limit and kind in ("stream", "display_data", "update_display_data"):
                continue
            state["file"].write(text + "\n")
            state["size"] += len(text)
        state["pending"] = []
        state["file"].flush()

    def drain_if_long():
        # On the IOPub thread, four times a second: a cell still running `quiet` seconds after it
        # started gets its file, even if it prints nothing more. One periodic check for the whole
        # kernel: a timer per cell, set from the shell thread, cost every quick cell ~0.3 ms.
        with state["lock"]:
            if state["file"] is None and not state["done"] and state["pending"] and time.monotonic() - state["started"] >= quiet:
                open_and_drain(state["parent"])

    def record(msg):
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if kind not in kinds:
            return
        parent = (msg.get("parent_header") or {}).get("msg_id")
        with state["lock"]:
            if kind == "execute_input":
                # A new cell: the file is started over once the cell has run for `quiet` seconds.
                if state["file"] is not None:
                    state["file"].close()
                    state["file"] = None
                state["parent"] = parent
                state["size"] = 0
                state["pending"] = []
                state["started"] = time.monotonic()
                state["done"] = False
            if parent != state["parent"] or state["parent"] is None:
                return
            state["pending"].append((msg, kind))
            if state["file"] is not None or time.monotonic() - state["started"] >= quiet:
                open_and_drain(parent)
            if kind == "status" and msg.get("content", {}).get("execution_state") == "idle":
                # Ended: a cell that ended within `quiet` never gets a file.
                state["done"] = True

    def send(stream, msg_or_type, *args, **kwargs):
        msg = original(stream, msg_or_type, *args, **kwargs)
        try:
            if isinstance(msg, dict) and state["path"]:
                record(msg)
        except Exception:
            pass
        return msg

    session.send = send
    session._jlab_mcp_spool = state
    if io_loop is not None:

        def start_checks():
            # Made and started on the IOPub thread's own loop; add_callback is the thread-safe way in.
            from tornado.ioloop import PeriodicCallback

            state["checks"] = PeriodicCallback(drain_if_long, quiet * 250)
            state["checks"].start()

        try:
            io_loop.add_callback(start_checks)
        except Exception:
            pass  # another kind of loop: a long cell's file then starts with its next message


_jlab_mcp_spool(globals().pop("_jlab_mcp_spool_path", None))
del _jlab_mcp_spool
