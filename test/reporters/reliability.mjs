// A node:test reporter that prints the fault tier as the README's reliability table: one row per
// test tagged [fault] or [bad-input], its outcome, then the totals. Used by scripts/reliability.sh.
const TAG = /^\[(fault|bad-input)\]\s*/;

export default async function* reliabilityReporter(source) {
  const rows = [];
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, file, skip, details } = event.data;
    if (details?.type === 'suite') continue;
    const tagged = TAG.exec(name);
    if (!tagged) continue;
    const outcome = skip !== undefined ? 'skipped' : event.type === 'test:pass' ? 'survived' : 'FAILED';
    rows.push({
      kind: tagged[1],
      name: name.replace(TAG, ''),
      file: String(file ?? '').replace(/^.*\/test\//, ''),
      outcome,
      reason: typeof skip === 'string' ? skip : '',
    });
    if (event.type === 'test:fail') failures.push(`${name}: ${String(details?.error?.message ?? details?.error ?? '').split('\n')[0]}`);
  }
  const escapeCell = (text) => text.replaceAll('|', '\\|');
  yield '| kind | what was done → what must hold | file | outcome |\n|---|---|---|---|\n';
  for (const row of rows) yield `| ${row.kind} | ${escapeCell(row.name)} | ${row.file} | ${row.outcome}${row.reason ? ` (${escapeCell(row.reason)})` : ''} |\n`;
  const count = (kind, outcome) => rows.filter((row) => row.kind === kind && (!outcome || row.outcome === outcome)).length;
  yield `\nfaults injected: ${count('fault')}, survived: ${count('fault', 'survived')}, skipped: ${count('fault', 'skipped')}; bad inputs tried: ${count('bad-input')}, handled: ${count('bad-input', 'survived')}, skipped: ${count('bad-input', 'skipped')}\n`;
  for (const failure of failures) yield `FAILED: ${failure}\n`;
  const failed = rows.filter((row) => row.outcome === 'FAILED').length;
  yield `${rows.length - failed - rows.filter((row) => row.outcome === 'skipped').length} passed, ${failed} failed, ${rows.filter((row) => row.outcome === 'skipped').length} skipped\n`;
}
