import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { readRegistry } from '../state/registry.js';
import { messageOf } from '../util/errors.js';
import { note, ok, problem, type Check } from './doctorCheck.js';

/** The notebook directory: exists (or can be made) and takes a new file. */
export async function checkNotebookDir(dir: string): Promise<Check> {
  const name = 'notebook directory';
  const info = await stat(dir).catch(() => undefined);
  if (!info) return creatable(name, dir, `mkdir -p ${dir}, or set JLAB_MCP_NOTEBOOK_DIR to a directory you can write`);
  if (!info.isDirectory()) return problem(name, `${dir} is not a directory`, 'set JLAB_MCP_NOTEBOOK_DIR (or --notebook-dir) to a directory');
  const why = await cannotWrite(dir);
  return why
    ? problem(name, `${dir} is not writable (${why})`, `chmod u+w ${dir}, or set JLAB_MCP_NOTEBOOK_DIR to a directory you can write`)
    : ok(name, `${dir} (writable)`);
}

/** The state directory: 0700, writable, its registry readable. */
export async function checkStateDir(dir: string): Promise<Check> {
  const name = 'state directory';
  const info = await stat(dir).catch(() => undefined);
  if (!info) return creatable(name, dir, `mkdir -p -m 700 ${dir}, or set JLAB_MCP_STATE_DIR`);
  if (!info.isDirectory()) return problem(name, `${dir} is not a directory`, `remove it, or set JLAB_MCP_STATE_DIR elsewhere`);
  const mode = info.mode & 0o777;
  if (mode & 0o077) return problem(name, `${dir} has mode ${mode.toString(8)}: others can read which files hold kernel tokens`, `chmod 700 ${dir}`);
  const why = await cannotWrite(dir);
  if (why) return problem(name, `${dir} is not writable (${why}): sessions will not outlive jlab-mcp`, `chmod u+w ${dir}, or set JLAB_MCP_STATE_DIR`);
  const registryFile = path.join(dir, 'registry.json');
  const exists = await stat(registryFile).then(
    () => true,
    () => false,
  );
  if (!exists) return ok(name, `${dir} (0700, writable, no sessions recorded yet)`);
  const registry = await readRegistry(dir);
  if (!registry)
    return problem(
      name,
      `${registryFile} cannot be read as a session registry`,
      `move it away (mv ${registryFile} ${registryFile}.bad); jlab-mcp starts a new one`,
    );
  const servers = Object.keys(registry.servers ?? {}).length;
  return ok(name, `${dir} (0700, writable, registry: ${servers} server(s) recorded)`);
}

/** A directory that does not exist yet: fine when its nearest existing parent takes it. */
async function creatable(name: string, dir: string, fix: string): Promise<Check> {
  let parent = path.dirname(dir);
  let info: Stats | undefined;
  while (!(info = await stat(parent).catch(() => undefined))) parent = path.dirname(parent);
  if (!info.isDirectory()) return problem(name, `${dir} cannot be made: ${parent} is a file, not a directory`, fix);
  const why = await cannotWrite(parent);
  return why ? problem(name, `${dir} does not exist and ${parent} is not writable (${why})`, fix) : note(name, `${dir} does not exist yet; jlab-mcp makes it`);
}

/** Why a new file cannot be made in `dir` (tried for real: access() says yes to root on a read-only mount); undefined when it can. */
async function cannotWrite(dir: string): Promise<string | undefined> {
  try {
    await access(dir, constants.W_OK | constants.X_OK);
    const probe = await mkdtemp(path.join(dir, '.jlab-mcp-doctor-'));
    await rm(probe, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? messageOf(error);
  }
}
