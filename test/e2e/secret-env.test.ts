// Kernels inherit their Jupyter server's environment: none of the variables that hold a token
// jlab-mcp was given may reach it (a cell could print them, or a package read them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf } from '../helpers/mcpClient.js';

describe('tokens stay out of the kernel environment', () => {
  it("JLAB_MCP_HTTP_TOKEN, JLAB_MCP_JUPYTER_TOKEN and JUPYTER_TOKEN given to jlab-mcp are not in a local kernel's os.environ", async () => {
    const secrets = { JLAB_MCP_HTTP_TOKEN: 'h'.repeat(40), JLAB_MCP_JUPYTER_TOKEN: 'j'.repeat(40), JUPYTER_TOKEN: 'k'.repeat(40) };
    const server = await spawnServer({ ...secrets, JLAB_MCP_RUN_MODE: 'local' });
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'env' });
      assert.ok(!started.isError, textOf(started));
      const sid = String(started.structuredContent?.session_id);
      const names = Object.keys(secrets).join('", "');
      const cell = await call(server.client, 'execute_code', {
        session_id: sid,
        code: `import os\nprint(sorted(n for n in ["${names}"] if n in os.environ), "PATH" in os.environ)`,
      });
      assert.match(textOf(cell), /^\[\] True\n/, textOf(cell));
    } finally {
      await server.close();
    }
  });
});
