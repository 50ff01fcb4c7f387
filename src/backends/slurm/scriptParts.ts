/**
 * Parts of the job's batch script, apart so they can be run alone in tests and shared with the
 * sweep array job (src/sweeps/slurm): the resource lines, the environment (modules, setup),
 * JupyterLab in place of jupyter-server when it is installed, and HTTPS with a certificate made
 * in the job. The last two run after `JUPYTER` (argv array), `ARGS`, `JOB_DIR`, `NODE_HOST` and `say` exist, and
 * set `APP` (lab | server), `SCHEME` (https | http), `CERT_FP` and `TLS_STATE` for the
 * connection file. Pure: they return lines.
 */
import { quoteWord } from '../../util/shell.js';
import type { BatchSettings } from './batchScript.js';

/** The `#SBATCH` resource lines (partition, account, QOS, one node and task, CPUs, memory, GRES, constraint, time) of validated settings. */
export function resourceLines(s: BatchSettings): string[] {
  const lines: string[] = [];
  if (s.partition) lines.push(`#SBATCH --partition=${s.partition}`);
  if (s.account) lines.push(`#SBATCH --account=${s.account}`);
  if (s.qos) lines.push(`#SBATCH --qos=${s.qos}`);
  lines.push('#SBATCH --nodes=1', '#SBATCH --ntasks=1');
  if (s.cpus !== undefined) lines.push(`#SBATCH --cpus-per-task=${s.cpus}`);
  if (s.mem) lines.push(`#SBATCH --mem=${s.mem}`);
  if (s.gres) lines.push(`#SBATCH --gres=${s.gres}`);
  if (s.constraint) lines.push(`#SBATCH --constraint=${s.constraint}`);
  if (s.time) lines.push(`#SBATCH --time=${s.time}`);
  return lines;
}

/** Module loads and the user's setup shell of validated settings; they run after `say` exists. */
export function environmentLines(s: BatchSettings): string[] {
  const q = quoteWord;
  const lines: string[] = [];
  if (s.modules && s.modules.length > 0) {
    lines.push(
      '',
      '# Environment modules (JLAB_MCP_SLURM_MODULES).',
      'if ! command -v module >/dev/null 2>&1; then',
      '  for f in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash /usr/share/modules/init/bash; do',
      '    if [ -r "$f" ]; then . "$f"; break; fi',
      '  done',
      'fi',
    );
    for (const mod of s.modules) lines.push(`module load ${q(mod)} || { say ${q(`module load ${mod} failed`)}; exit 1; }`);
  }
  if (s.setup && s.setup.trim() !== '') {
    lines.push('', '# Environment setup (JLAB_MCP_SLURM_SETUP, verbatim from the user configuration).', 'set +u', s.setup, 'set -u');
  }
  return lines;
}

/** Files of the job's certificate, in the 0700 job directory. */
export const TLS_KEY_FILE = 'tls.key';
export const TLS_CERT_FILE = 'tls.crt';

/**
 * What the connection file's `tls` says: on; off (JLAB_MCP_SLURM_TLS=false); no-openssl or
 * openssl-failed (wanted, but the job serves plain HTTP).
 */
export type TlsState = 'on' | 'off' | 'no-openssl' | 'openssl-failed';

/**
 * JupyterLab (3 or later: a jupyter-server extension that takes the same --ServerApp flags and
 * --config) when `jupyter-lab` sits next to the configured jupyter-server / `jupyter server`;
 * otherwise the command stays. A custom command is left alone (set it to `jupyter lab` to ask).
 * @param enabled JLAB_MCP_JUPYTERLAB; false renders `APP=server` only.
 */
export function jupyterLabLines(enabled: boolean): string[] {
  if (!enabled) return ['APP=server'];
  return [
    '# JupyterLab when installed next to the Jupyter command (JLAB_MCP_JUPYTERLAB): the same flags,',
    '# and a person who looks in (jlab-mcp connect) gets the full UI. Only 3 or later, which runs on jupyter-server.',
    'APP=server',
    'case "${#JUPYTER[@]} ${JUPYTER[0]##*/} ${JUPYTER[1]:-}" in',
    '  "1 jupyter-server "|"2 jupyter server")',
    '    LAB="$(dirname "$(command -v "${JUPYTER[0]}")")/jupyter-lab"',
    '    if [ -x "$LAB" ]; then',
    '      LAB_VERSION=$(timeout 60 "$LAB" --version 2>/dev/null | head -n 1)',
    '      case "$LAB_VERSION" in',
    '        [3-9].*|[1-9][0-9]*.*) JUPYTER=("$LAB"); APP=lab; ARGS+=(--LabApp.open_browser=False) ;;',
    '        *) say "JupyterLab at $LAB (version ${LAB_VERSION:-unknown}) is older than 3 or does not answer: starting ${JUPYTER[*]}" ;;',
    '      esac',
    '    fi',
    '    ;;',
    'esac',
  ];
}

/**
 * HTTPS: a self-signed certificate for this node (CN and SAN its host name; RSA 2048 for old
 * OpenSSLs; a second try without -addext and with a short CN for OpenSSL 1.0 and long host
 * names), key 0600 in the job directory, given to Jupyter with --ServerApp.certfile/keyfile.
 * Its SHA-256 fingerprint goes into the connection file; jlab-mcp pins it. Without openssl the
 * job serves plain HTTP and says so (jlab-mcp warns too).
 * @param enabled JLAB_MCP_SLURM_TLS; false renders plain HTTP without a warning.
 */
export function tlsLines(enabled: boolean): string[] {
  if (!enabled) return ['SCHEME=http', 'CERT_FP=', 'TLS_STATE=off'];
  const key = `"$JOB_DIR/${TLS_KEY_FILE}"`;
  const cert = `"$JOB_DIR/${TLS_CERT_FILE}"`;
  return [
    '# HTTPS (JLAB_MCP_SLURM_TLS): a certificate made here; jlab-mcp pins its fingerprint, so the token',
    '# never crosses the network in clear.',
    'SCHEME=http',
    'CERT_FP=',
    'TLS_STATE=no-openssl',
    'if command -v openssl >/dev/null 2>&1; then',
    '  TLS_STATE=openssl-failed',
    `  rm -f ${key} ${cert}`,
    `  if openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$NODE_HOST" -addext "subjectAltName=DNS:$NODE_HOST" -keyout ${key} -out ${cert} >/dev/null 2>&1 ||`,
    `    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=jlab-mcp" -keyout ${key} -out ${cert} >/dev/null 2>&1; then`,
    `    chmod 600 ${key}`,
    `    CERT_FP=$(openssl x509 -in ${cert} -noout -fingerprint -sha256 2>/dev/null | sed 's/^[^=]*=//')`,
    '  fi',
    '  case "$CERT_FP" in',
    `    ??:*) SCHEME=https; TLS_STATE=on; ARGS+=("--ServerApp.certfile=$JOB_DIR/${TLS_CERT_FILE}" "--ServerApp.keyfile=$JOB_DIR/${TLS_KEY_FILE}") ;;`,
    '    *) CERT_FP=; say "WARNING: openssl could not make a certificate on $NODE_HOST: Jupyter serves plain HTTP, its token crosses the network in clear" ;;',
    '  esac',
    'else',
    '  say "WARNING: no openssl on $NODE_HOST: Jupyter serves plain HTTP, its token crosses the network in clear"',
    'fi',
  ];
}
