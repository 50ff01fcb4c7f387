/**
 * `jlab-mcp connect`: for the user's terminal, not the agent. Reads the session registry of the
 * state directory (the same settings and flags as the server pick it; lock-free, so it works
 * while jlab-mcp runs), asks each recorded server whether it answers, and prints how to open the
 * live ones in a browser. Exit code 0 when at least one answers, 1 when none does.
 */
import { readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConnection } from '../backends/slurm/jobFiles.js';
import { loadConfig, parseArgs } from '../config/load.js';
import { endpointFetch, type ServerEndpoint } from '../jupyter/endpoint.js';
import { normalizeFingerprint } from '../jupyter/pinnedTls.js';
import { JupyterRestClient } from '../jupyter/restClient.js';
import type { ServerRecord } from '../state/records.js';
import { readRegistry } from '../state/registry.js';
import { defaultStateDir } from '../state/stateDir.js';
import { messageOf } from '../util/errors.js';
import { connectJson, renderConnect, type ServerView } from './connectView.js';

/** How long each server may take to answer, in ms. */
const PROBE_TIMEOUT_MS = 5000;

export const CONNECT_HELP = `Usage: jlab-mcp connect [--json] [--state-dir DIR | --notebook-dir DIR] [other jlab-mcp options]

Prints how to open the Jupyter server(s) of a running (or kept) jlab-mcp in your browser: for a
SLURM job the ssh tunnel to run on your own computer and the URL with its token (HTTPS with a
self-signed certificate: compare the fingerprint it prints); for a local server the URL.
It reads the session registry of the state directory that the same settings give the server
(JLAB_MCP_STATE_DIR, else one per notebook directory), so run it with the same environment or
flags. --json prints the same as JSON. Exit code 1 when no server answers.`;

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the subcommand; resolves to the exit code. `argv` excludes the word `connect`. */
export async function connectCommand(argv: string[], io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = argv.includes('--json');
  const args = parseArgs(argv.filter((arg) => arg !== '--json'));
  if (args.help) {
    io.out(`${CONNECT_HELP}\n`);
    return 0;
  }
  const config = loadConfig(args, env);
  const notebookDir = await realpath(config.notebookDir).catch(() => config.notebookDir);
  const stateDir = config.stateDir ? path.resolve(config.stateDir) : defaultStateDir(notebookDir, env);
  const registry = await readRegistry(stateDir);
  const records = Object.values(registry?.servers ?? {});
  if (records.length === 0) {
    if (json) io.out(connectJson([], loginHost(), stateDir));
    io.err(
      `jlab-mcp connect: no Jupyter server is recorded in ${stateDir}${registry ? '' : ' (no session registry there)'}.\n` +
        'Is jlab-mcp running (or kept with JLAB_MCP_ON_EXIT=keep) for this notebook directory? Run connect with the same ' +
        'JLAB_MCP_NOTEBOOK_DIR / --notebook-dir or JLAB_MCP_STATE_DIR / --state-dir as the server.\n',
    );
    return 1;
  }
  const views = await Promise.all(records.map((record) => look(record)));
  io.out(json ? connectJson(views, loginHost(), stateDir) : renderConnect(views, loginHost(), stateDir));
  if (views.some((view) => view.live)) return 0;
  io.err(`jlab-mcp connect: none of the ${views.length} recorded server(s) answers (see above); start jlab-mcp and a session first.\n`);
  return 1;
}

/** Where the tunnel goes: this machine, as the user who runs connect. */
function loginHost(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/** One recorded server: its token and fingerprint from its files, whether it answers, whether JupyterLab serves it. */
async function look(record: ServerRecord): Promise<ServerView> {
  const view: ServerView = {
    profile: record.profile,
    backend: record.backend,
    baseUrl: record.baseUrl,
    live: false,
    jobId: record.backend === 'slurm' ? record.jobId : undefined,
    pid: record.backend === 'local' ? record.pid : undefined,
  };
  const tokenFile = record.backend === 'external' ? undefined : record.tokenFile;
  const token = tokenFile ? (await readFile(tokenFile, 'utf8').catch(() => '')).split('\n')[0]!.trim() : '';
  if (!token) {
    view.why = `its token file ${tokenFile ?? '(none recorded)'} cannot be read (the server was stopped, or run by another user)`;
    return view;
  }
  view.token = token;
  view.certFingerprint = normalizeFingerprint(record.certFingerprint) ?? (await jobFingerprint(record));
  if (record.baseUrl.startsWith('https:') && !view.certFingerprint) {
    view.why = 'it serves HTTPS but no certificate fingerprint is recorded to check it against';
    return view;
  }
  const endpoint: ServerEndpoint = { baseUrl: record.baseUrl, token, certFingerprint: view.certFingerprint, requestTimeoutMs: PROBE_TIMEOUT_MS };
  try {
    const probe = await new JupyterRestClient(endpoint).probeStatus(PROBE_TIMEOUT_MS);
    if (!probe.up) {
      view.why = probe.words;
      return view;
    }
  } catch (error) {
    view.why = messageOf(error);
    return view;
  }
  view.live = true;
  view.app = (await servesLab(endpoint)) ? 'lab' : 'server';
  return view;
}

/** The fingerprint in a SLURM job's connection file, for a record written without one. */
async function jobFingerprint(record: ServerRecord): Promise<string | undefined> {
  if (record.backend !== 'slurm') return undefined;
  try {
    return parseConnection(JSON.parse(await readFile(path.join(record.jobDir, 'connection.json'), 'utf8')))?.certFingerprint;
  } catch {
    return undefined;
  }
}

/** True when GET /lab answers 200: JupyterLab runs there (jupyter-server alone answers 404). */
async function servesLab(endpoint: ServerEndpoint): Promise<boolean> {
  try {
    const response = await endpointFetch(endpoint)(new URL('lab', endpoint.baseUrl), {
      headers: { Authorization: `token ${endpoint.token}` },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
