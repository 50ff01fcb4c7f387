# jlab-mcp: Jupyter server config that turns on TCP_NODELAY for websocket
# connections (kernel channels, terminals, events, ...).
#
# Use it with `jupyter-server --config=/path/to/nodelay_config.py`, or copy or
# exec it as `jupyter_server_config.py` in a Jupyter config directory. It does
# not change `c`; it only patches tornado at load time. Loading it twice is
# safe.
#
# Why: tornado turns Nagle back on for every HTTP connection once a response is
# finished (HTTP1Connection._finish_request -> stream.set_nodelay(False)). The
# websocket upgrade is such a response, so the websocket stream keeps Nagle on.
# Neither jupyter-server 1.x nor 2.x calls WebSocketHandler.set_nodelay(True).
# A kernel execute sends several small frames in a row (status busy,
# execute_input, result, execute_reply, status idle). Every frame after the
# first waits for the client's delayed ACK (~40 ms on Linux). With TCP_NODELAY
# on, a `1+1` round trip drops from ~45 ms to well under 10 ms.
#
# How: we wrap two tornado methods:
#   1. WebSocketHandler._detach_stream() (private, in tornado 6.0 through
#      6.5). tornado calls it right after the 101 handshake response is done,
#      and before handler.open(). We set nodelay on the IOStream it returns.
#      Nothing in tornado resets nodelay on a detached stream.
#   2. WebSocketHandler.write_message() (public). The first time it is called
#      on a handler, we call the public set_nodelay(True) once. This catches
#      tornado versions where (1) no longer applies. The first frame is never
#      held back by Nagle, so turning nodelay on at that point is early
#      enough.
# All jupyter-server websocket handlers subclass tornado's WebSocketHandler:
# 1.x ZMQChannelsHandler via base/zmqhandlers.py, and 2.x
# KernelWebsocketHandler in services/kernels/websocket.py, whose connection
# classes write through websocket_handler.write_message. None of them
# overrides these two methods. Any failure is logged at debug level and
# ignored: the server then runs exactly as it would without this file.


def _jlab_mcp_install_ws_nodelay():
    import functools
    import logging

    log = logging.getLogger("jlab_mcp.nodelay")
    try:
        from tornado.websocket import WebSocketHandler
    except Exception as e:  # pragma: no cover - tornado is always present
        log.debug("jlab-mcp nodelay: tornado.websocket unavailable: %r", e)
        return

    if getattr(WebSocketHandler, "_jlab_mcp_nodelay_installed", False):
        return

    def _set_stream_nodelay(stream):
        try:
            if stream is not None and hasattr(stream, "set_nodelay"):
                stream.set_nodelay(True)
        except Exception as e:
            log.debug("jlab-mcp nodelay: stream.set_nodelay failed: %r", e)

    # 1. Right after the handshake, before open().
    try:
        orig_detach = getattr(WebSocketHandler, "_detach_stream", None)
        if callable(orig_detach):

            @functools.wraps(orig_detach)
            def _detach_stream(self, *args, **kwargs):
                stream = orig_detach(self, *args, **kwargs)
                _set_stream_nodelay(stream)
                return stream

            WebSocketHandler._detach_stream = _detach_stream
    except Exception as e:
        log.debug("jlab-mcp nodelay: could not wrap _detach_stream: %r", e)

    # 2. Fallback through the public API, once per handler, on first write.
    try:
        orig_write_message = getattr(WebSocketHandler, "write_message", None)
        if callable(orig_write_message):

            @functools.wraps(orig_write_message)
            def write_message(self, *args, **kwargs):
                if not self.__dict__.get("_jlab_mcp_nodelay_done", False):
                    self.__dict__["_jlab_mcp_nodelay_done"] = True
                    try:
                        if getattr(self, "ws_connection", None) is not None:
                            self.set_nodelay(True)
                    except Exception as e:
                        log.debug("jlab-mcp nodelay: set_nodelay failed: %r", e)
                return orig_write_message(self, *args, **kwargs)

            WebSocketHandler.write_message = write_message
    except Exception as e:
        log.debug("jlab-mcp nodelay: could not wrap write_message: %r", e)

    try:
        WebSocketHandler._jlab_mcp_nodelay_installed = True
    except Exception:
        pass


try:
    _jlab_mcp_install_ws_nodelay()
except Exception:  # never let this file break server startup
    pass
