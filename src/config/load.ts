import { readFileSync } from 'node:fs';
import path from 'node:path';
import { JlabError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { which } from '../util/which.js';
import { ConfigSchema, SETTINGS, type Config, type SettingKey } from './settings.js';

export interface ParsedArgs {
  values: Partial<Record<SettingKey, string>>;
  help: boolean;
  version: boolean;
}

/** Parses `--flag value` and `--flag=value`; unknown flags are an error, not a silent ignore. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const byFlag = new Map<string, SettingKey>();
  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, { flag?: string }][]) {
    if (spec.flag) byFlag.set(spec.flag, key);
  }
  const result: ParsedArgs = { values: {}, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') result.help = true;
    else if (arg === '--version' || arg === '-v') result.version = true;
    else {
      const eq = arg.indexOf('=');
      const flag = eq > 0 ? arg.slice(0, eq) : arg;
      const key = byFlag.get(flag);
      if (!key) throw new JlabError('CONFIG_INVALID', `Unknown option ${flag}. Run jlab-mcp --help.`);
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new JlabError('CONFIG_INVALID', `Option ${flag} needs a value.`);
      result.values[key] = value;
    }
  }
  return result;
}

/** Flags over env over defaults, validated by the one schema. */
export function loadConfig(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw: Record<string, string | undefined> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, { env: string }][]) {
    const fromEnv = env[spec.env];
    raw[key] = args.values[key] ?? (fromEnv === '' ? undefined : fromEnv);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]) as SettingKey;
      const spec = SETTINGS[key];
      return `${spec?.env ?? key}: ${issue.message}`;
    });
    throw new JlabError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  config.notebookDir = path.resolve(cwd, config.notebookDir);
  if (!config.jupyterToken && config.jupyterTokenFile) {
    config.jupyterToken = readFileSync(path.resolve(cwd, config.jupyterTokenFile), 'utf8').split('\n')[0]!.trim();
  }
  registerSecret(config.jupyterToken);
  if (config.runMode === 'external' && !config.jupyterUrl) {
    throw new JlabError('CONFIG_INVALID', 'JLAB_MCP_RUN_MODE=external needs JLAB_MCP_JUPYTER_URL (and usually JLAB_MCP_JUPYTER_TOKEN).');
  }
  return config;
}

export type RunMode = 'local' | 'external' | 'slurm';

/** Effective run mode and the reason it was chosen (shown in the status resource). */
export function chooseRunMode(config: Config, envPath = process.env.PATH ?? ''): { mode: RunMode; reason: string } {
  if (config.runMode) return { mode: config.runMode, reason: 'set by JLAB_MCP_RUN_MODE / --run-mode' };
  if (config.jupyterUrl) return { mode: 'external', reason: 'JLAB_MCP_JUPYTER_URL is set' };
  const sbatch = which('sbatch', envPath);
  if (sbatch) return { mode: 'slurm', reason: `default: sbatch found on PATH (${sbatch}) and no JLAB_MCP_JUPYTER_URL; set JLAB_MCP_RUN_MODE=local to run Jupyter here instead` };
  return { mode: 'local', reason: 'default: no JLAB_MCP_JUPYTER_URL and no sbatch on PATH' };
}

export function helpText(version: string): string {
  const lines = [
    `jlab-mcp ${version} — MCP server (stdio) that runs code in Jupyter kernels and records notebooks.`,
    '',
    'Usage: jlab-mcp [options]          serve MCP over stdio (every option also has an environment variable)',
    '       jlab-mcp connect [options]  print how to open the running Jupyter in a browser (see jlab-mcp connect --help)',
    '',
  ];
  for (const spec of Object.values(SETTINGS) as { env: string; flag?: string; help: string; schema: { def?: unknown } }[]) {
    const name = spec.flag ? `${spec.flag} <value>` : '(env only)';
    lines.push(`  ${name.padEnd(30)} ${spec.env}`);
    lines.push(`      ${spec.help}`);
  }
  lines.push('  --help, --version');
  return lines.join('\n');
}
