import { ZodType } from 'zod';

type Json = Record<string, unknown>;

/** What zod puts on every `.int()`: the safe-integer range, which says nothing to an agent. */
const SAFE_MIN = Number.MIN_SAFE_INTEGER;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The same JSON Schema, said in fewer characters (tools/list is sent on every agent turn): no
 * `$schema` (MCP fixes the dialect), no safe-integer bounds, no `additionalProperties: {}` (extra
 * properties are allowed without it), and `anyOf: [X, {type: null}]` as `type: [X, "null"]`.
 * Every instance valid before is valid after, and the other way round.
 */
export function compactJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactJsonSchema);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && isObject(value) && Object.keys(value).length === 0) continue;
    if (node.type === 'integer' && ((key === 'minimum' && value === SAFE_MIN) || (key === 'maximum' && value === SAFE_MAX))) continue;
    out[key] = compactJsonSchema(value);
  }
  return nullableAsType(out);
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
 * The schema, validating as before, whose JSON Schema (what the SDK lists in tools/list) is
 * compacted. The SDK asks a schema for its JSON Schema through Standard Schema's
 * `~standard.jsonSchema`, the one hook it offers; a zod copy may carry its own. Anything but a
 * zod schema (a raw shape) is returned as it is.
 */
export function listedCompactly<S>(schema: S): S {
  if (!(schema instanceof ZodType)) return schema;
  const standard = schema['~standard'];
  const { input, output } = standard.jsonSchema;
  const copy = schema.clone();
  copy['~standard'] = {
    ...standard,
    jsonSchema: {
      input: (options) => compactJsonSchema(input(options)) as Json,
      output: (options) => compactJsonSchema(output(options)) as Json,
    },
  };
  return copy as S;
}
