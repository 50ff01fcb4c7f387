import { JlabError } from '../util/errors.js';

/** A kernel language whose parameter assignments jlab-mcp writes, as papermill's translators do. */
export type ParameterLanguage = 'python' | 'r' | 'julia';

/** Reserved words that cannot be assigned to, per language. */
const RESERVED: Record<ParameterLanguage, ReadonlySet<string>> = {
  python: new Set(
    'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
      ' ',
    ),
  ),
  r: new Set('if else repeat while function for next break TRUE FALSE NULL Inf NaN NA NA_integer_ NA_real_ NA_character_ in'.split(' ')),
  julia: new Set(
    'baremodule begin break catch const continue do else elseif end export false finally for function global if import let local macro module quote return struct true try using while'.split(
      ' ',
    ),
  ),
};

const IDENTIFIER: Record<ParameterLanguage, RegExp> = {
  python: /^[\p{L}_][\p{L}\p{N}_]*$/u,
  // R: a letter, or a dot not followed by a digit, then letters, digits, dots and underscores.
  r: /^(?:\p{L}|\.(?![0-9]))[\p{L}\p{N}._]*$/u,
  julia: /^[\p{L}_][\p{L}\p{N}_!]*$/u,
};

/** The parameter language of a notebook from its kernelspec / language_info; UNSUPPORTED_LANGUAGE otherwise. */
export function parameterLanguageOf(language: string | undefined): ParameterLanguage {
  const name = (language ?? 'python').toLowerCase();
  if (name === 'python' || name === 'r' || name === 'julia') return name;
  throw new JlabError('UNSUPPORTED_LANGUAGE', `The notebook's kernel language is ${language}; sweeps write parameters for Python, R and Julia only.`, {
    hint: 'Use a Python, R or Julia notebook for start_sweep.',
  });
}

export function isIdentifier(name: string, language: ParameterLanguage): boolean {
  return IDENTIFIER[language].test(name) && !RESERVED[language].has(name);
}

/**
 * A JSON value as a literal of the language, following papermill's translators (None/NULL/nothing,
 * True/TRUE/true, lists and dicts as [..]/list(..)/Dict(..)). A JSON string literal is also a
 * valid Python, R and Julia string literal, except that Julia interpolates `$`: escaped here.
 */
export function renderValue(value: unknown, language: ParameterLanguage): string {
  if (value === null) return { python: 'None', r: 'NULL', julia: 'nothing' }[language];
  if (typeof value === 'boolean') return language === 'python' ? (value ? 'True' : 'False') : language === 'r' ? (value ? 'TRUE' : 'FALSE') : String(value);
  if (typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'string') return renderString(value, language);
  if (Array.isArray(value)) {
    const items = value.map((item) => renderValue(item, language)).join(', ');
    return language === 'r' ? `list(${items})` : `[${items}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (language === 'python') return `{${entries.map(([k, v]) => `${renderString(k, language)}: ${renderValue(v, language)}`).join(', ')}}`;
  if (language === 'r') return `list(${entries.map(([k, v]) => `${renderString(k, language)} = ${renderValue(v, language)}`).join(', ')})`;
  return `Dict(${entries.map(([k, v]) => `${renderString(k, language)} => ${renderValue(v, language)}`).join(', ')})`;
}

function renderString(text: string, language: ParameterLanguage): string {
  const literal = JSON.stringify(text);
  return language === 'julia' ? literal.replace(/\$/g, '\\$') : literal;
}

/** The injected cell's source: a comment line, then one assignment per parameter (papermill's `codify`). */
export function parameterAssignments(parameters: Record<string, unknown>, language: ParameterLanguage): string {
  const lines = Object.entries(parameters).map(([name, value]) => `${name} = ${renderValue(value, language)}`);
  return `# Parameters\n${lines.join('\n')}\n`;
}

/** Why `value` is not plain JSON (NaN, a function, undefined…), or undefined when it is. */
export function notJson(value: unknown, at = 'value'): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at} is ${value}, which JSON cannot hold`;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const why = notJson(item, `${at}[${i}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const why = notJson(item, `${at}.${key}`);
      if (why) return why;
    }
    return undefined;
  }
  return `${at} is a ${typeof value}, not a JSON value`;
}
