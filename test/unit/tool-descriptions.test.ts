// Tool descriptions state the defaults the server really uses: read from the settings, not hard-coded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startInProcessServer } from '../helpers/serverHandles.js';

async function argumentDescriptions(env: Record<string, string>): Promise<Map<string, Record<string, string>>> {
  const server = await startInProcessServer(env);
  try {
    const { tools } = await server.client.listTools();
    return new Map(
      tools.map((tool) => [
        tool.name,
        Object.fromEntries(
          Object.entries((tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>).map(([name, schema]) => [
            name,
            schema.description ?? '',
          ]),
        ),
      ]),
    );
  } finally {
    await server.close();
  }
}

describe('tool descriptions', () => {
  it('name the timeout defaults of the settings in force', async () => {
    const custom = await argumentDescriptions({ JLAB_MCP_EXEC_TIMEOUT: '7', JLAB_MCP_RESUME_CELL_TIMEOUT: '123' });
    for (const tool of ['execute_code', 'edit_cell', 'run_cell', 'wait_for_cell', 'start_session_resume_notebook']) {
      assert.match(custom.get(tool)!.timeout!, /Default: 7 s \(the server setting JLAB_MCP_EXEC_TIMEOUT\)/, tool);
    }
    assert.match(custom.get('start_session_resume_notebook')!.cell_timeout!, /Default: 123 s \(the server setting JLAB_MCP_RESUME_CELL_TIMEOUT\)/);
    const defaults = await argumentDescriptions({});
    assert.doesNotMatch(defaults.get('execute_code')!.timeout!, /Default: 7 s/);
  });

  it('say whether cell_index names an existing cell or an insert position', async () => {
    const tools = await argumentDescriptions({});
    for (const tool of ['execute_code', 'add_markdown']) assert.match(tools.get(tool)!.cell_index!, /insert position, not an existing cell/, tool);
    for (const tool of ['edit_cell', 'run_cell', 'delete_cell', 'edit_markdown'])
      assert.match(tools.get(tool)!.cell_index!, /^The existing cell at this position/, tool);
  });
});
