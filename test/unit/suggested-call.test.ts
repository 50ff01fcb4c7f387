import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suggestedCall } from '../../src/mcp/suggestedCall.js';
import { suggestedCallsIn } from '../helpers/suggestedCalls.js';

describe('suggestedCall: every suggestion is a call that reads back as written', () => {
  const paths = [
    '/nb/plain.ipynb',
    '/nb/with "quotes".ipynb',
    'C:\\nb\\back\\slash.ipynb',
    '/nb/two\nlines.ipynb',
    '/nb/café 実験 😀.ipynb',
    "/nb/it's).ipynb",
  ];
  for (const notebook of paths) {
    it(`round-trips ${JSON.stringify(notebook)}`, () => {
      const text = `Its notebook is intact. Start again with ${suggestedCall('start_session_resume_notebook', { notebook_path: notebook })} to re-run it.`;
      assert.deepEqual(
        suggestedCallsIn(text).map(({ tool, args }) => ({ tool, args })),
        [{ tool: 'start_session_resume_notebook', args: { notebook_path: notebook } }],
      );
    });
  }

  it('writes booleans and numbers as literals, leaves undefined out, and keeps the order', () => {
    assert.equal(suggestedCall('interrupt_kernel', { session_id: 'ab12', force: true, timeout: undefined }), 'interrupt_kernel(session_id="ab12", force=true)');
    assert.equal(suggestedCall('list_sessions'), 'list_sessions()');
    const text = `Call ${suggestedCall('wait_for_cell', { session_id: 's1', timeout: 2.5 })} for the rest, or ${suggestedCall('interrupt_kernel', { session_id: 's1' })} to stop it.`;
    assert.deepEqual(
      suggestedCallsIn(text).map(({ tool, args }) => [tool, args]),
      [
        ['wait_for_cell', { session_id: 's1', timeout: 2.5 }],
        ['interrupt_kernel', { session_id: 's1' }],
      ],
    );
  });

  it('refuses a tool name followed by something that is not a call (the old hand-written form with a placeholder)', () => {
    assert.throws(() => suggestedCallsIn('go on with start_session_resume_notebook(notebook_path=…) on a new job'), /not a valid call/);
    assert.deepEqual(suggestedCallsIn('interrupt_kernel stops it; list_sessions shows it'), [], 'a bare tool name is no call');
  });
});

describe('no suggested call is written by hand', () => {
  it('src has no `tool(` in a string outside suggestedCall (the settings help, read by people in the docs, aside)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const { TOOL_NAMES } = await import('../helpers/suggestedCalls.js');
    const root = path.join(import.meta.dirname, '..', '..', 'src');
    const handWritten = new RegExp(`\\b(?:${TOOL_NAMES.join('|')})\\(`);
    const found: string[] = [];
    for (const entry of await readdir(root, { recursive: true })) {
      const file = String(entry);
      if (!file.endsWith('.ts') || file === path.join('mcp', 'suggestedCall.ts') || file === path.join('config', 'settings.ts')) continue;
      const lines = (await readFile(path.join(root, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (handWritten.test(line)) found.push(`src/${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, [], 'write these with suggestedCall()');
  });
});
