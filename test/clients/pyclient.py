"""Drives a jlab-mcp server through the Python MCP SDK's client, for test/e2e/clients.test.ts.

argv[1]: JSON {"command": ..., "args": [...], "env": {...}} to launch the server over stdio.
stdin: one JSON request per line, {"id": n, "tool": name, "arguments": {...}, "timeout": seconds}.
stdout: one JSON answer per line as each call ends (calls run concurrently, as a host's do):
{"id": n, "result": <CallToolResult as the SDK parsed it>} or {"id": n, "protocol_error": message}.
The first line is {"ready": true} once connected.
"""

import json
import sys

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters


def answer(value: dict) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


async def main() -> None:
    spec = json.loads(sys.argv[1])
    params = StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"])
    async with Client(params) as client:
        # Like an agent's host: the tool list first (a client that validates output needs the schemas).
        await client.list_tools()
        answer({"ready": True})

        async def call(request: dict) -> None:
            try:
                result = await client.call_tool(request["tool"], request.get("arguments") or {}, read_timeout_seconds=request.get("timeout", 120))
                answer({"id": request["id"], "result": result.model_dump(mode="json", by_alias=True, exclude_none=True)})
            except Exception as error:  # noqa: BLE001 - every failure is reported to the test, which decides
                answer({"id": request["id"], "protocol_error": f"{type(error).__name__}: {error}"})

        async with anyio.create_task_group() as calls:
            async for line in anyio.wrap_file(sys.stdin):
                if line.strip():
                    calls.start_soon(call, json.loads(line))


anyio.run(main)
