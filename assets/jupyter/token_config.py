# Written into a 0600 config file by jlab-mcp and loaded by jupyter-server via --config.
# The token travels in a 0600 file whose path is in JLAB_MCP_TOKEN_FILE, never in argv, and the
# variable is removed from the server's environment so kernels (and anything they print) never
# see it.
import os as _jlab_os

_jlab_token_file = _jlab_os.environ.pop("JLAB_MCP_TOKEN_FILE", None)
_jlab_os.environ.pop("JUPYTER_TOKEN", None)
if _jlab_token_file:
    with open(_jlab_token_file) as _jlab_f:
        _jlab_token = _jlab_f.read().strip()
    c.ServerApp.token = _jlab_token  # noqa: F821 (c is provided by the config loader)
    c.IdentityProvider.token = _jlab_token  # noqa: F821 (jupyter-server >= 2 reads it here)
