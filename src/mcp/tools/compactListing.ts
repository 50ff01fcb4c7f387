import { type z, ZodType } from 'zod';

type Json = Record<string, unknown>;

/** What zod puts on every `.int()`: the safe-integer range, which says nothing to an agent. */
const SAFE_MIN = Number.MIN_SAFE_INTEGER;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON Schema key (zod metadata) that marks a field as checked but not listed. */
const UNLISTED = 'x-jlab-unlisted';

/**
 * A field of a result that the server checks but tools/list leaves out: one an agent does not
 * read, or knows from its own call. Results keep it; clients see a looser schema.
 */
export function unlisted<T extends z.ZodType>(schema: T): T {
  return schema.meta({ [UNLISTED]: true });
}

/**
 * The same JSON Schema, said in fewer characters (tools/list is sent on every agent turn): no
 * `$schema` (MCP fixes the dialect), no safe-integer bounds, no `additionalProperties: {}` (extra
 * properties are allowed without it), no `propertyNames: {type: "string"}` (JSON's names are
 * strings), no `items: {}`, no `type` beside an `enum` of strings, and
 * `anyOf: [X, {type: null}]` as `type: [X, "null"]`: every instance valid before is valid after,
 * and the other way round. Fields marked `unlisted` are left out (only looser). An output schema
 * (`required: false`) also drops `required`: it tells an agent which fields there are, and the
 * server checks the rest.
 */
export function compactJsonSchema(node: unknown, { required = true } = {}): unknown {
  if (Array.isArray(node)) return node.map((each) => compactJsonSchema(each, { required }));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || (key === 'required' && !required)) continue;
    if ((key === 'additionalProperties' || key === 'items') && isObject(value) && Object.keys(value).length === 0) continue;
    if (key === 'propertyNames' && isObject(value) && value.type === 'string' && Object.keys(value).length === 1) continue;
    if (node.type === 'integer' && ((key === 'minimum' && value === SAFE_MIN) || (key === 'maximum' && value === SAFE_MAX))) continue;
    if (key === 'type' && value === 'string' && Array.isArray(node.enum) && node.enum.every((each) => typeof each === 'string')) continue;
    if (key === 'properties' && isObject(value)) {
      // Names mapped to schemas (a property may be called "required" or "type"); unlisted ones go.
      out[key] = mapValues(listedProperties(value), (each) => compactJsonSchema(each, { required }));
    } else if (key === 'required' && Array.isArray(value) && isObject(node.properties)) {
      out[key] = value.filter((name) => typeof name === 'string' && name in listedProperties(node.properties as Json));
    } else out[key] = compactJsonSchema(value, { required });
  }
  return nullableAsType(out);
}

function listedProperties(properties: Json): Json {
  return Object.fromEntries(Object.entries(properties).filter(([, schema]) => !(isObject(schema) && schema[UNLISTED] === true)));
}

function mapValues(object: Json, map: (value: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}

/** `{anyOf: [{type: "integer", …}, {type: "null"}], description}` → `{type: ["integer", "null"], …, description}`. */
function nullableAsType(node: Json): Json {
  const { anyOf, ...rest } = node;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return node;
  const nullAt = anyOf.findIndex((member) => isObject(member) && member.type === 'null' && Object.keys(member).length === 1);
  const other = anyOf[1 - nullAt];
  if (nullAt < 0 || !isObject(other) || typeof other.type !== 'string' || Object.keys(other).some((key) => key in rest)) return node;
  return { ...other, type: [other.type, 'null'], ...rest };
}

/**
 * An output schema as listed: its top-level fields with their types (and enums, descriptions);
 * what is inside a nested object or array is checked by the server and named in the tool's
 * description, not listed. Only looser than the schema the server checks, never stricter.
 */
export function topLevelOnly(schema: unknown): unknown {
  if (!isObject(schema) || !isObject(schema.properties)) return schema;
  return { ...schema, properties: mapValues(schema.properties, shallow) };
}

/** A field's schema without what is inside it. */
function shallow(field: unknown): unknown {
  if (!isObject(field)) return field;
  const { properties: _properties, items: _items, required: _required, additionalProperties: _extra, ...rest } = field;
  if (Array.isArray(rest.anyOf)) rest.anyOf = rest.anyOf.map(shallow);
  return rest;
}

/**
 * The schema, validating as before, whose JSON Schema (what the SDK lists in tools/list) is
 * compacted, and for an output schema cut to its top level. The SDK asks a schema for its JSON
 * Schema through Standard Schema's `~standard.jsonSchema`, the one hook it offers; a zod copy may
 * carry its own. Anything but a zod schema (a raw shape) is returned as it is.
 */
export function listedCompactly<S>(schema: S, io: 'input' | 'output'): S {
  if (!(schema instanceof ZodType)) return schema;
  const standard = schema['~standard'];
  const { input, output } = standard.jsonSchema;
  const listed = (json: unknown) => (io === 'output' ? topLevelOnly(compactJsonSchema(json, { required: false })) : compactJsonSchema(json)) as Json;
  const copy = schema.clone();
  copy['~standard'] = { ...standard, jsonSchema: { input: (options) => listed(input(options)), output: (options) => listed(output(options)) } };
  return copy as S;
}

type Annotations = { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };

/**
 * The annotations without the hints that say what the spec's defaults already say
 * (readOnlyHint false, destructiveHint true, idempotentHint false, openWorldHint true; the middle
 * two mean nothing on a read-only tool).
 */
export function listedAnnotations<A extends Annotations | undefined>(annotations: A): A {
  if (!annotations) return annotations;
  const { readOnlyHint, destructiveHint, idempotentHint, openWorldHint, ...rest } = annotations;
  return {
    ...rest,
    ...(readOnlyHint ? { readOnlyHint } : {}),
    ...(!readOnlyHint && destructiveHint === false ? { destructiveHint } : {}),
    ...(!readOnlyHint && idempotentHint === true ? { idempotentHint } : {}),
    ...(openWorldHint === false ? { openWorldHint } : {}),
  } as A;
}
