import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { readNotebook } from './notebookFile.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

/** Validates notebooks with Python's own nbformat.validate; rejects with its message if one is invalid. */
export async function validateWithPython(paths: string[]): Promise<void> {
  const script = [
    'import sys, nbformat',
    'for p in sys.argv[1:]:',
    '    nb = nbformat.read(p, as_version=nbformat.NO_CONVERT)',
    '    assert nb.nbformat == 4 and nb.nbformat_minor >= 5, (p, nb.nbformat, nb.nbformat_minor)',
    '    nbformat.validate(nb)',
    'print("ok", len(sys.argv) - 1)',
  ].join('\n');
  const { stdout } = await run(PYTHON, ['-c', script, ...paths]);
  if (!stdout.startsWith('ok')) throw new Error(`nbformat.validate said: ${stdout}`);
}

let compiled: (((data: unknown) => boolean) & { errors?: unknown }) | undefined;

/** Validates one notebook against the nbformat 4.5 JSON schema shipped with Python's nbformat. */
export async function validateWithSchema(path: string): Promise<void> {
  if (!compiled) {
    const { stdout } = await run(PYTHON, ['-c', 'import nbformat, os; print(os.path.dirname(nbformat.__file__))']);
    const schema = JSON.parse(await readFile(`${stdout.trim()}/v4/nbformat.v4.5.schema.json`, 'utf8')) as Record<string, unknown>;
    delete schema.$schema; // draft-04 marker; the schema uses nothing draft-07 reads differently
    compiled = new Ajv({ strict: false, allErrors: true }).compile(schema);
  }
  const data = await readNotebook<unknown>(path);
  if (!compiled(data)) throw new Error(`${path} fails the nbformat 4.5 schema: ${JSON.stringify(compiled.errors)}`);
}
