// How tools/list shows a schema: the same instances valid in fewer characters (input), only the
// top-level fields (output), annotations without the spec's defaults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { compactJsonSchema, listedAnnotations, listedCompactly, topLevelOnly, unlisted } from '../../src/mcp/tools/compactListing.js';
import { startInProcessServer } from '../helpers/serverHandles.js';

const sample = z.looseObject({
  count: z.number().int().nullable(),
  limit: z.number().int().min(1).max(500).optional(),
  status: z.enum(['ok', 'error']),
  error: z.looseObject({ ename: z.string() }).nullable(),
  cells: z.array(z.looseObject({ id: z.string() })),
  // Property names that are also keywords stay.
  properties: z.object({ required: z.string(), type: z.string() }).optional(),
});

const instances: unknown[] = [
  { count: 1, status: 'ok', error: null, cells: [] },
  { count: null, status: 'error', error: { ename: 'E', more: 1 }, cells: [{ id: 'a', x: 2 }], extra: true },
  { count: 1.5, status: 'ok', error: null, cells: [] },
  { count: 1, status: 'maybe', error: null, cells: [] },
  { count: 1, status: 'ok', error: { evalue: 'no ename' }, cells: [] },
  { count: 1, status: 'ok', error: null, cells: [{}] },
  { count: 1, limit: 0, status: 'ok', error: null, cells: [] },
  { count: 1, status: 'ok', error: null, cells: [], properties: { required: 'r', type: 't' } },
  { count: 1, status: 'ok', error: null, cells: [], properties: { required: 'r' } },
  { status: 'ok', error: null, cells: [] },
  'not an object',
];

describe('compact listing', () => {
  it('says a schema in fewer characters, valid for exactly the same instances', () => {
    const full = z.toJSONSchema(sample, { target: 'draft-2020-12', io: 'input' });
    const compact = compactJsonSchema(full) as Record<string, unknown>;
    assert.ok(JSON.stringify(compact).length < JSON.stringify(full).length * 0.8, JSON.stringify(compact));
    const text = JSON.stringify(compact);
    for (const gone of ['$schema', '9007199254740991', '"additionalProperties":{}', '"anyOf"']) assert.ok(!text.includes(gone), `${gone} in ${text}`);
    assert.deepEqual((compact.properties as Record<string, unknown>).count, { type: ['integer', 'null'] });
    assert.deepEqual((compact.properties as Record<string, unknown>).status, { enum: ['ok', 'error'] });
    const ajv = new Ajv2020({ strict: false });
    const before = ajv.compile(full);
    const after = ajv.compile(compact);
    for (const instance of instances) assert.equal(after(instance), before(instance), JSON.stringify(instance));
    assert.deepEqual(
      instances.map((instance) => before(instance)),
      [true, true, false, false, false, false, false, true, false, false, false],
    );
  });

  it('lists an output schema by its top-level fields, without required, only looser than the schema checked', () => {
    const listed = topLevelOnly(compactJsonSchema(z.toJSONSchema(sample, { target: 'draft-2020-12', io: 'output' }), { required: false })) as {
      properties: Record<string, unknown>;
      required?: unknown;
    };
    assert.equal(listed.required, undefined);
    assert.deepEqual(listed.properties.error, { type: ['object', 'null'] });
    assert.deepEqual(listed.properties.cells, { type: 'array' });
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(listed);
    for (const instance of instances) if (sample.safeParse(instance).success) assert.ok(validate(instance), JSON.stringify(instance));
  });

  it('gives a copy that validates as the schema and lists itself compactly', () => {
    const listed = listedCompactly(sample, 'input');
    for (const instance of instances) assert.equal(listed.safeParse(instance).success, sample.safeParse(instance).success, JSON.stringify(instance));
    const json = listed['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
    assert.equal(json.$schema, undefined);
    assert.ok(sample['~standard'].jsonSchema.input({ target: 'draft-2020-12' }).$schema, 'the original is left as it was');
    const shape = { a: z.string() };
    assert.equal(listedCompactly(shape, 'input'), shape, 'a raw shape is passed through');
  });

  it('leaves out an unlisted field, which results must still carry', () => {
    const result = z.looseObject({ cell: z.string(), notebook_path: unlisted(z.string()) });
    const listed = listedCompactly(result, 'output');
    assert.deepEqual(listed['~standard'].jsonSchema.output({ target: 'draft-2020-12' }), { type: 'object', properties: { cell: { type: 'string' } } });
    const input = compactJsonSchema(z.toJSONSchema(result, { target: 'draft-2020-12', io: 'input' })) as { required: string[] };
    assert.deepEqual(input.required, ['cell'], 'nor is it listed as required');
    assert.equal(listed.safeParse({ cell: 'a' }).success, false, 'the server still checks it');
    assert.equal(listed.safeParse({ cell: 'a', notebook_path: 'n.ipynb' }).success, true);
  });

  it('drops the annotations that repeat the spec defaults', () => {
    assert.deepEqual(listedAnnotations({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }), {
      destructiveHint: false,
      openWorldHint: false,
    });
    assert.deepEqual(listedAnnotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true }), { idempotentHint: true });
    assert.deepEqual(listedAnnotations({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }), {
      readOnlyHint: true,
      openWorldHint: false,
    });
    assert.equal(listedAnnotations(undefined), undefined);
  });

  it('is what the server lists for every tool', async () => {
    const server = await startInProcessServer();
    try {
      const { tools } = await server.client.listTools();
      for (const tool of tools) {
        const text = JSON.stringify(tool);
        for (const gone of ['$schema', '9007199254740991', '"additionalProperties":{}']) assert.ok(!text.includes(gone), `${tool.name}: ${gone}`);
        for (const [field, schema] of Object.entries(tool.outputSchema?.properties ?? {})) {
          assert.ok(!('properties' in schema) && !('items' in schema), `${tool.name}.${field} lists what is inside it`);
        }
      }
    } finally {
      await server.close();
    }
  });
});
