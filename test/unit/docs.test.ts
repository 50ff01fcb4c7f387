// The docs that mirror code cannot drift from it: the generated files are what the generator
// writes today, and every hand-written list that names code (tiers, benchmark figures, the
// set-up's packages, links) is compared with the code it names.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GENERATED_DOCS, REPO } from '../../scripts/gen-docs.js';
import { SETTINGS } from '../../src/config/settings.js';
import { DEBIAN_PACKAGES } from '../../src/setup/plan.js';
import { ERROR_CODES } from '../../src/util/errorCodes.js';

const read = (file: string) => readFile(path.join(REPO, file), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replaceAll(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');
}

function headingsOf(markdown: string): Set<string> {
  const outsideFences = markdown.replaceAll(/^```[\s\S]*?^```/gm, '');
  return new Set([...outsideFences.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1]!)));
}

describe('generated docs', () => {
  for (const { file, render } of GENERATED_DOCS) {
    it(`${file} is what scripts/gen-docs.ts writes`, async () => {
      const committed = existsSync(path.join(REPO, file)) ? await read(file) : '(missing)';
      assert.ok(committed === render(), `${file} is out of date with the code: run \`npm run docs\` and commit the result`);
    });
  }

  it('docs/settings.md has a row for every setting, with its flag', async () => {
    const doc = await read('docs/settings.md');
    // A mention in prose is not enough: each setting needs its own row `| env | flag | default | meaning |`.
    const rows = new Map<string, string>();
    for (const match of doc.matchAll(/^\| `(JLAB_MCP_[A-Z0-9_]+)` \| ([^|]+) \|/gm)) rows.set(match[1]!, match[2]!.trim());
    const problems = Object.values(SETTINGS).flatMap((spec: { env: string; flag?: string }) => {
      const flagCell = rows.get(spec.env);
      if (flagCell === undefined) return [`${spec.env}: no row in docs/settings.md`];
      const want = spec.flag ? `\`${spec.flag}\`` : '(env only)';
      return flagCell === want ? [] : [`${spec.env}: flag column says ${flagCell}, want ${want}`];
    });
    assert.deepEqual(problems, []);
  });

  it('documents only error codes that src throws or checks', async () => {
    const sources = (await readdir(path.join(REPO, 'src'), { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('errorCodes.ts'));
    const text = (await Promise.all(sources.map((file) => read(path.join('src', file))))).join('\n');
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
    assert.deepEqual(unused, [], 'codes in src/util/errorCodes.ts that nothing uses: remove them');
  });
});

describe('hand-written docs that name code', () => {
  it('README.md is a front door: at most 200 lines', async () => {
    const lines = (await read('README.md')).trimEnd().split('\n').length;
    assert.ok(lines <= 200, `README.md has ${lines} lines; move detail to docs/`);
  });

  it('every relative link in README.md, CONTRIBUTING.md and docs/ leads to a file and heading that exist', async () => {
    const files = ['README.md', 'CONTRIBUTING.md', ...(await readdir(path.join(REPO, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const problems: string[] = [];
    for (const file of files) {
      const text = await read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [linked, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = linked ? path.join(path.dirname(file), linked) : file;
        if (!existsSync(path.join(REPO, resolved))) {
          problems.push(`${file}: ${target} (no ${resolved})`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !headingsOf(await read(resolved)).has(anchor))
          problems.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('CONTRIBUTING.md names every test tier (each directory of test/ with test files)', async () => {
    const contributing = await read('CONTRIBUTING.md');
    const entries = await readdir(path.join(REPO, 'test'), { withFileTypes: true });
    const tiers: string[] = [];
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const files = await readdir(path.join(REPO, 'test', entry.name), { recursive: true });
      if (files.some((f) => f.endsWith('.test.ts'))) tiers.push(entry.name);
    }
    assert.ok(tiers.length >= 5, `found tiers ${tiers.join(', ')}`);
    const missing = tiers.filter((tier) => !contributing.includes(`| \`test/${tier}\` |`));
    assert.deepEqual(missing, [], 'tiers without a row in CONTRIBUTING.md');
  });

  it('docs/benchmarks.md shows exactly the figures the bench scenarios produce', async () => {
    const dir = path.join(REPO, 'bench', 'scenarios');
    const scenarios = await Promise.all((await readdir(dir)).map((file) => readFile(path.join(dir, file), 'utf8')));
    const produced = new Set(scenarios.flatMap((text) => [...text.matchAll(/\bid: '(P\d+ [^']+)'/g)].map((match) => match[1]!)));
    const doc = await read('docs/benchmarks.md');
    const shown = new Set([...doc.matchAll(/^\| (P\d+ [^|]*?) +\|/gm)].map((match) => match[1]!));
    assert.ok(produced.size >= 16 && produced.has('P11 median'), `found figures ${[...produced].join(', ')}`);
    assert.deepEqual([...shown].sort(), [...produced].sort());
  });

  it('docs/setup.md names the Debian packages the set-up installs', async () => {
    assert.ok((await read('docs/setup.md')).includes(`apt-get install ${DEBIAN_PACKAGES.join(' ')}`));
  });
});
