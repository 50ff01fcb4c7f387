# jlab-mcp records every output and bounds what it keeps itself (JLAB_MCP_NOTEBOOK_OUTPUT_LIMIT),
# so the server's IOPub rate limit would only drop output silently ("IOPub data rate
# exceeded"). 0 turns it off.
c.ServerApp.iopub_data_rate_limit = 0  # noqa: F821
c.ServerApp.iopub_msg_rate_limit = 0  # noqa: F821
