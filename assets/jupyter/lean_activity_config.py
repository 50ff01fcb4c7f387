# jlab-mcp: Jupyter server config that makes the server's kernel activity watcher cheap. Loaded
# like nodelay_config.py; it does not change `c`, and loading it twice is safe.
#
# Why: for every kernel, jupyter-server keeps a second IOPub subscription of its own
# (MappingKernelManager.start_watching_activity) that reads every message the kernel publishes,
# to keep `last_activity` and `execution_state` (the REST kernel model, idle culling). Each
# message is verified (HMAC), unpacked with its header dates parsed, adapted to the protocol
# version, and logged at debug level; status messages twice. That work runs while the kernel
# itself is executing, on the same cores: measured on two cores, `1+1` cells took ~0.2 ms
# longer with it (the server's CPU per cell 1.45 ms against 1.25 ms without it).
#
# How:
#   1. The watcher builds its private Session inside start_watching_activity; for the time of
#      that call the module's Session is a subclass whose deserialize only unpacks the JSON
#      frames. The watcher reads msg_type, the parent's msg_type and execution_state, nothing
#      else; skipping the signature check drops nothing it relies on: it reads the kernel's own
#      PUB socket, and the kernel websocket (v1 protocol) forwards those same messages to
#      clients without checking them either. Every other Session is untouched, and so is
#      everything the watcher does with the message (each jupyter-server version its own way).
#   2. The server's logger builds a debug record for every message and its handlers drop it:
#      traitlets sets the logger to DEBUG and filters at the handler. The logger now says it
#      is enabled for a level only when one of its handlers would take it (a server started
#      with --debug logs exactly as before).
# Anything unexpected (another jupyter-server layout, frames that are not bytes) takes the
# original path.


def _jlab_mcp_install_lean_activity():
    import json
    import logging

    from jupyter_server.services.kernels import kernelmanager

    manager_class = getattr(kernelmanager, "MappingKernelManager", None)
    session_class = getattr(kernelmanager, "Session", None)
    original = getattr(manager_class, "start_watching_activity", None)
    if session_class is None or original is None or getattr(original, "_jlab_mcp_lean", False):
        return

    class WatcherSession(session_class):
        def deserialize(self, msg_list, content=True, copy=True):
            if not copy or len(msg_list) < 5 or not all(isinstance(frame, bytes) for frame in msg_list[1:5]):
                return super().deserialize(msg_list, content=content, copy=copy)
            header = json.loads(msg_list[1])
            return {
                "header": header,
                "msg_id": header.get("msg_id"),
                "msg_type": header.get("msg_type"),
                "parent_header": json.loads(msg_list[2]),
                "metadata": json.loads(msg_list[3]),
                "content": json.loads(msg_list[4]) if content else msg_list[4],
                "buffers": [memoryview(frame) for frame in msg_list[5:]],
            }

    def handlers_take(logger, level):
        # What Logger.callHandlers would reach; a logger with no handler anywhere is left as it is.
        current, found = logger, False
        while current is not None:
            for handler in current.handlers:
                found = True
                if level >= handler.level:
                    return True
            if not current.propagate:
                break
            current = current.parent
        return not found

    def quiet_debug(logger):
        if not isinstance(logger, logging.Logger) or "isEnabledFor" in logger.__dict__:
            return

        def isEnabledFor(level, _logger=logger):
            return logging.Logger.isEnabledFor(_logger, level) and handlers_take(_logger, level)

        logger.isEnabledFor = isEnabledFor

    def start_watching_activity(self, kernel_id):
        try:
            quiet_debug(self.log)
        except Exception:
            pass
        kernelmanager.Session = WatcherSession
        try:
            return original(self, kernel_id)
        finally:
            kernelmanager.Session = session_class

    start_watching_activity._jlab_mcp_lean = True
    start_watching_activity.__doc__ = original.__doc__
    manager_class.start_watching_activity = start_watching_activity


try:
    _jlab_mcp_install_lean_activity()
except Exception:  # never let this file break server startup
    pass
