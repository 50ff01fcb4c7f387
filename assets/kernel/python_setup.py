# Run silently by jlab-mcp in every Python kernel it starts (and again after each restart).
# ipykernel gathers everything printed between two flushes (0.2 s) into one message, so a loop
# printing 50 MB becomes one 50 MB websocket frame, which costs the server and jlab-mcp several
# times that in memory at once. Flushing once 1 MB has piled up keeps each message near 1 MB
# and lets long outputs arrive as they are printed. Nothing else about printing changes.
def _jlab_mcp_chunk_streams(limit=1 << 20):
    try:
        from ipykernel.iostream import OutStream
    except Exception:
        return
    if getattr(OutStream, "_jlab_mcp_chunked", False):
        return
    original = OutStream.write

    def write(self, string):
        if not isinstance(string, str) or len(string) <= limit and self._buffer.tell() < limit:
            return original(self, string)
        for start in range(0, len(string) or 1, limit):
            original(self, string[start:start + limit])
            try:
                if self._buffer.tell() >= limit:
                    self.flush()
            except Exception:
                pass
        return len(string)

    OutStream.write = write
    OutStream._jlab_mcp_chunked = True


_jlab_mcp_chunk_streams()
del _jlab_mcp_chunk_streams
