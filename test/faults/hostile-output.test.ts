import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { ProcessTree } from '../helpers/processTree.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { notebookSettled, readCells } from '../helpers/notebookFile.js';

/*
 * Hostile cell output through the built binary, a real kernel and the official MCP client: raw
 * bytes, NULs, lone surrogates and a PNG whose header claims 1.6 gigapixels. The agent must get
 * well-formed text without control characters (and no image it cannot be given), the notebook
 * must keep the originals and stay valid, and the session must go on.
 */

const TAG = '[bad-input]';

declare global {
  interface String {
    /** Node 20 has it; our ES2022 lib types do not. */
    toWellFormed(): string;
  }
}

/** Every C0 control but \t and \n, DEL and the C1 controls. */
const FORBIDDEN_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

type Output = { output_type: string; text?: string | string[]; data?: Record<string, string | string[]> };
type Cell = { source: string | string[]; outputs: Output[] };

let server: Spawned;
let tree: ProcessTree;
let sid = '';
let notebook = '';

function assertAgentSafe(text: string, what: string): void {
  assert.equal(text, text.toWellFormed(), `${what}: no lone surrogates`);
  const control = FORBIDDEN_CONTROLS.exec(text);
  assert.equal(control, null, `${what}: control character U+${control?.[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${control?.index}`);
}

async function execute(code: string, onprogress?: (message: string) => void): Promise<ToolResult> {
  const result = (await server.client.callTool(
    { name: 'execute_code', arguments: { session_id: sid, code } },
    { timeout: 120_000, ...(onprogress ? { onprogress: (p: { message?: string }) => onprogress(p.message ?? '') } : {}) },
  )) as ToolResult;
  assert.notEqual(result.isError, true, textOf(result));
  for (const block of result.content) if (block.type === 'text') assertAgentSafe(block.text ?? '', 'the reply');
  return result;
}

const cells = () => readCells<Cell>(notebook);

function streamText(cell: Cell): string {
  return cell.outputs
    .filter((o) => o.output_type === 'stream')
    .map((o) => [o.text ?? ''].flat().join(''))
    .join('');
}

/** The cell index the reply's status line names. */
function cellIndexOf(result: ToolResult): number {
  const match = /\[cell (\d+) \(id \w+\) · /.exec(textOf(result));
  assert.ok(match, textOf(result));
  return Number(match[1]);
}

// ipykernel encodes messages as UTF-8 and fails on a lone surrogate (the output is lost, a
// traceback goes to stderr). Other kernels, and ipykernel with an ASCII packer, send one as the
// JSON escape \ud800, which is valid JSON: this packer does that for the cell it runs in.
const WITH_ASCII_PACKER = (body: string[]) =>
  [
    'import json, sys',
    'from jupyter_client.session import json_default',
    '_session = get_ipython().kernel.session',
    '_packer = _session.pack',
    "_session.pack = lambda obj: json.dumps(obj, default=json_default, ensure_ascii=True, allow_nan=False).encode('ascii')",
    'try:',
    ...body.map((line) => `    ${line}`),
    'finally:',
    '    sys.stdout.flush()',
    '    _session.pack = _packer',
  ].join('\n');

describe(`${TAG} hostile cell output through the built binary`, { timeout: 300_000 }, () => {
  before(async () => {
    server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'warn' });
    tree = new ProcessTree([server.pid()!]);
    const started = await call(server.client, 'start_new_session', { experiment_name: 'hostile output' });
    assert.equal(started.isError, undefined, textOf(started));
    sid = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
  });

  after(async () => {
    await server?.close();
    const left = (await tree?.waitAllGone(30_000)) ?? [];
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    assert.deepEqual(left, [], 'jlab-mcp, Jupyter and the kernel ended with the client');
  });

  it(`${TAG} 256 raw bytes on stdout (invalid UTF-8, NUL, C0/C1 controls) → the agent gets clean valid text; the notebook keeps what the kernel sent`, async () => {
    const result = await execute(
      [
        'import sys',
        'raw = bytes(range(256))',
        "if hasattr(sys.stdout, 'buffer'):",
        '    sys.stdout.buffer.write(raw)',
        'else:',
        '    # ipykernel 6 has no sys.stdout.buffer; surrogateescape puts the same bytes on the wire',
        "    sys.stdout.write(raw.decode('utf-8', 'surrogateescape'))",
        'sys.stdout.flush()',
        "print('\\nafter binary')",
      ].join('\n'),
    );
    const text = textOf(result);
    assert.ok(text.includes('0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ'), text);
    assert.ok(text.includes('\ufffd'), 'invalid UTF-8 shows as U+FFFD');
    assert.match(text, /\nafter binary\n/);
    const recorded = streamText((await cells())[cellIndexOf(result)]!);
    for (const kept of ['\x00', '\x01', '\x1b', '\x7f', '\ufffd', 'after binary'])
      assert.ok(recorded.includes(kept), `the notebook keeps ${JSON.stringify(kept)}`);
    await validateWithPython([notebook]);
  });

  it(`${TAG} a NUL in printed text → left out for the agent, kept in the notebook`, async () => {
    const result = await execute("print('nul:\\x00:end')");
    assert.match(textOf(result), /^nul::end\n/);
    assert.equal(streamText((await cells())[cellIndexOf(result)]!), 'nul:\x00:end\n');
    await validateWithPython([notebook]);
  });

  it(`${TAG} lone surrogates from the kernel (stream, display_data, progress line) → U+FFFD for the agent; the notebook stays valid JSON and nbformat`, async () => {
    const progress: string[] = [];
    const result = await execute(
      WITH_ASCII_PACKER([
        "print('lone:\\ud800:high')",
        "display({'text/plain': 'shown \\udfff low'}, raw=True)",
        'sys.stdout.flush()',
        'import time',
        // Long enough for a progress notification (every 2 s) while the last line is the lone one.
        "print('tick \\udc00', flush=True)",
        'time.sleep(4.5)',
      ]),
      (message) => progress.push(message),
    );
    const text = textOf(result);
    assert.match(text, /^lone:\ufffd:high\nshown \ufffd low\ntick \ufffd\n/);
    assert.ok(
      progress.some((message) => message.includes('tick \ufffd')),
      `a progress line shows the output: ${JSON.stringify(progress)}`,
    );
    for (const message of progress) assertAgentSafe(message, 'a progress line');
    await notebookSettled(notebook);
    const raw = await readFile(notebook, 'utf8');
    assert.ok(raw.includes('lone:\\ud800:high'), 'the serializer writes the lone surrogate as a JSON escape');
    const cell = (await cells())[cellIndexOf(result)]!;
    assert.equal(streamText(cell), 'lone:\ud800:high\ntick \udc00\n', 'the notebook keeps the original text');
    await validateWithPython([notebook]);
  });

  it(`${TAG} a PNG whose header claims 40000×40000 px → not decoded, one "not shown" line naming the figure, size and cell; the notebook keeps the original bytes`, async () => {
    const result = await execute(
      [
        'import base64, hashlib, struct, zlib',
        'from IPython.display import display',
        'def png(width, height, pixels):',
        '    def chunk(kind, data):',
        "        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))",
        "    header = struct.pack('>IIBBBBB', width, height, 8, 6, 0, 0, 0)",
        "    return b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(pixels)) + chunk(b'IEND', b'')",
        "small = base64.b64encode(png(2, 1, b'\\x00' + b'\\xff\\x00\\x00\\xff' * 2)).decode()",
        "huge = base64.b64encode(png(40000, 40000, b'\\x00' * 1000)).decode()",
        "display({'image/png': small}, raw=True)",
        "display({'image/png': huge}, raw=True)",
        'print(hashlib.sha256(huge.encode()).hexdigest())',
      ].join('\n'),
    );
    const text = textOf(result);
    const label = `cell ${cellIndexOf(result)}`;
    assert.ok(text.includes(`[figure 2 (40000×40000 px) not shown: above the 50 MP limit; it is in ${label} of the notebook]`), text);
    const images = result.content.filter((block) => block.type === 'image');
    assert.equal(images.length, 1, 'the small figure is shown, the huge one is not');
    const hash = /^([0-9a-f]{64})$/m.exec(text)![1];
    const outputs = (await cells())[cellIndexOf(result)]!.outputs.filter((o) => o.output_type === 'display_data');
    assert.equal(outputs.length, 2);
    const stored = [outputs[1]!.data!['image/png']!].flat().join('').replace(/\s+/g, '');
    assert.equal(createHash('sha256').update(stored).digest('hex'), hash, 'the notebook holds the original image data');
    await validateWithPython([notebook]);
  });

  it(`${TAG} after all that the session still runs cells and its notebook is valid`, async () => {
    const result = await execute('print(6 * 7)');
    assert.match(textOf(result), /^42\n/);
    const all = await cells();
    assert.equal(all.length, 5);
    await validateWithPython([notebook]);
  });
});
