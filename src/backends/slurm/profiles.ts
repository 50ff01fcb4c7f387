/**
 * Named SLURM profiles (e.g. `gpu`, `cpu`) from a JSON file, each a set of job settings laid
 * over the ones from the environment/flags. Pure parsing and validation here; the file is read
 * by `loadSlurmProfiles`.
 *
 *   {
 *     "default": "cpu",
 *     "profiles": {
 *       "gpu": { "partition": "gpu", "gres": "gpu:1", "cpus": 8, "mem": "64G", "time": "8:00:00",
 *                "modules": "cuda/12.2", "setup": "source ~/venvs/ml/bin/activate" },
 *       "cpu": { "partition": "cpu", "gres": "", "cpus": 4 }
 *     }
 *   }
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { expandHome } from '../../config/paths.js';
import { JlabError } from '../../util/errors.js';
import { splitWords } from '../../util/shell.js';
import { batchSettingsProblems, type BatchSettings } from './batchScript.js';

const PROFILE_NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;

const words = z.union([z.string(), z.array(z.string())]);

const ProfileSchema = z.strictObject({
  partition: z.string().optional(),
  gres: z.string().optional(),
  cpus: z.number().int().positive().optional(),
  mem: z.string().optional(),
  time: z.string().optional(),
  modules: words.optional(),
  account: z.string().optional(),
  qos: z.string().optional(),
  constraint: z.string().optional(),
  extra_args: words.optional(),
  setup: z.string().optional(),
  jupyter_cmd: words.optional(),
});

const FileSchema = z.strictObject({
  default: z.string().optional(),
  profiles: z.record(z.string(), ProfileSchema),
});

export type ProfileFileEntry = z.infer<typeof ProfileSchema>;

export interface SlurmProfiles {
  /** Settings per profile name, each already validated. */
  profiles: Map<string, BatchSettings>;
  /** The profile used when a session names none (the file's "default", else the first). */
  defaultProfile: string;
}

const optional = (value: string | undefined) => (value === '' ? undefined : value);

/** One profile over the base settings: keys present in the profile win ("" clears a value). */
export function applyProfile(base: BatchSettings, entry: ProfileFileEntry, name: string): BatchSettings {
  const list = (value: string | string[], split: (s: string) => string[]) => (Array.isArray(value) ? value : split(value));
  const out: BatchSettings = { ...base, jobName: `jlab-mcp-${name}` };
  if (entry.partition !== undefined) out.partition = optional(entry.partition);
  if (entry.gres !== undefined) out.gres = optional(entry.gres);
  if (entry.cpus !== undefined) out.cpus = entry.cpus;
  if (entry.mem !== undefined) out.mem = optional(entry.mem);
  if (entry.time !== undefined) out.time = optional(entry.time);
  if (entry.modules !== undefined) out.modules = list(entry.modules, (s) => s.split(/\s+/).filter(Boolean));
  if (entry.account !== undefined) out.account = optional(entry.account);
  if (entry.qos !== undefined) out.qos = optional(entry.qos);
  if (entry.constraint !== undefined) out.constraint = optional(entry.constraint);
  if (entry.extra_args !== undefined) out.extraArgs = list(entry.extra_args, (s) => splitWords(s, `profile ${name}: extra_args`));
  if (entry.setup !== undefined) out.setup = optional(entry.setup);
  if (entry.jupyter_cmd !== undefined) {
    // `~/venvs/ml/bin/jupyter` as in JLAB_MCP_SLURM_JUPYTER_CMD: the command never meets a shell that would expand it.
    const [program, ...rest] = list(entry.jupyter_cmd, (s) => splitWords(s, `profile ${name}: jupyter_cmd`));
    out.jupyterCommand = program === undefined ? [] : [expandHome(program, os.homedir(), `profile ${name}: jupyter_cmd`), ...rest];
  }
  return out;
}

/** Parses and validates a profiles file's text; throws CONFIG_INVALID naming every problem. */
export function parseSlurmProfiles(text: string, base: BatchSettings, source = 'the SLURM profiles file'): SlurmProfiles {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new JlabError('CONFIG_INVALID', `${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = FileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new JlabError('CONFIG_INVALID', `${source} is invalid: ${problems.join('; ')}`, {
      hint: 'Expected {"default": "<name>", "profiles": {"<name>": {"partition": …, "gres": …, "cpus": …, "mem": …, "time": …, "modules": …, "account": …, "qos": …, "constraint": …, "extra_args": …, "setup": …, "jupyter_cmd": …}}}.',
    });
  }
  const problems: string[] = [];
  const profiles = new Map<string, BatchSettings>();
  for (const [name, entry] of Object.entries(parsed.data.profiles)) {
    if (!PROFILE_NAME_RE.test(name)) {
      problems.push(`profile name ${JSON.stringify(name)} must be 1-32 letters, digits, _ . -`);
      continue;
    }
    const settings = applyProfile(base, entry, name);
    for (const problem of batchSettingsProblems(settings)) {
      problems.push(`profile ${name}: ${problem.replace(/^JLAB_MCP_SLURM_([A-Z_]+)/, (_, key: string) => key.toLowerCase())}`);
    }
    profiles.set(name, settings);
  }
  if (profiles.size === 0 && problems.length === 0) problems.push('no profiles defined');
  const defaultProfile = parsed.data.default ?? [...profiles.keys()][0] ?? '';
  if (parsed.data.default !== undefined && !parsed.data.profiles[parsed.data.default])
    problems.push(`default profile ${JSON.stringify(parsed.data.default)} is not defined`);
  if (problems.length > 0) throw new JlabError('CONFIG_INVALID', `${source} is invalid: ${problems.join('; ')}`);
  return { profiles, defaultProfile };
}

export async function loadSlurmProfiles(file: string, base: BatchSettings): Promise<SlurmProfiles> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new JlabError('CONFIG_INVALID', `Cannot read the SLURM profiles file ${file}: ${(error as Error).message}`);
  }
  return parseSlurmProfiles(text, base, `The SLURM profiles file ${file}`);
}
