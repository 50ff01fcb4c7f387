// The job's Jupyter over HTTPS with a pinned certificate, and `jlab-mcp connect` on it, against a
// real one-node cluster (scripts/slurm-cluster.sh up); skipped without one or when not root.
// Needs `npm run build` (connect runs the built dist/cli.js).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SlurmBackend } from '../../src/backends/slurm/slurmBackend.js';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { fetchThroughAgent, normalizeFingerprint, pinnedAgent } from '../../src/jupyter/pinnedTls.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import type { RegistryContent } from '../../src/state/records.js';
import { JlabError } from '../../src/util/errors.js';
import { readRegistry } from '../../src/state/registry.js';
import { CLI, call, spawnServer, textOf } from '../helpers/mcpClient.js';
import { SlurmTestScratch, backendOptions, binarySkipReason, slurmEnv, waitFor, waitJobOver } from './helpers.js';

const skip = process.getuid?.() !== 0 ? 'not root (the test cluster runs jobs as root)' : await binarySkipReason();
if (skip) console.error(`skipping SLURM HTTPS tests: ${skip}`);

const scratch = new SlurmTestScratch();

/** Runs the built `jlab-mcp connect` with `args`; never longer than 60 s. */
function connect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'connect', ...args],
      { timeout: 60_000, encoding: 'utf8', env: { ...process.env, JLAB_MCP_RUN_MODE: 'slurm' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('SLURM job over HTTPS (pinned certificate) and jlab-mcp connect', { skip, timeout: 300_000 }, () => {
  it('the job serves HTTPS with a certificate it made; REST and the kernel websocket work pinned; plain HTTP and a wrong pin fail; connect prints a working URL', async () => {
    const base = await scratch.tempDir('jlab-slurm-https-');
    const backend = new SlurmBackend(backendOptions(base, path.join(base, 'jobs')));
    try {
      const endpoint = await backend.start(new AbortController().signal);
      const jobId = String(backend.describe().jobId);
      scratch.submitted.add(jobId);
      const jobDir = String(backend.describe().stateDir);

      // The connection file (0600) pins the fingerprint of the certificate the job made; its key is 0600.
      const connection = JSON.parse(await readFile(path.join(jobDir, 'connection.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(connection.scheme, 'https');
      assert.equal(connection.tls, 'on');
      const cert = new X509Certificate(await readFile(path.join(jobDir, 'tls.crt')));
      assert.equal(normalizeFingerprint(String(connection.cert_fingerprint)), cert.fingerprint256);
      assert.equal(endpoint.certFingerprint, cert.fingerprint256);
      assert.match(endpoint.baseUrl, /^https:\/\//);
      assert.match(cert.subject, new RegExp(`CN=${String(connection.host)}`));
      assert.equal((await stat(path.join(jobDir, 'tls.key'))).mode & 0o777, 0o600);
      assert.equal((await stat(jobDir)).mode & 0o777, 0o700);

      // REST (kernelspecs, kernel start) and the kernel's websocket, all pinned.
      const rest = new JupyterRestClient(endpoint);
      assert.ok((await rest.kernelSpecs()).specs.length > 0);
      const kernel = await KernelHandle.start(rest, undefined, 60_000);
      try {
        let result = '';
        const { end } = executeOnKernel(kernel, '6*7', (msg) => {
          if (msg.header.msg_type === 'execute_result') result = String((msg.content as { data: Record<string, string> }).data['text/plain']);
        });
        assert.equal((await end).kind, 'ok');
        assert.equal(result, '42');
      } finally {
        await kernel.shutdown();
      }

      // Plain HTTP to the job's port gets no answer: the token cannot be sent in clear.
      const plain = endpoint.baseUrl.replace(/^https:/, 'http:');
      await assert.rejects(fetch(`${plain}api/status`, { headers: { Authorization: `token ${endpoint.token}` }, signal: AbortSignal.timeout(10_000) }));
      assert.equal((await new JupyterRestClient({ ...endpoint, baseUrl: plain, certFingerprint: undefined }).probeStatus(5000)).up, false);

      // A wrong pin (as if someone else answered on that port) → the clear error, never a fallback.
      const wrong = Array(32).fill('00').join(':');
      await assert.rejects(new JupyterRestClient({ ...endpoint, certFingerprint: wrong, requestTimeoutMs: 10_000 }).kernelSpecs(), (error: unknown) => {
        assert.ok(error instanceof JlabError);
        assert.match(error.message, /not the pinned 00:00:.*connection may be intercepted/);
        assert.ok(!error.message.includes(endpoint.token));
        return true;
      });
      const probe = await new JupyterRestClient({ ...endpoint, certFingerprint: wrong }).probeStatus(5000);
      assert.ok(!probe.up && /may be intercepted/.test(probe.words), JSON.stringify(probe));

      // jlab-mcp connect on a registry naming this job (as the SLURM backend records it).
      const stateDir = path.join(base, 'state');
      const registry: RegistryContent = {
        version: 1,
        owner: { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() },
        servers: {
          default: {
            profile: 'default',
            backend: 'slurm',
            baseUrl: endpoint.baseUrl,
            tokenFile: path.join(jobDir, 'token'),
            jobId,
            jobDir,
            certFingerprint: endpoint.certFingerprint,
            startedAt: new Date().toISOString(),
          },
        },
        sessions: {},
      };
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      await writeFile(path.join(stateDir, 'registry.json'), JSON.stringify(registry), { mode: 0o600 });
      const text = await connect(['--state-dir', stateDir]);
      assert.equal(text.code, 0, text.stderr);
      const host = String(connection.host);
      const port = Number(connection.port);
      assert.ok(text.stdout.includes(`ssh -N -L ${port}:${host}:${port} `), text.stdout);
      assert.ok(text.stdout.includes(cert.fingerprint256), 'prints the fingerprint to compare');
      const url = /https:\/\/localhost:\d+\/\S*\?token=(\S+)/.exec(text.stdout);
      assert.ok(url, text.stdout);
      assert.equal(url[1], endpoint.token);
      // On this one-node cluster the node is this machine, so the tunnel's local end (localhost:port) is the node's port itself.
      const printed = new URL(url[0]);
      const pinned = fetchThroughAgent(pinnedAgent(cert.fingerprint256, 10_000));
      const status = await pinned(new URL(`/api/status?token=${url[1]}`, printed.origin), { signal: AbortSignal.timeout(10_000) });
      assert.equal(status.status, 200);
      const json = JSON.parse((await connect(['--state-dir', stateDir, '--json'])).stdout) as {
        servers: { live: boolean; url: string; certFingerprint: string; app: string }[];
      };
      assert.equal(json.servers[0]!.live, true);
      assert.equal(json.servers[0]!.url, url[0]);
      assert.equal(json.servers[0]!.certFingerprint, cert.fingerprint256);
      assert.equal(json.servers[0]!.app, 'server', 'no JupyterLab on this node: jupyter-server');

      // The job gone: connect says no server answers, exit code 1.
      await backend.stop();
      const gone = await connect(['--state-dir', stateDir]);
      assert.equal(gone.code, 1);
      assert.match(gone.stdout + gone.stderr, /not answering|none of the/);
    } finally {
      await backend.stop();
    }
  });
  it('a session in slurm mode (the built binary) runs over HTTPS; the registry pins the fingerprint; connect prints a URL that works pinned', async () => {
    const base = await scratch.tempDir('jlab-slurm-https-mcp-');
    const stateDir = path.join(base, 'state');
    const server = await spawnServer(slurmEnv({ JLAB_MCP_SLURM_STATE_DIR: path.join(base, 'jobs'), JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_LOG_LEVEL: 'info' }));
    let jobId: string | undefined;
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'https' }, 150_000);
      assert.notEqual(started.isError, true, textOf(started));
      const sid = String(started.structuredContent?.session_id);
      const ran = await call(server.client, 'execute_code', { session_id: sid, code: 'print(6*7)' });
      assert.match(textOf(ran), /42/);
      const record = await waitFor('the job in the registry', 20_000, async () => {
        const recorded = (await readRegistry(stateDir))?.servers.default;
        return recorded?.backend === 'slurm' ? recorded : undefined;
      });
      jobId = record.jobId;
      if (jobId) scratch.submitted.add(jobId);
      assert.match(record.baseUrl, /^https:\/\//);
      const fingerprint = normalizeFingerprint(record.certFingerprint);
      assert.ok(fingerprint, JSON.stringify(record));
      assert.equal(new X509Certificate(await readFile(path.join(String(record.jobDir), 'tls.crt'))).fingerprint256, fingerprint);
      assert.ok(!server.stderr().includes('crosses the network in clear'));

      const out = await connect(['--state-dir', stateDir]);
      assert.equal(out.code, 0, out.stderr);
      const url = /https:\/\/localhost:\d+\/\S*\?token=(\S+)/.exec(out.stdout);
      assert.ok(url, out.stdout);
      assert.ok(out.stdout.includes(fingerprint));
      assert.ok(!server.stderr().includes(url[1]!), "the token is never in jlab-mcp's log");
      // One-node cluster: the node is this machine, so the tunnel's local end is the job's port itself.
      const pinned = fetchThroughAgent(pinnedAgent(fingerprint, 10_000));
      const status = await pinned(new URL(`/api/status?token=${url[1]}`, new URL(url[0]).origin), { signal: AbortSignal.timeout(10_000) });
      assert.equal(status.status, 200);
    } finally {
      await server.close();
      if (jobId) await waitJobOver(jobId, 60_000);
    }
  });
});
