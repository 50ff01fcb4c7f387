import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { missingBuildReason } from '../helpers/mcpClient.js';
import { clientPython, clientV1, clientV2, missingPythonClientReason, type ClientUnderTest, type Outcome } from '../helpers/threeClients.js';

/*
 * The seed's flow and every error path, through the three MCP clients people run, against the
 * built binary over stdio. Each error must reach the test as a result (isError, our code and
 * next step), never as a protocol error: the TypeScript SDK 1.x client turns a result whose
 * structuredContent does not match the tool's outputSchema into "MCP error -32602", even on errors.
 */

const skip = missingBuildReason();

type Result = Extract<Outcome, { kind: 'result' }>;

function resultOf(outcome: Outcome, what: string): Result {
  assert.equal(outcome.kind, 'result', `${what}: a protocol error instead of a result: ${outcome.kind === 'protocol_error' ? outcome.message : ''}`);
  return outcome as Result;
}

function ok(outcome: Outcome, what: string): Record<string, unknown> {
  const result = resultOf(outcome, what);
  assert.notEqual(result.isError, true, `${what}: ${result.text.slice(0, 800)}`);
  assert.ok(result.structured, `${what}: no structured content`);
  return result.structured;
}

/** An error result with our code, message and next step in its text. */
function refused(outcome: Outcome, code: string, what: string): Result {
  const result = resultOf(outcome, what);
  assert.equal(result.isError, true, `${what}: expected an error, got: ${result.text.slice(0, 500)}`);
  assert.match(result.text, new RegExp(`^Error \\[${code}\\]: `), `${what}: ${result.text}`);
  assert.match(result.text, /\nNext step: \S/, `${what}: no next step in ${result.text}`);
  // The machine-readable error rides in _meta, which no client validates against the outputSchema.
  assert.equal((result.meta?.['jlab-mcp/error'] as { code?: string } | undefined)?.code, code, `${what}: _meta`);
  return result;
}

const makers: Array<[string, () => Promise<ClientUnderTest>, string | false]> = [
  ['typescript-sdk-1.x', () => clientV1(), false],
  ['typescript-sdk-2.x', () => clientV2(), false],
  ['python-sdk', () => clientPython(), missingPythonClientReason()],
];

for (const [name, make, missing] of makers) {
  describe(`three clients: ${name}`, { skip: skip || missing }, () => {
    let client: ClientUnderTest;
    let sid = '';
    let notebook = '';

    before(async () => {
      client = await make();
    });
    after(async () => {
      await client?.close();
    });

    it("runs the seed's flow: start, execute, edit, markdown, shutdown, resume and continue without experiment_name", async () => {
      const started = ok(await client.call('start_new_session', { experiment_name: 'three clients' }, 180_000), 'start_new_session');
      sid = String(started.session_id);
      notebook = String(started.notebook_path);
      assert.equal(started.kernel_name, 'python3');
      const ran = ok(await client.call('execute_code', { session_id: sid, code: 'x = 6 * 7\nprint(x)' }), 'execute_code');
      assert.deepEqual(ran.cell, { id: (ran.cell as { id: string }).id, index: 0 });
      assert.equal(ran.status, 'ok');
      const edited = ok(await client.call('edit_cell', { session_id: sid, cell_index: 0, code: 'x = 7 * 6\nprint(x + 1)' }), 'edit_cell');
      assert.deepEqual(edited.cell, ran.cell, 'the edited cell keeps its id and place');
      const markdown = ok(await client.call('add_markdown', { session_id: sid, markdown: '# notes' }), 'add_markdown');
      assert.equal((markdown.cell as { index: number }).index, 1);
      ok(await client.call('shutdown_session', { session_id: sid }), 'shutdown_session');

      const resumed = ok(await client.call('start_session_resume_notebook', { notebook_path: notebook }, 180_000), 'resume without experiment_name');
      assert.equal(resumed.experiment_name, path.basename(notebook, '.ipynb'), 'the default name is the notebook stem');
      assert.equal((resumed.replay as { status: string }).status, 'done');
      ok(await client.call('shutdown_session', { session_id: String(resumed.session_id) }), 'shutdown after resume');
      const continued = ok(await client.call('start_session_continue_notebook', { notebook_path: notebook }, 180_000), 'continue without experiment_name');
      assert.equal(continued.experiment_name, path.basename(notebook, '.ipynb'));
      sid = String(continued.session_id);
    });

    it('answers every error path of every tool as a result with the code and the next step', async () => {
      assert.ok(sid, 'the flow above opened a session');
      await writeFile(path.join(client.notebookDir, 'not-a-notebook.ipynb'), 'this is not JSON');
      const unknown = 'feedc0de';
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['start_new_session', { experiment_name: 'bad kernel', kernel_name: 'no-such-kernel' }, 'KERNEL_START_FAILED'],
        ['start_session_resume_notebook', { notebook_path: 'missing.ipynb' }, 'NOTEBOOK_NOT_FOUND'],
        ['start_session_resume_notebook', { notebook_path: '/etc/passwd' }, 'PATH_OUTSIDE_NOTEBOOK_DIR'],
        ['start_session_resume_notebook', { notebook_path: 'not-a-notebook.ipynb' }, 'NOTEBOOK_INVALID'],
        ['start_session_continue_notebook', { notebook_path: '../outside.ipynb' }, 'PATH_OUTSIDE_NOTEBOOK_DIR'],
        ['execute_code', { session_id: unknown, code: '1' }, 'UNKNOWN_SESSION'],
        ['execute_code', { session_id: sid, code: '1', cell_index: 99 }, 'CELL_INDEX_OUT_OF_RANGE'],
        ['edit_cell', { session_id: sid, cell_index: 99, code: '1' }, 'CELL_INDEX_OUT_OF_RANGE'],
        ['edit_cell', { session_id: sid, cell_id: 'nosuchcell', code: '1' }, 'CELL_NOT_FOUND'],
        ['edit_cell', { session_id: sid, cell_index: 1, code: '1' }, 'NOT_A_CODE_CELL'],
        ['edit_cell', { session_id: sid, cell_index: 0, cell_id: 'abc', code: '1' }, 'INVALID_ARGUMENT'],
        ['run_cell', { session_id: sid, cell_id: 'nosuchcell' }, 'CELL_NOT_FOUND'],
        ['run_cell', { session_id: sid, cell_index: -1 }, 'NOT_A_CODE_CELL'],
        ['wait_for_cell', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['interrupt_kernel', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['restart_kernel', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['delete_cell', { session_id: sid, cell_index: 99 }, 'CELL_INDEX_OUT_OF_RANGE'],
        ['add_markdown', { session_id: sid, markdown: 'x', cell_index: 99 }, 'CELL_INDEX_OUT_OF_RANGE'],
        ['add_markdown', { session_id: sid, markdown: 'x', cell_index: 0, after_cell_id: 'abc' }, 'INVALID_ARGUMENT'],
        ['edit_markdown', { session_id: sid, cell_index: 0, markdown: 'x' }, 'NOT_A_MARKDOWN_CELL'],
        ['shutdown_session', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['inspect_variables', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['kernel_resources', { session_id: unknown }, 'UNKNOWN_SESSION'],
        ['list_notebooks', { path: '../..' }, 'PATH_OUTSIDE_NOTEBOOK_DIR'],
        ['read_notebook', {}, 'INVALID_ARGUMENT'],
        ['read_notebook', { notebook_path: 'missing.ipynb' }, 'NOTEBOOK_NOT_FOUND'],
      ];
      for (const [tool, args, code] of cases) refused(await client.call(tool, args, 120_000), code, `${tool}(${JSON.stringify(args)})`);
    });

    it('answers SHUTTING_DOWN, not UNKNOWN_SESSION, to a call made while its session shuts down', async () => {
      const [down, during] = await Promise.all([
        client.call('shutdown_session', { session_id: sid }),
        client.call('execute_code', { session_id: sid, code: '1' }),
      ]);
      ok(down, 'shutdown_session');
      refused(during, 'SHUTTING_DOWN', 'execute_code during the shutdown');
      refused(await client.call('execute_code', { session_id: sid, code: '1' }), 'UNKNOWN_SESSION', 'execute_code after the shutdown');
    });
  });
}
