// The README's Tools table lists every tool with every argument its input schema takes, and
// no tool the server does not register.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { startInProcessServer } from '../helpers/serverHandles.js';

describe('README tools table', () => {
  it('names every tool and each of its arguments (optional ones with ?)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    // `name(a, b?)` in the first column of a table row; one row may hold two tools.
    const documented = new Map<string, string[]>();
    for (const row of readme.split('\n').filter((line) => line.startsWith('| `'))) {
      for (const [, name, args] of row.split(' | ')[0]!.matchAll(/`(\w+)\(([^)]*)\)`/g)) {
        // `a \| b` is "exactly one of": each alternative is an optional argument of the schema.
        const listed = args!.split(',').flatMap((part) => {
          const alternatives = part
            .split('\\|')
            .map((a) => a.trim())
            .filter(Boolean);
          return alternatives.length > 1 ? alternatives.map((a) => `${a.replace(/\?$/, '')}?`) : alternatives;
        });
        documented.set(name!, listed);
      }
    }
    const server = await startInProcessServer();
    try {
      const { tools } = await server.client.listTools();
      assert.ok(tools.length > 10);
      const problems: string[] = [];
      for (const tool of tools) {
        const args = documented.get(tool.name);
        if (!args) {
          problems.push(`${tool.name}: no row`);
          continue;
        }
        const required = new Set(tool.inputSchema.required ?? []);
        const want = Object.keys(tool.inputSchema.properties ?? {}).map((arg) => (required.has(arg) ? arg : `${arg}?`));
        const missing = want.filter((arg) => !args.includes(arg));
        const extra = args.filter((arg) => !want.includes(arg));
        if (missing.length || extra.length) problems.push(`${tool.name}: README lacks [${missing.join(', ')}], has unknown [${extra.join(', ')}]`);
      }
      const registered = new Set(tools.map((tool) => tool.name));
      for (const name of documented.keys()) if (!registered.has(name)) problems.push(`${name}: a README row for a tool the server does not register`);
      assert.deepEqual(problems, []);
    } finally {
      await server.close();
    }
  });
});
