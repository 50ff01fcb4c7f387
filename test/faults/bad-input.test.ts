import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { notebookSettled, readNotebook as readNotebookFile } from '../helpers/notebookFile.js';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { call, errorOf, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { ProcessTree } from '../helpers/processTree.js';
import { validateWithPython } from '../helpers/validateNotebook.js';

/*
 * The bad-input battery, through the built binary and the official MCP client: malformed
 * notebooks, odd paths and names, hostile code, bad indices and timeouts. Every row asserts the
 * exact outcome (an isError result with its code and a message naming the problem, or the right
 * result), that a refused call left its notebook byte-for-byte as it was, and that nothing
 * appeared or changed outside the notebook directory. One server serves the whole file.
 */

const TAG = '[bad-input]';
const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);

let server: Spawned;
let tree: ProcessTree;
/** The temp dir that holds the notebook dir and the files "outside" it. */
let parent = '';
/** The notebook directory (real path, as the server reports paths). */
let dir = '';

// ---------------------------------------------------------------------------------------------
// helpers

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Every entry under `root` (skipping `skip`), with a content hash for files and the target for links. */
async function listTree(root: string, skip?: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const name of (await readdir(at)).sort()) {
      const full = path.join(at, name);
      if (full === skip) continue;
      const info = await lstat(full);
      const key = path.relative(root, full);
      if (info.isSymbolicLink()) out[key] = `-> ${await readlink(full)}`;
      else if (info.isDirectory()) {
        out[key] = 'dir';
        await walk(full);
      } else out[key] = info.size > 1_000_000 ? `${info.size}@${info.mtimeMs}` : sha(await readFile(full));
    }
  };
  await walk(root);
  return out;
}

/** Names this file's rows use; one of them in the temp root would be a file that escaped two levels up. */
const ESCAPE_MARKERS =
  /^(?:escape|outside|elsewhere|inner|runs|launch|café|実験|日|a_b|notebook|old-4|unknown-outputs|big|many|résumé|code|indices|timeouts|my notebooks)/;

/** What lies outside the notebook dir that a bad call could touch: the parent dir, the temp root, /etc/passwd. */
async function outsideState(): Promise<unknown> {
  // Other test files share the temp root, so only names our rows could produce are compared there.
  const tmpRoot = (await readdir(os.tmpdir())).filter((name) => ESCAPE_MARKERS.test(name)).sort();
  return { parent: await listTree(parent, dir), tmpRoot, passwd: sha(await readFile('/etc/passwd')) };
}

/** The JlabError code of an isError result (undefined for the SDK's own input-validation errors). */
function codeOf(result: ToolResult): string | undefined {
  return errorOf(result)?.code;
}

/** An isError result with this code (or `validation`: refused by the tool's input schema) whose text matches. */
function assertRefused(result: ToolResult, code: string, message: RegExp): void {
  const text = textOf(result);
  assert.equal(result.isError, true, `expected a refusal, got: ${text.slice(0, 500)}`);
  if (code === 'validation') assert.match(text, /^Input validation error: /, text);
  else assert.equal(codeOf(result), code, text);
  assert.match(text, message);
}

function sessionOf(result: ToolResult): { sid: string; notebook: string } {
  assert.notEqual(result.isError, true, textOf(result).slice(0, 1000));
  const content = result.structuredContent!;
  return { sid: String(content.session_id), notebook: String(content.notebook_path) };
}

async function shutdown(sid: string): Promise<void> {
  const result = await call(server.client, 'shutdown_session', { session_id: sid }, 60_000);
  assert.notEqual(result.isError, true, textOf(result));
}

async function openSessions(): Promise<number> {
  const result = await call(server.client, 'list_sessions');
  return (result.structuredContent?.sessions as unknown[]).length;
}

const resume = (notebookPath: string, timeout = 90) =>
  call(server.client, 'start_session_resume_notebook', { experiment_name: 'bad-input', notebook_path: notebookPath, timeout }, (timeout + 60) * 1000);
const continueFrom = (notebookPath: string) =>
  call(server.client, 'start_session_continue_notebook', { experiment_name: 'bad-input', notebook_path: notebookPath }, 150_000);
const execute = (sid: string, code: string, timeout = 30) => call(server.client, 'execute_code', { session_id: sid, code, timeout }, (timeout + 60) * 1000);

/** A finished cell's footer line, `[cell N (id a1b2c3d4) · In [k] · ok · …]`. */
const FOOTER = /\[cell \d+ \(id \w+\) · In \[[^\]]*\] · /;

/** The notebook as jlab-mcp opens it (file and journal): what the agent was shown. */
function readNotebook(
  file: string,
): Promise<{ nbformat: number; nbformat_minor: number; metadata: Record<string, unknown>; cells: Array<Record<string, unknown>> }> {
  return readNotebookFile(file);
}

/** nbformat.validate after dropping outputs of types nbformat does not know (they are kept on purpose). */
async function validateIgnoringUnknownOutputs(file: string): Promise<void> {
  const script = [
    'import sys, nbformat',
    'nb = nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT)',
    'known = {"stream", "display_data", "execute_result", "error"}',
    'for c in nb.cells:',
    '    if "outputs" in c: c.outputs = [o for o in c.outputs if o.get("output_type") in known]',
    'nbformat.validate(nb)',
    'print("ok")',
  ].join('\n');
  const { stdout } = await run(PYTHON, ['-c', script, file]);
  assert.equal(stdout.trim(), 'ok');
}

const KERNELSPEC = { name: 'python3', display_name: 'Python 3', language: 'python' };
const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

function notebookText(content: unknown): string {
  return `${JSON.stringify(content, null, 1)}\n`;
}

// ---------------------------------------------------------------------------------------------
// the tables

/** Files resume and continue must both refuse, leaving the file and the directory as they were. */
const refusedNotebooks: Array<{ title: string; file: string; content: string | Buffer; code: string; message: RegExp; hint?: RegExp }> = [
  {
    title: 'not JSON',
    file: 'not-json.ipynb',
    content: 'this is { not json',
    code: 'NOTEBOOK_INVALID',
    message: /not-json\.ipynb as a notebook: it is not JSON/,
  },
  { title: 'an empty file', file: 'empty.ipynb', content: '', code: 'NOTEBOOK_INVALID', message: /the file is empty/ },
  {
    title: 'bytes that are not UTF-8',
    file: 'latin1.ipynb',
    content: Buffer.from('{"nbformat": 4, "cells": [], "x": "caf\xe9"}', 'latin1'),
    code: 'NOTEBOOK_INVALID',
    message: /not UTF-8 text/,
  },
  { title: 'JSON but an array', file: 'array.ipynb', content: '[1, 2, 3]', code: 'NOTEBOOK_INVALID', message: /it is a JSON array, not a notebook object/ },
  {
    title: 'JSON object without cells',
    file: 'object.ipynb',
    content: '{"hello": "world"}',
    code: 'NOTEBOOK_INVALID',
    message: /without nbformat and cells, not a Jupyter notebook/,
  },
  {
    title: 'nbformat 3 (worksheets)',
    file: 'v3.ipynb',
    content: notebookText({
      nbformat: 3,
      nbformat_minor: 0,
      metadata: { name: 'v3' },
      worksheets: [{ cells: [{ cell_type: 'code', input: 'x = 1', language: 'python', outputs: [], prompt_number: 1 }], metadata: {} }],
    }),
    code: 'NOTEBOOK_INVALID',
    message: /it is an nbformat 3 notebook, and only nbformat 4 is supported/,
    hint: /Next step: Convert it first: jupyter nbconvert --to notebook --nbformat 4 \S*v3\.ipynb/,
  },
  {
    title: 'nbformat 5 (from the future)',
    file: 'v5.ipynb',
    content: '{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}',
    code: 'NOTEBOOK_INVALID',
    message: /nbformat 5 notebook, newer than/,
  },
  {
    title: 'a cell whose source is a number (would be lost on save)',
    file: 'bad-source.ipynb',
    content: notebookText({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: 'code', id: 'a', metadata: {}, source: 42, outputs: [], execution_count: null }],
    }),
    code: 'NOTEBOOK_INVALID',
    message: /cell 0 has a source that is neither a string nor a list of strings/,
  },
  {
    title: 'an unknown cell_type',
    file: 'bad-type.ipynb',
    content: notebookText({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'heading', id: 'a', metadata: {}, source: '# h', level: 1 }] }),
    code: 'NOTEBOOK_INVALID',
    message: /cell 0 has cell_type "heading" \(expected code, markdown or raw\)/,
  },
];

/** Paths resume and continue must both refuse; `setup` makes what the path points at. */
const refusedPaths: Array<{ title: string; path: () => Promise<string>; code: string; message: RegExp }> = [
  { title: 'a missing path', path: async () => 'nope.ipynb', code: 'NOTEBOOK_NOT_FOUND', message: /Notebook not found: nope\.ipynb \(no such file\)/ },
  {
    title: 'a directory',
    path: async () => {
      await mkdir(path.join(dir, 'a dir.ipynb'), { recursive: true });
      return 'a dir.ipynb';
    },
    code: 'NOTEBOOK_NOT_FOUND',
    message: /Not a notebook file: a dir\.ipynb is a directory/,
  },
  {
    title: '../outside.ipynb (an existing notebook outside)',
    path: async () => '../outside.ipynb',
    code: 'PATH_OUTSIDE_NOTEBOOK_DIR',
    message: /Refused: \.\.\/outside\.ipynb is outside the notebook directory/,
  },
  {
    title: '../missing.ipynb (outside, missing: no probing)',
    path: async () => '../missing.ipynb',
    code: 'PATH_OUTSIDE_NOTEBOOK_DIR',
    message: /outside the notebook directory/,
  },
  {
    title: 'absolute /etc/passwd',
    path: async () => '/etc/passwd',
    code: 'PATH_OUTSIDE_NOTEBOOK_DIR',
    message: /Refused: \/etc\/passwd is outside the notebook directory/,
  },
  {
    title: 'a symlink inside that leads outside',
    path: async () => {
      await symlink(path.join(parent, 'outside.ipynb'), path.join(dir, 'escape.ipynb')).catch(() => {});
      return 'escape.ipynb';
    },
    code: 'PATH_OUTSIDE_NOTEBOOK_DIR',
    message: /Refused: escape\.ipynb is outside/,
  },
  {
    title: 'a symlinked directory that leads outside',
    path: async () => {
      await symlink(path.join(parent, 'elsewhere'), path.join(dir, 'elsewhere-link')).catch(() => {});
      return 'elsewhere-link/inner.ipynb';
    },
    code: 'PATH_OUTSIDE_NOTEBOOK_DIR',
    message: /Refused: elsewhere-link\/inner\.ipynb is outside/,
  },
  { title: 'an empty path', path: async () => '', code: 'validation', message: /notebook_path/ },
  { title: 'a path with a NUL byte', path: async () => 'a\0b.ipynb', code: 'INVALID_ARGUMENT', message: /notebook_path is empty or contains a NUL byte/ },
];

/** Experiment names: a stem (the file must be `<stem>.ipynb` or `<stem>-N.ipynb` in the dir) or a refusal. */
const names: Array<{ title: string; name: string; stem?: string; refused?: RegExp }> = [
  { title: 'slashes', name: 'runs/2024/exp', stem: 'runs_2024_exp' },
  { title: '.. segments', name: '../../escape/..', stem: 'escape' },
  { title: 'only dots', name: '....', stem: 'notebook' },
  { title: 'é (kept, NFC)', name: 'cafe\u0301 au lait', stem: 'café_au_lait' },
  { title: '日本 (kept)', name: '実験 日本', stem: '実験_日本' },
  { title: 'emoji (dropped)', name: '🚀 launch 🎉', stem: 'launch' },
  { title: 'NUL inside', name: 'a\0b', stem: 'a_b' },
  { title: '200 CJK characters (600 bytes: cut to 200 bytes)', name: '日'.repeat(200), stem: '日'.repeat(66) },
  { title: '300 characters', name: 'x'.repeat(300), refused: /experiment_name: Too big/ },
  { title: 'the empty string', name: '', refused: /experiment_name: Too small/ },
];

// ---------------------------------------------------------------------------------------------

describe(`${TAG} malformed input through the built binary`, () => {
  before(async () => {
    parent = await realpath(await mkdtemp(path.join(os.tmpdir(), 'jlab-bad-')));
    dir = path.join(parent, 'notebooks');
    await mkdir(dir);
    await mkdir(path.join(parent, 'elsewhere'));
    await writeFile(path.join(parent, 'outside.ipynb'), notebookText({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
    await writeFile(path.join(parent, 'elsewhere', 'inner.ipynb'), notebookText({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
    server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'warn' }, dir);
    tree = new ProcessTree([server.pid()!]);
  });

  after(async () => {
    await server?.close();
    const left = (await tree?.waitAllGone(30_000)) ?? [];
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    await rm(parent, { recursive: true, force: true });
    assert.deepEqual(left, [], 'jlab-mcp, Jupyter and every kernel ended with the client');
  });

  /** One table row: the body, then "nothing outside changed", with the server's stderr on failure. */
  function row(title: string, body: () => Promise<void>): void {
    it(`${TAG} ${title}`, async () => {
      const outside = await outsideState();
      try {
        await body();
        assert.deepEqual(await outsideState(), outside, 'nothing outside the notebook directory changed');
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- jlab-mcp stderr (tail) ---\n${server.stderr().slice(-2000)}`, { cause: error });
      }
    });
  }

  // --- notebooks resume/continue must refuse --------------------------------------------------

  for (const bad of refusedNotebooks) {
    row(`resume/continue of ${bad.title} → ${bad.code}, file untouched`, async () => {
      const file = path.join(dir, bad.file);
      await writeFile(file, bad.content);
      const bytes = await readFile(file);
      const listing = await listTree(dir);
      const sessions = await openSessions();
      for (const result of [await resume(bad.file), await continueFrom(file)]) {
        assertRefused(result, bad.code, bad.message);
        if (bad.hint) assert.match(textOf(result), bad.hint);
      }
      assert.deepEqual(await readFile(file), bytes, 'the refused notebook is byte-for-byte unchanged');
      assert.deepEqual(await listTree(dir), listing, 'no file appeared in the notebook directory');
      assert.equal(await openSessions(), sessions, 'no session was left open');
    });
  }

  for (const bad of refusedPaths) {
    row(`resume/continue of ${bad.title} → ${bad.code}`, async () => {
      const given = await bad.path();
      const listing = await listTree(dir);
      for (const result of [await resume(given), await continueFrom(given)]) assertRefused(result, bad.code, bad.message);
      assert.deepEqual(await listTree(dir), listing, 'no file appeared in the notebook directory');
    });
  }

  // --- notebooks resume/continue must accept --------------------------------------------------

  row('nbformat 4.0–4.4 without cell ids → continue and resume work; ids added; written as valid 4.5', async () => {
    const old = (minor: number) => ({
      nbformat: 4,
      nbformat_minor: minor,
      metadata: { kernelspec: KERNELSPEC, custom: { minor } },
      cells: [
        { cell_type: 'markdown', metadata: {}, source: ['# old\n', `4.${minor}`] },
        {
          cell_type: 'code',
          metadata: { tags: ['t'] },
          source: ['x = 40 + 2\n', 'print(x)'],
          outputs: [{ output_type: 'stream', name: 'stdout', text: ['42\n'] }],
          execution_count: 1,
        },
        { cell_type: 'raw', metadata: {}, source: ['raw'] },
      ],
    });
    const written: string[] = [];
    for (const minor of [0, 1, 2, 3, 4]) {
      const file = path.join(dir, `old-4.${minor}.ipynb`);
      await writeFile(file, notebookText(old(minor)));
      const bytes = await readFile(file);
      const { sid, notebook } = sessionOf(await continueFrom(file));
      await shutdown(sid);
      assert.equal(notebook, path.join(dir, `old-4.${minor}_continued.ipynb`));
      assert.deepEqual(await readFile(file), bytes, 'continue never changes the original');
      const copy = await readNotebook(notebook);
      assert.equal(copy.nbformat_minor, 5);
      assert.deepEqual(copy.metadata.custom, { minor });
      assert.deepEqual(
        copy.cells.map((c) => [c.cell_type, c.source, c.outputs]),
        old(minor).cells.map((c) => [c.cell_type, c.source, (c as { outputs?: unknown }).outputs]),
      );
      const ids = copy.cells.map((c) => String(c.id));
      assert.equal(new Set(ids).size, 3);
      for (const id of ids) assert.match(id, /^[a-zA-Z0-9-_]{1,64}$/);
      written.push(notebook);
    }
    const file = path.join(dir, 'old-4.0.ipynb');
    const resumed = await resume(file);
    const { sid } = sessionOf(resumed);
    assert.equal(resumed.structuredContent?.cells_run, 1);
    assert.equal(resumed.structuredContent?.restored_with_errors, null);
    assert.match(textOf(await execute(sid, 'print(x + 1)')), /^43\n/, 'the replay restored the kernel state');
    await shutdown(sid);
    const nb = await readNotebook(file);
    assert.equal(nb.nbformat_minor, 5);
    const outputs = nb.cells[1]!.outputs as Array<{ output_type: string; name?: string; text?: string | string[] }>;
    assert.deepEqual(
      outputs.map((o) => [o.output_type, o.name, [o.text].flat().join('')]),
      [['stream', 'stdout', '42\n']],
      'the re-run recorded its output',
    );
    written.push(file);
    await validateWithPython(written);
  });

  row('unknown output types and attachments → kept through continue; resume keeps attachments; valid', async () => {
    const unknownOutput = { output_type: 'jlab_future_output', payload: { a: [1, 2] }, metadata: { why: 'from a newer Jupyter' } };
    const oddMime = { output_type: 'display_data', data: { 'application/x-made-up+json': { deep: [1, { x: null }] }, 'text/plain': ['odd'] }, metadata: {} };
    const original = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: KERNELSPEC, x_custom: { keep: true } },
      cells: [
        {
          cell_type: 'markdown',
          id: 'md-1',
          metadata: { x_cell: 1 },
          source: ['![dot](attachment:dot.png)'],
          attachments: { 'dot.png': { 'image/png': PNG_1PX } },
        },
        { cell_type: 'code', id: 'code-1', metadata: {}, source: ['y = 7'], outputs: [unknownOutput, oddMime], execution_count: 3 },
        { cell_type: 'raw', id: 'raw-1', metadata: {}, source: ['raw'], attachments: { 'a.txt': { 'text/plain': 'aGk=' } } },
      ],
    };
    const file = path.join(dir, 'unknown-outputs.ipynb');
    await writeFile(file, notebookText(original));
    const bytes = await readFile(file);
    const { sid, notebook } = sessionOf(await continueFrom(file));
    await shutdown(sid);
    assert.deepEqual(await readFile(file), bytes, 'continue never changes the original');
    const copy = await readNotebook(notebook);
    assert.deepEqual(copy.cells, original.cells, 'cells, attachments and unknown outputs round-trip exactly');
    assert.deepEqual(copy.metadata.x_custom, { keep: true });
    await validateIgnoringUnknownOutputs(notebook);

    const resumed = await resume('unknown-outputs.ipynb');
    await shutdown(sessionOf(resumed).sid);
    assert.equal(resumed.structuredContent?.cells_run, 1);
    const nb = await readNotebook(file);
    assert.deepEqual(nb.cells[0], original.cells[0]);
    assert.deepEqual(nb.cells[2], original.cells[2]);
    assert.deepEqual(nb.cells[1]!.outputs, [], 'the re-run replaced the outputs of the code cell');
    await validateWithPython([file]);
  });

  row('a 50 MB notebook (one 50 MB output) → continue copies it whole; resume works', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `${String(i).padStart(5, '0')}${'y'.repeat(9994)}\n`);
    const big = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: KERNELSPEC },
      cells: [
        { cell_type: 'markdown', id: 'm', metadata: {}, source: ['# big'] },
        { cell_type: 'code', id: 'c', metadata: {}, source: ['z = 1'], outputs: [{ output_type: 'stream', name: 'stdout', text: lines }], execution_count: 1 },
      ],
    };
    const file = path.join(dir, 'big.ipynb');
    await writeFile(file, notebookText(big));
    const bytes = await readFile(file);
    assert.ok(bytes.length > 50_000_000, `${bytes.length} bytes`);
    const { sid, notebook } = sessionOf(await continueFrom(file));
    await shutdown(sid);
    assert.equal(sha(await readFile(file)), sha(bytes), 'continue never changes the original');
    const copy = await readNotebook(notebook);
    const text = (copy.cells[1]!.outputs as Array<{ text: string[] }>)[0]!.text;
    assert.equal(sha(text.join('')), sha(lines.join('')), 'the 50 MB output is copied whole');
    await validateWithPython([notebook]);

    const resumed = await resume('big.ipynb', 120);
    const { sid: resumedSid } = sessionOf(resumed);
    assert.equal(resumed.structuredContent?.cells_run, 1);
    assert.match(textOf(await execute(resumedSid, 'print(z)')), /^1\n/);
    await shutdown(resumedSid);
    await validateWithPython([file]);
  });

  row('20,000 `pass` cells without ids (4.4) → continue works and the session runs on; resume answers', async () => {
    const many = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: KERNELSPEC },
      cells: Array.from({ length: 20_000 }, () => ({ cell_type: 'code', metadata: {}, source: ['pass'], outputs: [], execution_count: null })),
    };
    const file = path.join(dir, 'many.ipynb');
    await writeFile(file, notebookText(many));
    const bytes = await readFile(file);
    const { sid, notebook } = sessionOf(await continueFrom(file));
    assert.match(textOf(await execute(sid, 'print("after 20000")')), /^after 20000\n[\s\S]*\[cell 20000 \(id \w+\) · /);
    await shutdown(sid);
    assert.deepEqual(await readFile(file), bytes, 'continue never changes the original');
    const copy = await readNotebook(notebook);
    assert.equal(copy.cells.length, 20_001);
    assert.equal(new Set(copy.cells.map((c) => c.id)).size, 20_001, 'every cell got its own id');
    await validateWithPython([notebook]);

    // The whole replay is a performance matter; here only: the call answers within its timeout.
    const resumed = await resume('many.ipynb', 5);
    const { sid: resumedSid } = sessionOf(resumed);
    const replay = resumed.structuredContent?.replay as { status?: string; cells_total?: number } | undefined;
    assert.ok(replay === undefined || ['running', 'done'].includes(String(replay.status)), JSON.stringify(replay));
    await shutdown(resumedSid);
    const after = await readNotebook(file);
    assert.equal(after.cells.length, 20_000, 'the notebook keeps every cell');
    await validateWithPython([file]);
  });

  row('paths with spaces and unicode (relative and absolute) → continue and resume work', async () => {
    await mkdir(path.join(dir, 'my notebooks'), { recursive: true });
    const relative = 'my notebooks/résumé 日本 v1.ipynb';
    const file = path.join(dir, relative);
    await writeFile(
      file,
      notebookText({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: KERNELSPEC },
        cells: [{ cell_type: 'code', id: 'a', metadata: {}, source: ['a = 5'], outputs: [], execution_count: null }],
      }),
    );
    const { sid, notebook } = sessionOf(await continueFrom(relative));
    await shutdown(sid);
    assert.equal(notebook, path.join(dir, 'my notebooks', 'résumé 日本 v1_continued.ipynb'));
    const resumed = await resume(file);
    const { sid: resumedSid, notebook: resumedPath } = sessionOf(resumed);
    assert.equal(resumedPath, file);
    assert.match(textOf(await execute(resumedSid, 'print(a)')), /^5\n/);
    await shutdown(resumedSid);
    await validateWithPython([notebook, file]);
  });

  // --- experiment names -----------------------------------------------------------------------

  for (const entry of names) {
    const stem = entry.stem && entry.stem.length > 20 ? `${entry.stem.slice(0, 3)}…(${entry.stem.length} chars)` : entry.stem;
    const outcome = entry.refused ? `refused (${entry.refused.source})` : `${stem}.ipynb inside the dir`;
    row(`experiment name with ${entry.title} → ${outcome}`, async () => {
      const listing = await listTree(dir);
      const result = await call(server.client, 'start_new_session', { experiment_name: entry.name });
      if (entry.refused) {
        assertRefused(result, 'validation', entry.refused);
        assert.deepEqual(await listTree(dir), listing, 'no file appeared');
        return;
      }
      const { sid, notebook } = sessionOf(result);
      await shutdown(sid);
      assert.equal(path.dirname(notebook), dir, 'the notebook is directly inside the notebook directory');
      const base = path.basename(notebook);
      assert.match(base, new RegExp(`^${entry.stem!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?\\.ipynb$`, 'u'));
      assert.ok(Buffer.byteLength(base) <= 255, `${Buffer.byteLength(base)} bytes`);
      await validateWithPython([notebook]);
    });
  }

  // --- code -----------------------------------------------------------------------------------

  /** Runs `code` in a fresh session: a finished result (never "still running" for good), then the next cell runs. Returns the notebook. */
  async function finishesThenNextRuns(code: string, check: (result: ToolResult) => void, setup?: string): Promise<string> {
    const { sid, notebook } = sessionOf(await call(server.client, 'start_new_session', { experiment_name: 'code' }));
    try {
      if (setup) assert.match(textOf(await execute(sid, setup)), /· ok ·/);
      let result = await execute(sid, code, 20);
      if (/still running|Queued/.test(textOf(result))) result = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 20 }, 60_000);
      assert.doesNotMatch(textOf(result), /still running|Queued/, 'the cell ended (refused, ran, or failed), it is not stuck');
      check(result);
      const next = await execute(sid, 'print("next")', 20);
      assert.match(textOf(next), /^next\n[\s\S]*· ok ·/, 'the session goes on');
    } finally {
      await shutdown(sid);
    }
    await validateWithPython([notebook]);
    return notebook;
  }

  row('10 MB of code (a string literal) → runs; the cell is recorded; the session goes on', async () => {
    const code = `s = "${'a'.repeat(10_000_000)}"\nprint(len(s))`;
    const notebook = await finishesThenNextRuns(code, (result) => {
      assert.notEqual(result.isError, true, textOf(result).slice(0, 500));
      assert.match(textOf(result), /^10000000\n[\s\S]*· ok ·/);
    });
    const cells = (await readNotebook(notebook)).cells;
    assert.equal([cells[0]!.source].flat().join(''), code, 'the notebook holds the 10 MB cell as sent');
  });

  row('code with a NUL byte → a finished result (refused or run), never stuck; the next cell runs', async () => {
    await finishesThenNextRuns("x = 'a\0b'\nprint(len(x))", (result) => {
      if (result.isError) assert.match(textOf(result), /NUL/);
      else assert.match(textOf(result), /^3\n[\s\S]*· ok ·/);
      if (result.isError && codeOf(result)) assert.equal(codeOf(result), 'INVALID_ARGUMENT');
    });
  });

  row('code with a lone surrogate \\ud800 → a finished result (refused or run), never stuck; the next cell runs', async () => {
    await finishesThenNextRuns("y = '\ud800'\nprint(len(y))", (result) => {
      if (result.isError && codeOf(result) === 'INVALID_ARGUMENT') assert.match(textOf(result), /surrogate/);
      else assert.match(textOf(result), FOOTER, 'a finished cell (its footer line)');
    });
  });

  row('a kernel that goes idle without replying (its execute handler fails) → the cell ends with an error; the next cell runs', async () => {
    // ipykernel logs "Exception in message handler", publishes idle and never sends execute_reply.
    const breakOnce = [
      'k = get_ipython().kernel',
      'real_do_execute = k.do_execute',
      'def fail_once(*args, **kwargs):',
      '    k.do_execute = real_do_execute',
      '    raise RuntimeError("execute handler failure injected by the test")',
      'k.do_execute = fail_once',
    ].join('\n');
    await finishesThenNextRuns(
      'print("never printed")',
      (result) => {
        // A cell that failed is a tool result like any Python error (isError is kept for a dead kernel or server).
        assert.match(textOf(result), /\[cell 1 \(id \w+\) · (In \[[^\]]*\] · )?error · /);
        assert.doesNotMatch(textOf(result), /never printed/);
      },
      breakOnce,
    );
  });

  // --- indices --------------------------------------------------------------------------------

  describe(`${TAG} cell indices`, () => {
    let sid = '';
    let notebook = '';
    before(async () => {
      ({ sid, notebook } = sessionOf(await call(server.client, 'start_new_session', { experiment_name: 'indices' })));
      for (const code of ['a = 1', 'b = 2']) assert.match(textOf(await execute(sid, code)), FOOTER);
    });
    after(async () => {
      if (sid) await shutdown(sid);
    });

    const range = /out of range: the notebook has 2 cell\(s\)\.\nNext step: Use 0\.\.1, or -1 for the last cell/;
    const insertRange = /out of range: the notebook has 2 cell\(s\)\.\nNext step: Use 0\.\.2 \(2 appends\)/;
    const table: Array<{ title: string; tool: string; args: Record<string, unknown>; code: string; message: RegExp }> = [
      { title: 'edit_cell 2 (one past the end)', tool: 'edit_cell', args: { cell_index: 2, code: 'c = 3' }, code: 'CELL_INDEX_OUT_OF_RANGE', message: range },
      { title: 'run_cell -3 (one before the start)', tool: 'run_cell', args: { cell_index: -3 }, code: 'CELL_INDEX_OUT_OF_RANGE', message: range },
      { title: 'delete_cell 1e6', tool: 'delete_cell', args: { cell_index: 1_000_000 }, code: 'CELL_INDEX_OUT_OF_RANGE', message: range },
      { title: 'edit_markdown 5', tool: 'edit_markdown', args: { cell_index: 5, markdown: 'm' }, code: 'CELL_INDEX_OUT_OF_RANGE', message: range },
      {
        title: 'execute_code at insert position 3',
        tool: 'execute_code',
        args: { cell_index: 3, code: 'c = 3' },
        code: 'CELL_INDEX_OUT_OF_RANGE',
        message: insertRange,
      },
      {
        title: 'add_markdown at insert position -4',
        tool: 'add_markdown',
        args: { cell_index: -4, markdown: 'm' },
        code: 'CELL_INDEX_OUT_OF_RANGE',
        message: insertRange,
      },
      {
        title: 'edit_cell 1.5 (not an integer)',
        tool: 'edit_cell',
        args: { cell_index: 1.5, code: 'c = 3' },
        code: 'validation',
        message: /cell_index must be a whole number: 0-based, negative counts from the end/,
      },
      { title: 'run_cell "1" (a string)', tool: 'run_cell', args: { cell_index: '1' }, code: 'validation', message: /cell_index: .*expected number/ },
    ];
    for (const entry of table) {
      row(`${entry.title} → ${entry.code}, the notebook unchanged`, async () => {
        await notebookSettled(notebook);
        const bytes = await readFile(notebook);
        assertRefused(await call(server.client, entry.tool, { session_id: sid, ...entry.args }), entry.code, entry.message);
        assert.deepEqual(await readFile(notebook), bytes, 'the refused call changed nothing');
      });
    }
  });

  // --- timeouts -------------------------------------------------------------------------------

  describe(`${TAG} timeouts`, () => {
    let sid = '';
    let notebook = '';
    before(async () => {
      ({ sid, notebook } = sessionOf(await call(server.client, 'start_new_session', { experiment_name: 'timeouts' })));
    });
    after(async () => {
      if (sid) await shutdown(sid);
    });

    row('execute_code timeout 0 on a sleeping cell → returns at once, "still running"; wait_for_cell 0 too; then the result', async () => {
      const started = await execute(sid, 'import time\ntime.sleep(3)\nprint("woke")', 0);
      assert.notEqual(started.isError, true, textOf(started));
      assert.match(textOf(started), /cell 0 \(id \w+\) is still running/);
      const peek = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 0 });
      assert.match(textOf(peek), /cell 0 \(id \w+\) is still running/);
      const done = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 60 }, 120_000);
      assert.match(textOf(done), /woke\n[\s\S]*\[cell 0 \(id \w+\) · In \[\d+\] · ok/);
    });

    const table: Array<{ title: string; tool: string; timeout: number; message: RegExp }> = [
      { title: 'execute_code timeout -1', tool: 'execute_code', timeout: -1, message: /timeout cannot be negative/ },
      { title: 'execute_code timeout 1e12', tool: 'execute_code', timeout: 1e12, message: /timeout is at most 86400 s/ },
      { title: 'wait_for_cell timeout -1', tool: 'wait_for_cell', timeout: -1, message: /timeout cannot be negative/ },
      { title: 'wait_for_cell timeout 1e12', tool: 'wait_for_cell', timeout: 1e12, message: /timeout is at most 86400 s/ },
    ];
    for (const entry of table) {
      row(`${entry.title} → refused with the valid range, nothing run`, async () => {
        await notebookSettled(notebook);
        const bytes = await readFile(notebook);
        const args = entry.tool === 'execute_code' ? { code: 'print("must not run")' } : {};
        assertRefused(await call(server.client, entry.tool, { session_id: sid, timeout: entry.timeout, ...args }), 'validation', entry.message);
        assert.deepEqual(await readFile(notebook), bytes, 'no cell was added');
      });
    }

    row('wait_for_cell timeout 0 with nothing running → answers at once', async () => {
      assert.match(textOf(await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 0 })), /No cell is running or waiting/);
    });
  });
});
