// What tools/list costs the agent every turn: the tools array as the client receives it, in
// characters of JSON, for the full list and the core profile (JLAB_MCP_TOOLS). Issue 19's budgets.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it, type TestContext } from 'node:test';
import type { Tool } from '@modelcontextprotocol/client';
import { CORE_TOOLS } from '../../src/mcp/tools/toolProfile.js';
import { startInProcessServer } from '../helpers/serverHandles.js';

const BUDGET = { all: 20_000, core: 8_000 };

const chars = (value: unknown) => (value === undefined ? 0 : JSON.stringify(value).length);

async function listedTools(env: Record<string, string>): Promise<Tool[]> {
  const server = await startInProcessServer(env);
  try {
    return (await server.client.listTools()).tools;
  } finally {
    await server.close();
  }
}

/** Prints the total and, per tool, its description, input schema, output schema and the rest (name, title, annotations). */
function report(t: TestContext, profile: string, tools: Tool[]): number {
  const total = chars(tools);
  t.diagnostic(`tools/list for ${profile}: ${total} characters, ${tools.length} tools`);
  for (const tool of tools) {
    const { description, inputSchema, outputSchema, ...rest } = tool;
    t.diagnostic(
      `  ${tool.name.padEnd(32)} ${String(chars(tool)).padStart(5)}  description ${chars(description)}  input ${chars(inputSchema)}  output ${chars(outputSchema)}  rest ${chars(rest)}`,
    );
  }
  return total;
}

describe('tools/list size', () => {
  it(`fits in ${BUDGET.all} characters for all tools and ${BUDGET.core} for core`, async (t) => {
    const all = await listedTools({});
    const core = await listedTools({ JLAB_MCP_TOOLS: 'core' });
    const allChars = report(t, 'all', all);
    const coreChars = report(t, 'core', core);
    assert.deepEqual(core.map((tool) => tool.name).sort(), [...CORE_TOOLS].sort(), 'core lists exactly the core tools');
    assert.ok(all.length > core.length);
    assert.ok(allChars <= BUDGET.all, `all: ${allChars} characters, budget ${BUDGET.all}`);
    assert.ok(coreChars <= BUDGET.core, `core: ${coreChars} characters, budget ${BUDGET.core}`);
    // The README states the figures: a change of the tools is a change of that line too.
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const line = `tools/list: ${allChars.toLocaleString('en-US')} characters for all, ${coreChars.toLocaleString('en-US')} for core;`;
    assert.ok(readme.includes(line), `README.md should say: ${line}`);
  });
});
