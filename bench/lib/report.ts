import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';
import { goalText, verdict, type Figure } from './figures.js';

/** Where a run's results go: ignored by git (.gitignore), so `npm run bench` leaves the tree clean. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface BenchReport {
  mode: 'full' | 'smoke';
  startedAt: string;
  durationS: number;
  commit: string;
  machine: MachineInfo;
  figures: Figure[];
  errors: Array<{ scenario: string; message: string }>;
  notes: string[];
  raw: Record<string, unknown>;
}

function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  if (unit === 'errors') return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The results table (GitHub markdown, readable as plain text too). */
export function table(report: BenchReport): string {
  const rows = [
    ['figure', 'what', 'ours', 'baseline', 'ratio', 'goal', ''],
    ...report.figures.map((f) => [
      f.id,
      f.what,
      formatValue(f.ours, f.unit),
      formatValue(f.baseline, f.unit),
      f.ratio === null ? '—' : `${f.ratio.toFixed(2)}×`,
      goalText(f),
      verdict(f),
    ]),
    ...report.errors.map((e) => [e.scenario, `ERROR: ${e.message.split('\n')[0]!.slice(0, 120)}`, '', '', '', '', 'ERROR']),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function machineLine(m: MachineInfo): string {
  return `${m.nproc} × ${m.cpuModel}, ${m.memTotalGb} GB, ${m.kernel}; Node ${m.node}; jupyter-server ${m.jupyterServer}, ipykernel ${m.ipykernel}, nbclient ${m.nbclient}, Python ${m.python}; load average at start ${m.loadavg.split(' ').slice(0, 3).join(' ')}`;
}

export function markdown(report: BenchReport): string {
  return [
    '# jlab-mcp benchmark — latest full run',
    '',
    `Written by \`npm run bench\` (full mode) on ${report.startedAt}, commit \`${report.commit}\`; the run took ${report.durationS.toFixed(0)} s.`,
    'Every ratio is ours ÷ a baseline measured in the same run on the same machine (see `bench/README.md`).',
    '',
    `Machine: ${machineLine(report.machine)}.`,
    '',
    table(report),
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/**
 * Writes <timestamp>.json and latest.json, and LATEST.md for full runs, into `dir` (run.ts:
 * bench/results/, ignored by git: a run's figures are not a change to the repository; the
 * reference figures are curated by hand in docs/benchmarks.md).
 */
export async function writeResults(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/:/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const written = [path.join(dir, `${stamp}.json`), path.join(dir, 'latest.json')];
  for (const file of written) await writeFile(file, json);
  if (report.mode === 'full') {
    const md = path.join(dir, 'LATEST.md');
    await writeFile(md, markdown(report));
    written.push(md);
  }
  return written;
}
