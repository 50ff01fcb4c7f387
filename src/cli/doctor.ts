/**
 * `jlab-mcp doctor`: a user's first stop when something fails. Checks, with the same settings
 * and flags as the server, what jlab-mcp needs — Node, Jupyter (or what the set-up would do),
 * kernelspecs, Slurm, the notebook and state directories — and prints each as ok / problem with
 * the fix. Exit code 1 when there is a problem; `--json` for programs.
 */
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { chooseRunMode, loadConfig, parseArgs } from '../config/load.js';
import type { Config } from '../config/settings.js';
import { defaultStateDir } from '../state/stateDir.js';
import { JlabError, messageOf } from '../util/errors.js';
import { problem, type Check } from './doctorCheck.js';
import { checkJupyter, checkKernels } from './doctorJupyter.js';
import { checkNotebookDir, checkStateDir } from './doctorPlaces.js';
import { checkSweepRunner } from './doctorSweeps.js';
import { checkNode, checkSlurm } from './doctorSystem.js';
import { batchSettingsFromConfig } from '../backends/slurm/fromConfig.js';

export const DOCTOR_HELP = `Usage: jlab-mcp doctor [--json] [other jlab-mcp options]

Checks what jlab-mcp needs with the settings it would run with (the same environment and flags):
Node, the Jupyter server (or what the first start would install), its kernelspecs, the Slurm
commands, the notebook directory and the state directory. Prints each as ok or PROBLEM with the
fix. Exit code 1 when there is a problem. --json prints the same as JSON.`;

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the subcommand; resolves to the exit code. `argv` excludes the word `doctor`. */
export async function doctorCommand(argv: string[], io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const version = await packageVersion();
  const json = argv.includes('--json');
  const checks = await runChecks(
    argv.filter((arg) => arg !== '--json'),
    env,
    io,
  );
  if (!checks) return 0;
  const problems = checks.filter((check) => check.status === 'problem').length;
  io.out(json ? `${JSON.stringify({ ok: problems === 0, version, checks }, null, 2)}\n` : render(checks, version, problems));
  return problems ? 1 : 0;
}

/** Every check, in order; undefined when --help was asked. A bad setting is itself a problem (nothing else can be checked reliably). */
async function runChecks(argv: string[], env: NodeJS.ProcessEnv, io: Output): Promise<Check[] | undefined> {
  const checks: Check[] = [checkNode()];
  let config: Config;
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.out(`${DOCTOR_HELP}\n`);
      return undefined;
    }
    config = loadConfig(args, env);
  } catch (error) {
    const text = error instanceof JlabError ? error.message : messageOf(error);
    return [...checks, problem('settings', text, 'fix the setting named above (jlab-mcp --help lists them all)')];
  }
  const { mode, reason } = chooseRunMode(config, env.PATH ?? '');
  checks.push({ name: 'run mode', status: 'ok', detail: `${mode} (${reason})` });
  const jupyter = await checkJupyter(config, mode, env);
  checks.push(jupyter.check);
  if (mode === 'local') checks.push(await checkKernels(jupyter.command, config, env));
  checks.push(await checkSlurm(mode, env));
  if (mode === 'slurm') checks.push(await checkSweepRunner(batchSettingsFromConfig(config), env));
  const notebookDir = await realpath(config.notebookDir).catch(() => config.notebookDir);
  checks.push(await checkNotebookDir(notebookDir));
  checks.push(await checkStateDir(config.stateDir ? path.resolve(config.stateDir) : defaultStateDir(notebookDir, env)));
  return checks;
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}');
  return (JSON.parse(text) as { version?: string }).version ?? '';
}

const LABEL = { ok: 'ok', problem: 'PROBLEM', note: 'note' } as const;

function render(checks: Check[], version: string, problems: number): string {
  const lines = [`jlab-mcp doctor${version ? ` (${version})` : ''}`];
  for (const check of checks) {
    lines.push(`  ${LABEL[check.status].padEnd(8)} ${check.name.padEnd(18)} ${check.detail}`);
    if (check.fix && check.status !== 'ok') lines.push(`  ${''.padEnd(8)} ${''.padEnd(18)} fix: ${check.fix}`);
  }
  lines.push(problems ? `${problems} problem(s) found.` : 'No problems found.');
  return `${lines.join('\n')}\n`;
}
