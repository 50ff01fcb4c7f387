# Run silently by jlab-mcp (after python_setup.py) with `_jlab_mcp_spool_path = <JSON string>` in
# front. Every iopub message of the cell being run is appended, one JSON line each, to that file
# (0600, next to the notebook), which is emptied when the next cell starts. If jlab-mcp restarts
# while a cell runs, the next jlab-mcp reads what the cell printed while nobody was attached.
# Idempotent: run again (after a restart, or with a new path) it only changes the path.
def _jlab_mcp_spool(path, limit=64 << 20):
    import json
    import os
    import threading

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
    state = {"path": path, "parent": None, "file": None, "size": 0, "lock": threading.Lock()}
    kinds = {"execute_input", "stream", "display_data", "update_display_data", "execute_result", "error", "clear_output", "status"}
    original = session.send

    def record(msg):
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if kind not in kinds:
            return
        parent = (msg.get("parent_header") or {}).get("msg_id")
        with state["lock"]:
            if kind == "execute_input":
                # A new cell: start the file over.
                if state["file"] is not None:
                    state["file"].close()
                fd = os.open(state["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                state["file"] = os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass")
                state["parent"] = parent
                state["size"] = 0
            if state["file"] is None or parent != state["parent"]:
                return
            if state["size"] > limit and kind in ("stream", "display_data", "update_display_data"):
                return
            line = json.dumps(
                {"header": {"msg_id": msg["header"]["msg_id"], "msg_type": kind}, "parent_header": {"msg_id": parent}, "content": msg.get("content", {})},
                default=str,
            )
            state["file"].write(line + "\n")
            state["file"].flush()
            state["size"] += len(line)

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


_jlab_mcp_spool(globals().pop("_jlab_mcp_spool_path", None))
del _jlab_mcp_spool
