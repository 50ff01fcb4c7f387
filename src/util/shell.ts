import { parse, quote } from 'shell-quote';
import { JlabError } from './errors.js';

/**
 * Splits a setting into words as a POSIX shell would split a command line: quotes and
 * backslashes honoured (`--comment="two words"` is one word), nothing expanded, no shell ever run.
 * A setting is not a shell script: an operator (`|`, `;`, `>`, `&&`, `$(…)`), a `#` comment or a
 * `$VAR` is refused with CONFIG_INVALID rather than kept literal, because a literal `$HOME` or `|`
 * passed on as a word only fails later, far from the setting. A glob (`--nodelist=gpu[1-4]`) is
 * kept as the literal word: with no shell there is nothing to expand it, and Slurm wants it so.
 * @param setting names the setting in the error (e.g. `JLAB_MCP_SLURM_EXTRA_ARGS`).
 */
export function splitWords(line: string, setting: string): string[] {
  const refuse = (what: string, hint: string) =>
    new JlabError('CONFIG_INVALID', `${setting} contains ${what}, but a setting is split into words, not run by a shell.`, { hint, context: { setting } });
  const entries = parse(line, (name: string) => {
    throw refuse(
      `$${name || '(…)'}`,
      `Write the value out in full (a leading ~ in a program path is expanded), or put it in single quotes to mean a literal $.`,
    );
  });
  return entries.map((entry) => {
    if (typeof entry === 'string') return entry;
    if ('op' in entry && entry.op === 'glob') return entry.pattern;
    const shown = 'op' in entry ? entry.op : `#${entry.comment}`;
    throw refuse(`the shell syntax ${JSON.stringify(shown)}`, `Quote it (for example '${shown}') if it is part of a word, or remove it.`);
  });
}

/** Characters no POSIX shell treats specially anywhere in a word. */
const PLAIN_WORD = /^[\w./=:@%+,-]+$/;

/**
 * The words as one POSIX shell line that gives back exactly these words (bash, sh, an sbatch
 * script). A plain word is left as it is: shell-quote would backslash `=`, `:` and `,`, which
 * need nothing and make a hint like `-o DPkg::Lock::Timeout=120` hard to read; any other word
 * is shell-quote's. A NUL byte cannot be passed through any shell word and is refused.
 */
export function quoteWords(words: readonly string[]): string {
  if (words.some((word) => word.includes('\0'))) throw new JlabError('CONFIG_INVALID', 'A value for a shell line contains a NUL byte.');
  return words.map((word) => (PLAIN_WORD.test(word) ? word : quote([word]))).join(' ');
}

/** One word, quoted for a POSIX shell line (see `quoteWords`). */
export function quoteWord(word: string): string {
  return quoteWords([word]);
}
