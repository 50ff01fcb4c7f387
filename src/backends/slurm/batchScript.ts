/**
 * Renders the batch script (and sbatch's arguments) of the job that hosts Jupyter. Pure: no
 * I/O. Every value from the settings is validated against a narrow pattern and, when it
 * reaches a shell line, single-quoted. The one exception is `setup`, which is shell the user
 * wrote in their own configuration (a venv or conda activation) and goes in verbatim; it never
 * comes from the agent.
 */
import { JlabError } from '../../util/errors.js';
import { quoteWord } from '../../util/shell.js';
import { cullingArgs } from '../culling.js';
import { environmentLines, jupyterLabLines, resourceLines, tlsLines } from './scriptParts.js';

export interface BatchSettings {
  partition?: string;
  /** Empty or undefined: no --gres line (a CPU-only job). */
  gres?: string;
  cpus?: number;
  mem?: string;
  time?: string;
  modules?: string[];
  account?: string;
  qos?: string;
  constraint?: string;
  /** Extra sbatch options, one argv word each; passed to sbatch as arguments, never via a shell. */
  extraArgs?: string[];
  /** Shell run before Jupyter starts, verbatim (from the user's configuration only). */
  setup?: string;
  /** The Jupyter command as argv words, e.g. ['jupyter-server'] or ['jupyter', 'server']. */
  jupyterCommand: string[];
  /** Prefix of the job name (a profile's `jlab-mcp-<profile>`); default `jlab-mcp`. */
  jobName?: string;
  /** HTTPS with a certificate made in the job (JLAB_MCP_SLURM_TLS); default true. */
  tls?: boolean;
  /** JupyterLab instead of jupyter-server when installed next to it (JLAB_MCP_JUPYTERLAB); default true. */
  jupyterLab?: boolean;
}

export interface BatchPaths {
  /** The job's 0700 directory on the shared filesystem; the job's working directory. */
  jobDir: string;
  /** Jupyter config (token loader, TCP_NODELAY). */
  configFile: string;
  /** 0600 file holding the token; its path (not the token) is exported inside the script. */
  tokenFile: string;
  /** Where the job writes {"host", "port"} once Jupyter is started (atomically). */
  connectionFile: string;
  /** Touched by jlab-mcp; the job stops itself when it goes stale. */
  heartbeatFile: string;
  /** The job's stdout+stderr (sbatch --output; `%j` is the job id). */
  logFile: string;
  /** Jupyter's root_dir: the notebook directory. */
  rootDir: string;
}

export interface BatchTiming {
  /**
   * Seconds without a heartbeat after which the job stops Jupyter and exits, unless a kernel is
   * busy (a running cell is never killed because jlab-mcp went away; the walltime still applies).
   */
  heartbeatTimeoutS: number;
  /** Jupyter's own culling (cullingArgs): idle kernels, then the server, end after this many seconds. */
  idleTimeoutS?: number;
  /** Slurm sends USR1 to the batch shell this many seconds before the walltime (sbatch --signal=B:USR1@N). */
  signalLeadS?: number;
}

/** Touched in the job directory when Slurm's walltime signal (USR1) arrives; jlab-mcp looks for it. */
export const WALLTIME_SIGNAL_FILE = 'walltime-signal';

export interface RenderedBatch {
  script: string;
  /** sbatch arguments that precede the script path (no secrets in them). */
  sbatchArgs: string[];
  /**
   * The job's name, `<jobName>-<tag>`: unique, so the job can be found (squeue --name) and
   * cancelled even when sbatch's answer with its id was never read.
   */
  jobName: string;
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const GRES_RE = /^[A-Za-z0-9_:.,=/-]+$/;
const TIME_RE = /^\d+(-\d+)?(:\d+){0,2}$/;
const MEM_RE = /^\d+[KMGTkmgt]?$/;
const CONSTRAINT_RE = /^[A-Za-z0-9_.,:&|!*()[\]-]+$/;
const MODULE_RE = /^[A-Za-z0-9_.+/@:=-]+$/;
const JOB_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** A job tag: lowercase hex, 8–32 digits (e.g. 8 random bytes). */
export const JOB_TAG_RE = /^[0-9a-f]{8,32}$/;

/** Every problem with the settings, as "JLAB_MCP_… : why" lines; [] when they are fine. */
export function batchSettingsProblems(s: BatchSettings): string[] {
  const problems: string[] = [];
  const check = (env: string, value: string | undefined, re: RegExp, what: string) => {
    if (value !== undefined && value !== '' && !re.test(value)) problems.push(`${env}=${JSON.stringify(value)} is not ${what}`);
  };
  check('JLAB_MCP_SLURM_PARTITION', s.partition, NAME_RE, 'a partition name (letters, digits, _ . -)');
  check('JLAB_MCP_SLURM_ACCOUNT', s.account, NAME_RE, 'an account name (letters, digits, _ . -)');
  check('JLAB_MCP_SLURM_QOS', s.qos, NAME_RE, 'a QOS name (letters, digits, _ . -)');
  check('JLAB_MCP_SLURM_GRES', s.gres, GRES_RE, 'a gres list such as gpu:1 or gpu:a100:2');
  check('JLAB_MCP_SLURM_TIME', s.time, TIME_RE, 'a time limit (minutes, H:MM:SS, D-HH or D-HH:MM:SS)');
  check('JLAB_MCP_SLURM_MEM', s.mem, MEM_RE, 'a memory size such as 16000 or 32G');
  check('JLAB_MCP_SLURM_CONSTRAINT', s.constraint, CONSTRAINT_RE, 'a node feature expression without spaces');
  if (s.cpus !== undefined && !(Number.isInteger(s.cpus) && s.cpus > 0)) problems.push(`JLAB_MCP_SLURM_CPUS=${s.cpus} is not a positive integer`);
  for (const mod of s.modules ?? []) check('JLAB_MCP_SLURM_MODULES', mod, MODULE_RE, 'a module name such as cuda/12.2');
  for (const arg of s.extraArgs ?? []) {
    if (!arg.startsWith('-') || /[\n\r\0]/.test(arg))
      problems.push(`JLAB_MCP_SLURM_EXTRA_ARGS: ${JSON.stringify(arg)} is not an sbatch option (each word must start with -)`);
    // The job name is how a job whose id was never read back is found: it must stay ours.
    else if (/^--(wrap|parsable|output|error|chdir|job-name)(=|$)/.test(arg) || /^-[oeDJ]/.test(arg)) {
      problems.push(`JLAB_MCP_SLURM_EXTRA_ARGS: ${JSON.stringify(arg)} is set by jlab-mcp itself`);
    }
  }
  if (s.setup?.includes('\0')) problems.push('JLAB_MCP_SLURM_SETUP contains a NUL byte');
  if (s.jupyterCommand.length === 0) problems.push('JLAB_MCP_SLURM_JUPYTER_CMD is empty');
  check('job name', s.jobName, JOB_NAME_RE, 'a job name');
  return problems;
}

/** Throws CONFIG_INVALID naming every bad value. */
export function validateBatchSettings(s: BatchSettings): void {
  const problems = batchSettingsProblems(s);
  if (problems.length > 0) {
    throw new JlabError('CONFIG_INVALID', `Invalid SLURM settings: ${problems.join('; ')}`, {
      hint: 'Fix these settings in the MCP server configuration and restart jlab-mcp.',
    });
  }
}

function checkPath(what: string, p: string): void {
  if (!p.startsWith('/')) throw new JlabError('CONFIG_INVALID', `The ${what} path must be absolute: ${JSON.stringify(p)}`);
  if (/[\n\r\0]/.test(p)) throw new JlabError('CONFIG_INVALID', `The ${what} path contains a line break: ${JSON.stringify(p)}`);
}

/**
 * The script and the sbatch arguments. Resource options are `#SBATCH` lines (validated values
 * without spaces or quotes); paths go to sbatch as argv words (no shell, any characters but `%`,
 * which sbatch expands in --output).
 * @param tag this job's unique tag (JOB_TAG_RE); it ends the job name.
 */
export function renderBatchScript(s: BatchSettings, paths: BatchPaths, timing: BatchTiming, tag: string): RenderedBatch {
  validateBatchSettings(s);
  if (!JOB_TAG_RE.test(tag)) throw new JlabError('INTERNAL', `Not a job tag: ${JSON.stringify(tag)}`);
  for (const [what, p] of Object.entries(paths)) checkPath(what, p);
  if (paths.jobDir.includes('%')) throw new JlabError('CONFIG_INVALID', `The SLURM state directory may not contain '%' (sbatch expands it): ${paths.jobDir}`);
  const timeout = Math.floor(timing.heartbeatTimeoutS);
  if (!(timeout >= 6)) throw new JlabError('CONFIG_INVALID', `JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT must be at least 6 s (got ${timing.heartbeatTimeoutS}).`);
  // The watchdog looks often enough that a stale heartbeat is acted on within ~1/5 of the timeout.
  const checkEvery = Math.max(1, Math.min(30, Math.floor(timeout / 5)));

  const jobName = `${s.jobName ?? 'jlab-mcp'}-${tag}`;
  const sbatchLines = [`#SBATCH --job-name=${jobName}`, ...resourceLines(s)];
  const lead = timing.signalLeadS === undefined ? undefined : Math.floor(timing.signalLeadS);
  if (lead !== undefined) {
    if (!(lead >= 1 && lead <= 65_535)) throw new JlabError('CONFIG_INVALID', `The walltime signal lead must be 1-65535 s (got ${timing.signalLeadS}).`);
    sbatchLines.push(`#SBATCH --signal=B:USR1@${lead}`);
  }

  const q = quoteWord;
  const lines: string[] = [
    '#!/bin/bash',
    '# Written by jlab-mcp: hosts one Jupyter server for the MCP server on the login node.',
    ...sbatchLines,
    '',
    'set -u',
    'umask 077',
    `JOB_DIR=${q(paths.jobDir)}`,
    `CONN_FILE=${q(paths.connectionFile)}`,
    `HEARTBEAT_FILE=${q(paths.heartbeatFile)}`,
    `HEARTBEAT_TIMEOUT=${timeout}`,
    `HEARTBEAT_CHECK=${checkEvery}`,
    `TOKEN_FILE=${q(paths.tokenFile)}`,
    'JUPYTER_PID=',
    '',
    'say() { printf \'jlab-mcp job: %s\\n\' "$*" >&2; }',
    'stop_jupyter() {',
    '  [ -n "$JUPYTER_PID" ] || return 0',
    '  kill -TERM "$JUPYTER_PID" 2>/dev/null || return 0',
    '  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$JUPYTER_PID" 2>/dev/null || return 0; sleep 1; done',
    '  kill -KILL "$JUPYTER_PID" 2>/dev/null || true',
    '}',
    'cleanup() { rm -f "$CONN_FILE" "$CONN_FILE.tmp"; stop_jupyter; }',
    'trap \'say "got SIGTERM: stopping Jupyter"; trap - TERM INT EXIT; cleanup; exit 143\' TERM',
    "trap 'trap - TERM INT EXIT; cleanup; exit 130' INT",
    'trap cleanup EXIT',
    "# Slurm's walltime warning (--signal=B:USR1@lead): recorded for jlab-mcp, Jupyter goes on.",
    `trap 'say "got USR1: the walltime ends soon"; : > "$JOB_DIR/${WALLTIME_SIGNAL_FILE}"' USR1`,
    '',
    'cd "$JOB_DIR" || { say "cannot cd to $JOB_DIR (is it on a filesystem the compute node shares?)"; exit 1; }',
  ];
  lines.push(...environmentLines(s));
  lines.push(
    '',
    'NODE_HOST=$(hostname)',
    'PY=',
    'for py in python3 /usr/bin/python3 python; do command -v "$py" >/dev/null 2>&1 && { PY=$py; break; }; done',
    '[ -n "$PY" ] || { say "no python found on the node (needed to pick a free port)"; exit 1; }',
    '',
    `JUPYTER=(${s.jupyterCommand.map(q).join(' ')})`,
    'command -v "${JUPYTER[0]}" >/dev/null 2>&1 || { say "Jupyter command not found on the node: ${JUPYTER[0]} (set JLAB_MCP_SLURM_JUPYTER_CMD, JLAB_MCP_SLURM_MODULES or JLAB_MCP_SLURM_SETUP)"; exit 127; }',
    'ARGS=(',
    `  --config=${q(paths.configFile)}`,
    '  "--ServerApp.ip=$NODE_HOST"',
    '  --ServerApp.port_retries=0',
    '  --ServerApp.allow_remote_access=True',
    '  --ServerApp.open_browser=False',
    `  --ServerApp.root_dir=${q(paths.rootDir)}`,
    ...(timing.idleTimeoutS === undefined ? [] : cullingArgs(Math.floor(timing.idleTimeoutS)).map((arg) => `  ${arg}`)),
    ')',
    '[ "$(id -u)" = 0 ] && ARGS+=(--allow-root)',
    ...jupyterLabLines(s.jupyterLab !== false),
    ...tlsLines(s.tls !== false),
    '# The token is read from this 0600 file by our --config; the variable is removed before kernels start.',
    `export JLAB_MCP_TOKEN_FILE=${q(paths.tokenFile)}`,
    'export JUPYTER_RUNTIME_DIR="$JOB_DIR/runtime"',
    'export PYDEVD_DISABLE_FILE_VALIDATION=1',
    'unset JUPYTER_TOKEN',
    '',
    '# A free port on this node, then Jupyter on it with port_retries=0 (it fails rather than',
    '# silently moving). If another process takes the port first, Jupyter exits before it',
    '# listens: pick another port, at most 3 times. The connection file is written only once',
    '# Jupyter accepts connections, so it always names the real port.',
    'LISTENING=',
    'for attempt in 1 2 3; do',
    '  PORT=$("$PY" -c \'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1]); s.close()\')',
    '  say "starting ${JUPYTER[*]} on $NODE_HOST:$PORT (attempt $attempt)"',
    '  "${JUPYTER[@]}" "${ARGS[@]}" "--ServerApp.port=$PORT" &',
    '  JUPYTER_PID=$!',
    '  while kill -0 "$JUPYTER_PID" 2>/dev/null; do',
    '    if "$PY" -c \'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()\' "$NODE_HOST" "$PORT" 2>/dev/null; then LISTENING=1; break; fi',
    '    sleep 0.2',
    '  done',
    '  [ -n "$LISTENING" ] && break',
    '  wait "$JUPYTER_PID" 2>/dev/null; rc=$?',
    '  JUPYTER_PID=',
    '  say "Jupyter exited with code $rc before listening on port $PORT"',
    'done',
    'unset JLAB_MCP_TOKEN_FILE',
    '[ -n "$LISTENING" ] || { say "Jupyter did not start (3 attempts); see the lines above"; exit 1; }',
    '',
    '# The connection file, atomically (0600 by the umask).',
    'printf \'{"host": "%s", "port": %s, "pid": %s, "job_id": "%s", "scheme": "%s", "cert_fingerprint": "%s", "tls": "%s", "app": "%s"}\\n\' "$NODE_HOST" "$PORT" "$JUPYTER_PID" "${SLURM_JOB_ID:-}" "$SCHEME" "$CERT_FP" "$TLS_STATE" "$APP" > "$CONN_FILE.tmp" && mv -f "$CONN_FILE.tmp" "$CONN_FILE"',
    '',
    '# Whether Jupyter says a kernel is busy (token read from its 0600 file, never argv). Either',
    '# scheme: the check stays on this node and only asks; a server that does not answer counts',
    '# as not busy.',
    'kernels_busy() {',
    '  "$PY" - "$NODE_HOST" "$PORT" "$TOKEN_FILE" <<\'PYEOF\' 2>/dev/null',
    'import json, ssl, sys, urllib.request',
    'host, port, token_file = sys.argv[1], sys.argv[2], sys.argv[3]',
    'token = open(token_file).read().split()[0]',
    'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
    'for scheme in ("https", "http"):',
    '    try:',
    '        req = urllib.request.Request(f"{scheme}://{host}:{port}/api/kernels", headers={"Authorization": "token " + token})',
    '        kernels = json.load(urllib.request.urlopen(req, timeout=10, context=ctx))',
    '        sys.exit(0 if any(k.get("execution_state") == "busy" for k in kernels) else 1)',
    '    except SystemExit:',
    '        raise',
    '    except Exception:',
    '        pass',
    'sys.exit(1)',
    'PYEOF',
    '}',
    'BUSY_SAID=',
    '',
    '# Watchdog: stop when Jupyter exits or when jlab-mcp stops touching the heartbeat file (and no kernel is busy).',
    'while kill -0 "$JUPYTER_PID" 2>/dev/null; do',
    '  sleep "$HEARTBEAT_CHECK" &',
    '  SLEEP_PID=$!',
    '  wait -n 2>/dev/null || true  # returns when Jupyter exits, the sleep ends, or a signal arrives',
    '  kill "$SLEEP_PID" 2>/dev/null || true',
    '  last=$(stat -c %Y "$HEARTBEAT_FILE" 2>/dev/null || echo 0)',
    '  now=$(date +%s)',
    '  if [ $((now - last)) -gt "$HEARTBEAT_TIMEOUT" ] && kernels_busy; then',
    '    [ -n "$BUSY_SAID" ] || say "no heartbeat from jlab-mcp for $((now - last)) s, but a kernel is busy: Jupyter goes on (it ends after its cell, by its idle culling, or at the walltime)"',
    '    BUSY_SAID=1',
    '  elif [ $((now - last)) -gt "$HEARTBEAT_TIMEOUT" ]; then',
    '    say "no heartbeat from jlab-mcp for $((now - last)) s (limit $HEARTBEAT_TIMEOUT s): stopping Jupyter and ending the job"',
    '    cleanup',
    '    exit 0',
    '  fi',
    'done',
    'wait "$JUPYTER_PID" 2>/dev/null',
    'rc=$?',
    'JUPYTER_PID=',
    'say "Jupyter exited with code $rc"',
    'exit "$rc"',
    '',
  );

  // The name again on the command line, which beats any #SBATCH line and SBATCH_JOB_NAME.
  const sbatchArgs = ['--parsable', `--job-name=${jobName}`, `--output=${paths.logFile}`, `--chdir=${paths.jobDir}`, ...(s.extraArgs ?? [])];
  return { script: lines.join('\n'), sbatchArgs, jobName };
}
