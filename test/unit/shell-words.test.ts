import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { quoteWord, quoteWords, splitWords } from '../../src/util/shell.js';

const SETTING = 'JLAB_MCP_SLURM_EXTRA_ARGS';

describe('splitWords', () => {
  const table: Array<[line: string, words: string[]]> = [
    ['jupyter server', ['jupyter', 'server']],
    ['--comment="two words"', ['--comment=two words']],
    ["'a b'", ['a b']],
    ['a\\ b', ['a b']],
    ['"/opt/my env/bin/jupyter" \'server\'', ['/opt/my env/bin/jupyter', 'server']],
    ["'$HOME'", ['$HOME']],
    ['\\$HOME', ['$HOME']],
    ['', []],
    ['   ', []],
    ['"" x', ['', 'x']],
    ['--comment=größe 日本', ['--comment=größe', '日本']],
    ['--nodelist=gpu[1-4] --exclude=n?', ['--nodelist=gpu[1-4]', '--exclude=n?']],
    ['  --exclusive\t--reservation=ml  ', ['--exclusive', '--reservation=ml']],
    ['"it\'s" \'say "hi"\'', ["it's", 'say "hi"']],
    ['/bin/sh -c "echo boom >&2; exit 3"', ['/bin/sh', '-c', 'echo boom >&2; exit 3']],
  ];
  for (const [line, words] of table) {
    it(`splits ${JSON.stringify(line)}`, () => assert.deepEqual(splitWords(line, SETTING), words));
  }

  const refused: Array<[line: string, shown: RegExp]> = [
    ['$HOME/bin/jupyter', /\$HOME/],
    ['--x="${USER}"', /\$USER/],
    ['a $(ls) b', /\$/],
    ['a | b', /"\|"/],
    ['a; rm -rf /', /";"/],
    ['a > out', /">"/],
    ['a && b', /"&&"/],
    ['a #comment', /"#comment"/],
  ];
  for (const [line, shown] of refused) {
    it(`refuses ${JSON.stringify(line)} with CONFIG_INVALID naming the setting`, () => {
      assert.throws(
        () => splitWords(line, SETTING),
        (error: unknown) => {
          const e = error as { code?: string; message: string; hint?: string };
          assert.equal(e.code, 'CONFIG_INVALID');
          assert.match(e.message, new RegExp(SETTING));
          assert.match(e.message, shown);
          assert.ok(e.hint);
          return true;
        },
      );
    });
  }
});

describe('quoteWords', () => {
  const words = [
    'plain',
    'DPkg::Lock::Timeout=120',
    '=x',
    'a,b@c:d%e+f',
    "it's",
    "it's!",
    '$(rm -rf /)',
    '`x`',
    'a b\tc',
    '"dq"',
    "'",
    '',
    'new\nline',
    '\\n $HOME',
    '~/x',
    'x=~/y',
    '--comment=two words',
    'größe 日本',
    '#c',
    'gpu[1-4]',
    '*',
    'a%b',
  ];

  it('round-trips quote → splitWords for every word at once', () => {
    assert.deepEqual(splitWords(quoteWords(words), SETTING), words);
  });

  it('gives bash back the same words', () => {
    const out = execFileSync('bash', ['-c', `printf '%s\\0' ${quoteWords(words)}`], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), words);
  });

  it('leaves a plain word readable and refuses NUL', () => {
    assert.equal(quoteWord('/usr/bin/jupyter-server'), '/usr/bin/jupyter-server');
    assert.equal(quoteWord(''), "''");
    assert.equal(quoteWords(['pip', 'install', 'a b']), "pip install 'a b'");
    assert.equal(quoteWords(['-o', 'DPkg::Lock::Timeout=120', 'user@host:%j,+x']), '-o DPkg::Lock::Timeout=120 user@host:%j,+x');
    assert.throws(() => quoteWord('a\0b'), /NUL/);
  });
});
