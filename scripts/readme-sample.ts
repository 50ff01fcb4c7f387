// Writes the README's sample exchange from a real run: the built binary over stdio, a real
// Jupyter (set up by jlab-mcp itself when missing), the official client. What goes into the
// README is the text content the agent reads, so the sample cannot drift from the server.
// Run after `npm run build`: node --import tsx scripts/readme-sample.ts
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { call, REPO, spawnServer, textOf } from '../test/helpers/mcpClient.js';

const BEGIN = '<!-- sample exchange: written by scripts/readme-sample.ts -->';
const END = '<!-- end of sample exchange -->';
const CODE = "x = 6 * 7\nprint('x is', x)\nx";

const server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'info' });
try {
  const started = await call(server.client, 'start_new_session', { experiment_name: 'demo' }, 600_000);
  if (started.isError) throw new Error(`start_new_session failed: ${textOf(started)}`);
  const sessionId = String(started.structuredContent?.session_id ?? /session_id: (\S+)/.exec(textOf(started))?.[1]);
  const ran = await call(server.client, 'execute_code', { session_id: sessionId, code: CODE });
  await call(server.client, 'shutdown_session', { session_id: sessionId });
  // Paths of this run's temporary directory read better as the default ./notebooks.
  const tidy = (text: string) => text.replaceAll(server.notebookDir, './notebooks');
  const block = [
    BEGIN,
    '```text',
    '→ start_new_session(experiment_name="demo")',
    ...tidy(textOf(started))
      .split('\n')
      .map((line) => `  ${line}`),
    '',
    `→ execute_code(session_id="${sessionId}", code=${JSON.stringify(CODE)})`,
    ...tidy(textOf(ran))
      .split('\n')
      .map((line) => `  ${line}`),
    '```',
    END,
  ].join('\n');
  const readmePath = path.join(REPO, 'README.md');
  const readme = await readFile(readmePath, 'utf8');
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no "${BEGIN}" … "${END}" block`);
  await writeFile(readmePath, readme.slice(0, from) + block + readme.slice(to + END.length));
  process.stderr.write(`${block}\n`);
} finally {
  await server.close();
  await rm(server.notebookDir, { recursive: true, force: true });
}
