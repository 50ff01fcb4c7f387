import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { call, errorOf, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { notebookSettled, readCells } from '../helpers/notebookFile.js';
import { TOOL_NAMES } from '../helpers/suggestedCalls.js';

/** Small, so that a few hundred lines of output are cut and take several resource pages. */
const BUDGET = 1500;

/** Every tool of ours returns a JSON object, and so must declare its shape. */
const STRUCTURED_TOOLS = TOOL_NAMES;

type Cell = { id: string; cell_type: string; source: string[] };

describe('cells addressed by id, results as data (built binary, real Jupyter, official client)', { timeout: 300_000 }, () => {
  let server: Spawned;
  const validators = new Map<string, ReturnType<Ajv2020['compile']>>();
  /** Tools whose structured result this test checked against the declared schema itself. */
  const checked = new Set<string>();

  before(async () => {
    server = await spawnServer({ JLAB_MCP_OUTPUT_BUDGET: String(BUDGET) });
  });
  after(async () => {
    await server?.close();
  });

  /** Calls a tool; a result that is not an error must match the outputSchema the tool declared (ajv, apart from the SDK's own check). */
  async function tool(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    const result = await call(server.client, name, args);
    const validate = validators.get(name);
    if (validate && !result.isError) {
      assert.ok(result.structuredContent, `${name} returned structured content`);
      assert.ok(validate(result.structuredContent), `${name}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(result.structuredContent)}`);
      checked.add(name);
    }
    return result;
  }

  const cellsOf = (file: string) => readCells<Cell>(file);
  const idsOf = async (file: string) => (await cellsOf(file)).map((cell) => cell.id);
  const errorCode = (result: ToolResult) => errorOf(result)?.code;
  /** How every result names a cell: `cell: {id, index}`. */
  const placeOf = (result: ToolResult) => (result.structuredContent?.cell ?? {}) as { id?: string | null; index?: number | null };

  let sid = '';
  let notebook = '';
  let first = '';
  let second = '';

  it('declares an outputSchema on every structured tool, id arguments on every cell tool, honest annotations', async () => {
    const { tools } = await server.client.listTools();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const name of STRUCTURED_TOOLS) {
      const found = tools.find((each) => each.name === name);
      assert.ok(found, name);
      assert.equal(found.outputSchema?.type, 'object', `${name} declares an object outputSchema`);
      validators.set(name, ajv.compile(found.outputSchema));
    }
    const props = (name: string) => Object.keys(tools.find((each) => each.name === name)!.inputSchema.properties ?? {});
    for (const name of ['edit_cell', 'run_cell', 'delete_cell', 'edit_markdown']) {
      assert.ok(props(name).includes('cell_id') && props(name).includes('cell_index'), name);
      assert.ok(!(tools.find((each) => each.name === name)!.inputSchema.required ?? []).includes('cell_index'), `${name}: cell_index is optional`);
    }
    for (const name of ['execute_code', 'add_markdown']) {
      for (const key of ['cell_index', 'before_cell_id', 'after_cell_id']) assert.ok(props(name).includes(key), `${name}.${key}`);
    }
    // Not read-only: listed without readOnlyHint, which the spec defaults to false.
    assert.notEqual(tools.find((each) => each.name === 'wait_for_cell')!.annotations?.readOnlyHint, true, 'wait_for_cell consumes results');
  });

  it('names the id and index of every cell it touches, in the data and in the footer line', async () => {
    const started = await tool('start_new_session', { experiment_name: 'ids' });
    sid = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
    const a = await tool('execute_code', { session_id: sid, code: 'a = 1\nprint("a is", a)' });
    first = String(placeOf(a).id);
    assert.match(first, /^[0-9a-f]{8}$/);
    assert.deepEqual(
      { index: placeOf(a).index, status: a.structuredContent?.status, count: a.structuredContent?.execution_count, truncated: a.structuredContent?.truncated },
      { index: 0, status: 'ok', count: 1, truncated: false },
    );
    assert.match(textOf(a), new RegExp(`^a is 1\\n\\[cell 0 \\(id ${first}\\) · In \\[1\\] · ok · `));
    assert.ok(!a.content.some((block) => block.type === 'resource_link'), 'no link when nothing was cut');
    const b = await tool('execute_code', { session_id: sid, code: 'b = 2' });
    second = String(placeOf(b).id);
    assert.notEqual(second, first);
    assert.deepEqual(await idsOf(notebook), [first, second]);
  });

  it('addresses a cell by id after an insert before it moved its index', async () => {
    const inserted = await tool('execute_code', { session_id: sid, code: 'z = 0', cell_index: 0 });
    assert.equal(placeOf(inserted).index, 0);
    // The agent's old index for the first cell (0) now names the inserted one; its id still names it.
    const edited = await tool('edit_cell', { session_id: sid, cell_id: first, code: 'a = 10\nprint("a is", a)' });
    assert.equal(edited.isError, undefined, textOf(edited));
    assert.deepEqual([placeOf(edited).id, placeOf(edited).index], [first, 1]);
    assert.match(textOf(edited), new RegExp(`^a is 10\\n\\[cell 1 \\(id ${first}\\)`));
    const cells = await cellsOf(notebook);
    assert.deepEqual(
      cells.map((cell) => cell.source.join('')),
      ['z = 0', 'a = 10\nprint("a is", a)', 'b = 2'],
    );
    const rerun = await tool('run_cell', { session_id: sid, cell_id: second });
    assert.deepEqual([placeOf(rerun).id, placeOf(rerun).index], [second, 2]);

    const after = await tool('execute_code', { session_id: sid, code: 'c = a + b', after_cell_id: first });
    assert.equal(placeOf(after).index, 2);
    const before = await tool('add_markdown', { session_id: sid, markdown: '# before a', before_cell_id: first });
    assert.deepEqual([placeOf(before).index, typeof placeOf(before).id], [1, 'string']);
    const mdId = String(placeOf(before).id);
    const md = await tool('edit_markdown', { session_id: sid, cell_id: mdId, markdown: '# Before a' });
    assert.deepEqual([placeOf(md).id, placeOf(md).index], [mdId, 1]);
    const deleted = await tool('delete_cell', { session_id: sid, cell_id: String(placeOf(inserted).id) });
    assert.deepEqual([placeOf(deleted).index, deleted.structuredContent?.deleted_source], [0, 'z = 0']);
    assert.deepEqual(
      (await cellsOf(notebook)).map((cell) => [cell.id, cell.source.join('')]),
      [
        [mdId, '# Before a'],
        [first, 'a = 10\nprint("a is", a)'],
        [String(placeOf(after).id), 'c = a + b'],
        [second, 'b = 2'],
      ],
    );
  });

  it('refuses two names for one cell, none, or an id nobody has — and runs nothing', async () => {
    await notebookSettled(notebook);
    const before = await readFile(notebook, 'utf8');
    const both = await tool('edit_cell', { session_id: sid, cell_id: first, cell_index: 0, code: 'print("must not run")' });
    assert.equal(both.isError, true);
    assert.match(textOf(both), /INVALID_ARGUMENT[\s\S]*exactly one/i);
    const none = await tool('run_cell', { session_id: sid });
    assert.equal(errorCode(none), 'INVALID_ARGUMENT');
    assert.match(textOf(none), /cell_id or cell_index/);
    const twoPlaces = await tool('execute_code', { session_id: sid, code: 'print("must not run")', cell_index: 0, after_cell_id: first });
    assert.equal(errorCode(twoPlaces), 'INVALID_ARGUMENT');
    // A typo of a real id: the error lists it among the ids alike, with its index.
    const typo = `${first.slice(0, 6)}zz`;
    const unknown = await tool('delete_cell', { session_id: sid, cell_id: typo });
    assert.equal(unknown.isError, true);
    assert.equal(errorCode(unknown), 'CELL_NOT_FOUND');
    assert.match(textOf(unknown), new RegExp(`No cell has the id "${typo}"[\\s\\S]*Next step:[\\s\\S]*similar ids: ${first} \\(cell 1, code\\)`, 'i'));
    for (const [name, args] of [
      ['edit_cell', { cell_id: 'nope', code: 'print("must not run")' }],
      ['execute_code', { before_cell_id: 'nope', code: 'print("must not run")' }],
      ['add_markdown', { after_cell_id: 'nope', markdown: 'must not land' }],
      ['edit_markdown', { cell_id: first, markdown: 'must not land' }],
    ] as const) {
      const result = await tool(name, { session_id: sid, ...args });
      assert.equal(result.isError, true, name);
      assert.match(errorCode(result) ?? '', /^(CELL_NOT_FOUND|NOT_A_MARKDOWN_CELL)$/, name);
    }
    const malformed = await tool('run_cell', { session_id: sid, cell_id: 'has space' });
    assert.equal(malformed.isError, true);
    assert.match(textOf(malformed), /cell id is 1-64 letters/);
    assert.equal(await readFile(notebook, 'utf8'), before, 'the notebook is unchanged');
  });

  it('links a cut reply to the cell-output resource, which pages through the whole output', async () => {
    const code = 'for i in range(300):\n    print(f"line {i:04d} " + "x" * 30)';
    const expected = Array.from({ length: 300 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(30)}\n`).join('');
    const result = await tool('execute_code', { session_id: sid, code });
    const data = result.structuredContent!;
    assert.equal(data.truncated, true);
    const uri = `jlab-mcp://sessions/${sid}/cells/${String((data.cell as { id: string }).id)}/output`;
    assert.equal(data.output_uri, uri);
    const link = result.content.find((block) => block.type === 'resource_link') as { uri?: string; mimeType?: string } | undefined;
    assert.equal(link?.uri, uri);
    assert.equal(link?.mimeType, 'text/plain');
    assert.match(textOf(result), new RegExp(`left out; the full output is in cell 4 of the notebook and page by page in the resource ${uri}`));

    let next: string | null = uri;
    let whole = '';
    let pages = 0;
    while (next) {
      const read = await server.client.readResource({ uri: next });
      const content = read.contents[0] as { text: string; _meta?: Record<string, { offset: number; next_offset: number | null; total_chars: number }> };
      const page = content._meta!['jlab-mcp/page']!;
      assert.equal(page.total_chars, expected.length);
      assert.equal(page.offset, whole.length);
      const size = (page.next_offset ?? page.total_chars) - page.offset;
      assert.ok(size <= BUDGET, 'a page is at most one output budget');
      whole += content.text.slice(0, size);
      if (page.next_offset !== null) assert.ok(content.text.endsWith(`next page: ${uri}?offset=${page.next_offset}]`), content.text.slice(-200));
      next = page.next_offset === null ? null : `${uri}?offset=${page.next_offset}`;
      pages++;
    }
    assert.equal(whole, expected);
    assert.ok(pages >= Math.ceil(expected.length / BUDGET), `${pages} pages`);

    await assert.rejects(server.client.readResource({ uri: `${uri}?offset=abc` }), /INVALID_ARGUMENT[\s\S]*whole number/);
    await assert.rejects(server.client.readResource({ uri: `${uri}?offset=${expected.length + 1}` }), /past the end/);
    await assert.rejects(server.client.readResource({ uri: `jlab-mcp://sessions/${sid}/cells/nope/output` }), /CELL_NOT_FOUND/);
    await assert.rejects(server.client.readResource({ uri: `jlab-mcp://sessions/${sid}/cells/%E0%A4/output` }), /INVALID_ARGUMENT[\s\S]*percent-encoding/);
    const templates = (await server.client.listResourceTemplates()).resourceTemplates.map((each) => each.uriTemplate);
    assert.ok(templates.includes('jlab-mcp://sessions/{session_id}/cells/{cell_id}/output{?offset}'), templates.join(', '));
  });

  it('returns structured results for a backgrounded cell and the other tools, each valid against its schema', async () => {
    const started = await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(1.5)\nprint("woke")', timeout: 0 });
    assert.match(String(started.structuredContent?.status), /^(running|queued)$/);
    const waited = await tool('wait_for_cell', { session_id: sid, timeout: 30 });
    const cells = waited.structuredContent?.cells as Array<{ status: string; cell: { id: string; index: number } }>;
    assert.equal(cells.at(-1)?.status, 'ok');
    assert.equal(cells.at(-1)?.cell.index, 5);
    assert.match(textOf(waited), new RegExp(`woke\\n[\\s\\S]*\\[cell 5 \\(id ${cells.at(-1)?.cell.id}\\)`));
    const idle = await tool('wait_for_cell', { session_id: sid });
    assert.deepEqual(idle.structuredContent?.cells, []);
    const failing = await tool('execute_code', { session_id: sid, code: 'raise ValueError("bad value")' });
    assert.deepEqual([failing.structuredContent?.status, failing.structuredContent?.error], ['error', { ename: 'ValueError', evalue: 'bad value' }]);
    await tool('interrupt_kernel', { session_id: sid });
    await tool('inspect_variables', { session_id: sid });
    await tool('kernel_resources', { session_id: sid });
    await tool('list_sessions');
    await tool('list_kernels');
    await tool('list_notebooks');
    const read = await tool('read_notebook', { session_id: sid, start: -2 });
    assert.deepEqual(
      (read.structuredContent?.cells as Array<{ index: number }>).map((cell) => cell.index),
      [5, 6],
    );
    await tool('read_notebook', { notebook_path: path.basename(notebook), limit: 1 });
    await tool('restart_kernel', { session_id: sid });
  });

  it('reports a queued cell whose anchor was deleted before its turn, once, to wait_for_cell — and adds no cell', async () => {
    const started = await tool('start_new_session', { experiment_name: 'anchor gone' });
    const own = String(started.structuredContent?.session_id);
    const file = String(started.structuredContent?.notebook_path);
    const anchor = String(placeOf(await tool('add_markdown', { session_id: own, markdown: '# anchor' })).id);
    await tool('execute_code', { session_id: own, code: 'import time\ntime.sleep(2)', timeout: 0 });
    const queued = await tool('execute_code', { session_id: own, code: 'print("must not land")', after_cell_id: anchor, timeout: 0 });
    assert.equal(queued.structuredContent?.status, 'queued', textOf(queued));
    assert.equal((await tool('delete_cell', { session_id: own, cell_id: anchor })).isError, undefined);
    const seen: Array<{ status: string; notes: string[] }> = [];
    for (let look = 0; look < 3 && !seen.some((cell) => cell.status === 'not_run'); look++) {
      const waited = await tool('wait_for_cell', { session_id: own, timeout: 30 });
      seen.push(...(waited.structuredContent?.cells as typeof seen));
    }
    assert.deepEqual(
      seen.map((cell) => cell.status),
      ['ok', 'not_run'],
    );
    assert.match(seen[1]!.notes.join('\n'), new RegExp(`CELL_NOT_FOUND[\\s\\S]*${anchor}`));
    assert.deepEqual((await tool('wait_for_cell', { session_id: own })).structuredContent?.cells, [], 'told once');
    await tool('shutdown_session', { session_id: own });
    assert.ok(!(await cellsOf(file)).some((cell) => cell.source.join('').includes('must not land')), 'no half-made cell');
  });

  it('keeps every id across resume and continue', async () => {
    const ids = await idsOf(notebook);
    await tool('shutdown_session', { session_id: sid });
    const resumed = await tool('start_session_resume_notebook', { experiment_name: 'ids again', notebook_path: notebook });
    assert.equal(resumed.isError, undefined, textOf(resumed));
    const rid = String(resumed.structuredContent?.session_id);
    assert.deepEqual(await idsOf(notebook), ids);
    // An id from before the resume names the same cell in the resumed session.
    const rerun = await tool('run_cell', { session_id: rid, cell_id: first });
    assert.deepEqual([placeOf(rerun).index, rerun.structuredContent?.status], [1, 'ok']);
    assert.match(textOf(rerun), /^a is 10\n/);
    await tool('shutdown_session', { session_id: rid });

    const forked = await tool('start_session_continue_notebook', { experiment_name: 'ids fork', notebook_path: notebook });
    const fid = String(forked.structuredContent?.session_id);
    const forkPath = String(forked.structuredContent?.notebook_path);
    assert.deepEqual(await idsOf(forkPath), ids, 'the fork keeps the ids');
    const inFork = await tool('edit_cell', { session_id: fid, cell_id: second, code: 'b = 20\nprint(b)' });
    assert.deepEqual([placeOf(inFork).id, placeOf(inFork).index], [second, 3]);
    assert.deepEqual(await idsOf(notebook), ids);
    await tool('shutdown_session', { session_id: fid });
    await validateWithPython([notebook, forkPath]);
  });

  it('gives a notebook without ids its ids once, on the first save, and keeps them from then on', async () => {
    const file = path.join(server.notebookDir, 'no_ids.ipynb');
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null });
    await writeFile(file, JSON.stringify({ nbformat: 4, nbformat_minor: 4, metadata: {}, cells: [cell('x = 1'), cell('print(x)')] }));
    const resumed = await tool('start_session_resume_notebook', { experiment_name: 'no ids', notebook_path: file });
    assert.equal(resumed.isError, undefined, textOf(resumed));
    const ids = await idsOf(file);
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}$/);
    await tool('shutdown_session', { session_id: String(resumed.structuredContent?.session_id) });
    const again = await tool('start_session_resume_notebook', { experiment_name: 'no ids again', notebook_path: file });
    assert.deepEqual(await idsOf(file), ids);
    const rerun = await tool('run_cell', { session_id: String(again.structuredContent?.session_id), cell_id: ids[1] });
    assert.match(textOf(rerun), /^1\n/);
    await tool('shutdown_session', { session_id: String(again.structuredContent?.session_id) });
  });

  it('checked the structured result of every structured tool against its schema', () => {
    assert.deepEqual(
      STRUCTURED_TOOLS.filter((name) => !checked.has(name)),
      [],
    );
  });
});
