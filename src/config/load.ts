import { readFileSync } from 'node:fs';
import os from 'node:os';
import { JlabError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { which } from '../util/which.js';
import { expandCommandHome, resolveSettingPath } from './paths.js';
import { ConfigSchema, SETTINGS, type Config, type SettingKey, type SettingSpec } from './settings.js';

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
  resolvePaths(config, env.HOME || os.homedir(), cwd);
  if (!config.jupyterToken && config.jupyterTokenFile) {
    config.jupyterToken = readFileSync(config.jupyterTokenFile, 'utf8').split('\n')[0]!.trim();
  }
  registerSecret(config.jupyterToken);
  if (config.runMode === 'external' && !config.jupyterUrl) {
    throw new JlabError('CONFIG_INVALID', 'JLAB_MCP_RUN_MODE=external needs JLAB_MCP_JUPYTER_URL (and usually JLAB_MCP_JUPYTER_TOKEN).');
  }
  return config;
}

/** Every path setting becomes absolute with `~` expanded; so does a command's program path. */
function resolvePaths(config: Config, home: string, cwd: string): void {
  const paths = ['notebookDir', 'jupyterTokenFile', 'slurmStateDir', 'slurmProfiles', 'stateDir', 'httpTokenFile'] as const;
  for (const key of paths) {
    const value = config[key];
    if (value !== undefined) config[key] = resolveSettingPath(value, home, cwd, SETTINGS[key].env);
  }
  if (config.jupyterCommand) config.jupyterCommand = expandCommandHome(config.jupyterCommand, home, SETTINGS.jupyterCommand.env);
  config.slurmJupyterCommand = expandCommandHome(config.slurmJupyterCommand, home, SETTINGS.slurmJupyterCommand.env);
}

export type RunMode = 'local' | 'external' | 'slurm';

/** Effective run mode and the reason it was chosen (shown in the status resource). */
export function chooseRunMode(config: Config, envPath = process.env.PATH ?? ''): { mode: RunMode; reason: string } {
  if (config.runMode) return { mode: config.runMode, reason: 'set by JLAB_MCP_RUN_MODE / --run-mode' };
  if (config.jupyterUrl) return { mode: 'external', reason: 'JLAB_MCP_JUPYTER_URL is set' };
  if (config.defaultRunMode) {
    const other = config.defaultRunMode === 'local' ? 'slurm' : 'local';
    return {
      mode: config.defaultRunMode,
      reason: `the run command's default (JLAB_MCP_DEFAULT_RUN_MODE=${config.defaultRunMode}, set by scripts/run.sh); set JLAB_MCP_RUN_MODE=${other} for ${other === 'slurm' ? 'a batch job on a compute node' : 'Jupyter on this machine'}, or JLAB_MCP_JUPYTER_URL for a server you run`,
    };
  }
  const sbatch = which('sbatch', envPath);
  if (sbatch)
    return {
      mode: 'slurm',
      reason: `default: sbatch found on PATH (${sbatch}) and no JLAB_MCP_JUPYTER_URL; set JLAB_MCP_RUN_MODE=local to run Jupyter here instead`,
    };
  return { mode: 'local', reason: 'default: no JLAB_MCP_JUPYTER_URL and no sbatch on PATH' };
}

/**
 * The default `--help` names, read from the schema itself so it cannot drift; `unset` when there
 * is none, nothing when the help text explains a computed default ("Default: …").
 */
export function defaultShown(spec: SettingSpec): string | undefined {
  const parsed = spec.schema.safeParse(undefined);
  if (parsed.success && parsed.data !== undefined) return String(parsed.data);
  return /\bDefault: /.test(spec.help) ? undefined : 'unset';
}

export function helpText(version: string): string {
  const lines = [
    `jlab-mcp ${version} — MCP server (stdio) that runs code in Jupyter kernels and records notebooks.`,
    '',
    'Usage: jlab-mcp [options]          serve MCP over stdio (every option also has an environment variable)',
    '       jlab-mcp connect [options]  print how to open the running Jupyter in a browser (see jlab-mcp connect --help)',
    '       jlab-mcp doctor [--json]    check Jupyter, kernelspecs, Slurm, the notebook and state directories; print the fixes',
    '',
  ];
  for (const spec of Object.values(SETTINGS) as SettingSpec[]) {
    const name = spec.flag ? `${spec.flag} <value>` : '(env only)';
    const fallback = defaultShown(spec);
    lines.push(`  ${name.padEnd(30)} ${spec.env}${fallback === undefined ? '' : ` (default: ${fallback})`}`);
    lines.push(`      ${spec.help}`);
  }
  lines.push('  --help, --version');
  return lines.join('\n');
}
