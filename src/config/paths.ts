import path from 'node:path';
import { JlabError } from '../util/errors.js';
import { quoteWord } from '../util/shell.js';

/**
 * `~` and `~/x` → the home directory, as a shell would: MCP clients pass env values verbatim,
 * so `"JLAB_MCP_NOTEBOOK_DIR": "~/notebooks"` would otherwise make a folder named `~`.
 * `~alice/x` (another user's home) is refused rather than guessed: Node has no lookup for it.
 */
export function expandHome(value: string, home: string, setting: string): string {
  if (value === '~') return home;
  if (value.startsWith('~/') || value.startsWith(`~${path.sep}`)) return path.join(home, value.slice(2));
  if (value.startsWith('~')) {
    throw new JlabError('CONFIG_INVALID', `${setting}=${value}: only ~ and ~/… (your own home) are expanded; give the full path.`);
  }
  return value;
}

/** A path setting as jlab-mcp uses it: `~` expanded, then absolute against `cwd`. */
export function resolveSettingPath(value: string, home: string, cwd: string, setting: string): string {
  return path.resolve(cwd, expandHome(value, home, setting));
}

/**
 * A command setting whose first word is a program path (`~/venvs/ml/bin/jupyter server`): that
 * word's `~` is expanded, since the command never passes through a shell that would do it.
 */
export function expandCommandHome(command: string, home: string, setting: string): string {
  const match = /^(~[^\s'"]*)(.*)$/s.exec(command);
  if (!match) return command;
  const program = expandHome(match[1]!, home, setting);
  // The command is split like a shell line later: a home with a space must stay one word.
  return quoteWord(program) + match[2]!;
}
