/**
 * What `jlab-mcp connect` prints: for each live server, how a person opens it in a browser (the
 * ssh tunnel to a compute node, the URL with its token, the certificate fingerprint to compare).
 * Pure: views in, text or JSON out. The token is printed here and nowhere else: the user asked.
 */
import type { BackendKind } from '../backends/types.js';

/** One server of the registry, as `connect` found it. */
export interface ServerView {
  profile: string;
  backend: BackendKind;
  /** How jlab-mcp reaches it, e.g. `https://node12:8888/`. */
  baseUrl: string;
  /** True when /api/status answered 200 with its token. */
  live: boolean;
  /** Why it is not live, completing "not answering: …". */
  why?: string;
  token?: string;
  /** SHA-256 fingerprint of its self-signed certificate (https). */
  certFingerprint?: string;
  /** lab: JupyterLab answers /lab; server: jupyter-server alone. */
  app?: 'lab' | 'server';
  jobId?: string;
  pid?: number;
}

/** How to reach one server from a browser. */
export interface BrowserAccess {
  profile: string;
  backend: BackendKind;
  jobId?: string;
  node: string;
  port: number;
  app: 'lab' | 'server';
  /** The ssh tunnel to run on the person's own computer; for a local server, only needed from another computer. */
  tunnel: string;
  /** The URL to open (through the tunnel for SLURM), token included. */
  url: string;
  https: boolean;
  certFingerprint?: string;
}

/** The browser side of a live server. `loginHost` is where the tunnel goes (this machine, as `user@host`). */
export function browserAccess(view: ServerView, loginHost: string): BrowserAccess {
  const base = new URL(view.baseUrl);
  const https = base.protocol === 'https:';
  const port = Number(base.port || (https ? 443 : 80));
  const node = base.hostname;
  const app = view.app ?? 'server';
  // SLURM: the browser reaches the node through the tunnel's local end; local: the server itself.
  const host = view.backend === 'slurm' ? 'localhost' : node;
  const path = `${base.pathname.replace(/\/?$/, '/')}${app === 'lab' ? 'lab' : ''}`;
  const url = `${base.protocol}//${host}:${port}${path}${view.token ? `?token=${encodeURIComponent(view.token)}` : ''}`;
  return {
    profile: view.profile,
    backend: view.backend,
    jobId: view.jobId,
    node,
    port,
    app,
    tunnel: `ssh -N -L ${port}:${node}:${port} ${loginHost}`,
    url,
    https,
    certFingerprint: view.certFingerprint,
  };
}

/** The human-readable report; `stateDir` names where the registry was read. */
export function renderConnect(views: ServerView[], loginHost: string, stateDir: string): string {
  const live = views.filter((view) => view.live);
  const lines = [`jlab-mcp connect: ${live.length} live Jupyter server${live.length === 1 ? '' : 's'} (state directory ${stateDir})`];
  for (const view of live) lines.push('', ...renderOne(browserAccess(view, loginHost), view));
  const dead = views.filter((view) => !view.live);
  if (dead.length > 0) {
    lines.push('');
    for (const view of dead) lines.push(`[${view.profile}] ${view.backend} server at ${view.baseUrl} is not answering: ${view.why ?? 'unknown'}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderOne(access: BrowserAccess, view: ServerView): string[] {
  const what =
    access.app === 'lab' ? 'JupyterLab' : 'jupyter-server (no JupyterLab where it runs: the REST API only; install jupyterlab there for the full UI)';
  const head =
    access.backend === 'slurm'
      ? `[${access.profile}] SLURM job ${access.jobId ?? '?'} on ${access.node}, port ${access.port}: ${what}${access.https ? ', HTTPS' : ', plain HTTP'}`
      : `[${access.profile}] ${access.backend} server${view.pid ? ` (pid ${view.pid})` : ''} at ${access.node}:${access.port}: ${what}`;
  const lines = [head];
  if (access.backend === 'slurm') {
    lines.push(
      '  1. On your own computer, open a tunnel to the compute node (leave it running):',
      `       ${access.tunnel}`,
      '  2. Open in your browser:',
      `       ${access.url}`,
    );
  } else {
    lines.push(
      '  Open in a browser on this machine:',
      `       ${access.url}`,
      '  From another computer, first open a tunnel (leave it running), then the same URL:',
      `       ${access.tunnel}`,
    );
  }
  if (access.https && access.certFingerprint) {
    lines.push(
      '     The browser will warn that the certificate is not trusted: it is self-signed, made in the job.',
      "     Accept it only if its SHA-256 fingerprint (shown in the browser's certificate details) is",
      `       ${access.certFingerprint}`,
    );
  }
  lines.push("     The URL holds the server's token: anyone with it can run code as you. Do not share it.");
  return lines;
}

/** The machine-readable report (`--json`). */
export function connectJson(views: ServerView[], loginHost: string, stateDir: string): string {
  const servers = views.map((view) =>
    view.live
      ? { live: true, ...browserAccess(view, loginHost) }
      : { live: false, profile: view.profile, backend: view.backend, baseUrl: view.baseUrl, why: view.why ?? 'unknown' },
  );
  return `${JSON.stringify({ stateDir, servers }, null, 2)}\n`;
}
