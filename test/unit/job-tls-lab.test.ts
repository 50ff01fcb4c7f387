// The job's HTTPS and JupyterLab parts, run alone in bash (real openssl; stand-in jupyter commands),
// the connection-file parser, and the local backend's JupyterLab choice.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { renderBatchScript } from '../../src/backends/slurm/batchScript.js';
import { parseConnection } from '../../src/backends/slurm/jobFiles.js';
import { jupyterLabLines, tlsLines } from '../../src/backends/slurm/scriptParts.js';
import { jupyterLabNextTo, labRunsOnJupyterServer, withJupyterLab } from '../../src/backends/local/jupyterLab.js';
import { resolveJupyterCommand } from '../../src/backends/local/jupyterCommand.js';
import { normalizeFingerprint } from '../../src/jupyter/pinnedTls.js';
import { which } from '../../src/util/which.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-jobparts-'));
  dirs.push(dir);
  return dir;
}

interface Ran {
  vars: Record<string, string>;
  stderr: string;
}

/**
 * Runs script parts in bash the way the batch script does (JOB_DIR, NODE_HOST, say, JUPYTER and
 * ARGS set first) and returns the variables they set, one `NAME=value` line each.
 */
function runParts(lines: string[], setup: { jobDir: string; jupyter: string[]; path?: string }): Promise<Ran> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -u',
    'umask 077',
    `JOB_DIR=${q(setup.jobDir)}`,
    'NODE_HOST=node-7',
    'say() { printf \'jlab-mcp job: %s\\n\' "$*" >&2; }',
    `JUPYTER=(${setup.jupyter.map(q).join(' ')})`,
    'ARGS=(--ServerApp.port_retries=0)',
    ...lines,
    'printf "APP=%s\\nSCHEME=%s\\nCERT_FP=%s\\nTLS_STATE=%s\\nJUPYTER=%s\\nARGS=%s\\n" "${APP:-}" "${SCHEME:-}" "${CERT_FP:-}" "${TLS_STATE:-}" "${JUPYTER[*]}" "${ARGS[*]}"',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/bash',
      ['--norc', '--noprofile', '-c', script],
      { env: { PATH: setup.path ?? process.env.PATH ?? '' }, timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        const vars = Object.fromEntries(
          stdout
            .trim()
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        resolve({ vars, stderr });
      },
    );
  });
}

describe('the job makes its certificate (tlsLines, real openssl)', () => {
  it("HTTPS: key 0600, certificate for the node, fingerprint = the certificate's, Jupyter gets certfile/keyfile", async (t) => {
    if (!which('openssl')) return t.skip('no openssl here');
    const jobDir = await tempDir();
    const { vars } = await runParts(tlsLines(true), { jobDir, jupyter: ['jupyter-server'] });
    assert.equal(vars.SCHEME, 'https');
    assert.equal(vars.TLS_STATE, 'on');
    const cert = new X509Certificate(await readFile(path.join(jobDir, 'tls.crt')));
    assert.equal(normalizeFingerprint(vars.CERT_FP), cert.fingerprint256);
    assert.match(cert.subject, /CN=node-7/);
    assert.match(cert.subjectAltName ?? '', /DNS:node-7/);
    assert.equal((await stat(path.join(jobDir, 'tls.key'))).mode & 0o777, 0o600);
    assert.ok(vars.ARGS!.includes(`--ServerApp.certfile=${jobDir}/tls.crt`), vars.ARGS);
    assert.ok(vars.ARGS!.includes(`--ServerApp.keyfile=${jobDir}/tls.key`), vars.ARGS);
  });

  it('[fault] no openssl on the node → plain HTTP, no fingerprint, a warning that the token crosses the network in clear', async () => {
    const jobDir = await tempDir();
    const { vars, stderr } = await runParts(tlsLines(true), { jobDir, jupyter: ['jupyter-server'], path: '/nonexistent' });
    assert.deepEqual([vars.SCHEME, vars.CERT_FP, vars.TLS_STATE], ['http', '', 'no-openssl']);
    assert.match(stderr, /no openssl on node-7: .*plain HTTP, its token crosses the network in clear/);
    assert.ok(!vars.ARGS!.includes('certfile'));
  });

  it('[fault] openssl that fails → plain HTTP with the warning (state openssl-failed)', async () => {
    const jobDir = await tempDir();
    const bin = path.join(jobDir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'openssl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const { vars, stderr } = await runParts(tlsLines(true), { jobDir, jupyter: ['jupyter-server'], path: `${bin}:/usr/bin:/bin` });
    assert.deepEqual([vars.SCHEME, vars.CERT_FP, vars.TLS_STATE], ['http', '', 'openssl-failed']);
    assert.match(stderr, /openssl could not make a certificate/);
  });

  it('JLAB_MCP_SLURM_TLS=false → plain HTTP without openssl being run', async () => {
    const jobDir = await tempDir();
    const { vars, stderr } = await runParts(tlsLines(false), { jobDir, jupyter: ['jupyter-server'], path: '/nonexistent' });
    assert.deepEqual([vars.SCHEME, vars.TLS_STATE], ['http', 'off']);
    assert.equal(stderr, '');
  });

  it('the batch script carries both parts and writes scheme, fingerprint, tls and app into the connection file', () => {
    const paths = {
      jobDir: '/s/j',
      configFile: '/s/j/c.py',
      tokenFile: '/s/j/token',
      connectionFile: '/s/j/connection.json',
      heartbeatFile: '/s/j/hb',
      logFile: '/s/j/slurm-%j.out',
      rootDir: '/nb',
    };
    const { script } = renderBatchScript({ jupyterCommand: ['jupyter-server'] }, paths, { heartbeatTimeoutS: 60 }, '0123456789abcdef');
    assert.ok(script.includes('--ServerApp.certfile='));
    assert.ok(script.includes('"cert_fingerprint": "%s"') && script.includes('"$CERT_FP" "$TLS_STATE" "$APP"'));
    assert.ok(script.indexOf('jupyter-lab') < script.indexOf('"${JUPYTER[@]}" "${ARGS[@]}"'), 'JupyterLab is chosen before Jupyter starts');
    const off = renderBatchScript(
      { jupyterCommand: ['jupyter-server'], tls: false, jupyterLab: false },
      paths,
      { heartbeatTimeoutS: 60 },
      '0123456789abcdef',
    ).script;
    assert.ok(!off.includes('openssl') && !off.includes('jupyter-lab'));
  });
});

describe('the job picks JupyterLab when it is installed (jupyterLabLines, stand-in commands)', () => {
  async function installation(labVersion: string | undefined): Promise<string> {
    const bin = path.join(await tempDir(), 'bin');
    await mkdir(bin);
    for (const name of ['jupyter-server', 'jupyter', 'my-jupyter']) await writeFile(path.join(bin, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    if (labVersion !== undefined) await writeFile(path.join(bin, 'jupyter-lab'), `#!/bin/sh\necho '${labVersion}'\n`, { mode: 0o755 });
    return bin;
  }
  const rows: [string, string | undefined, string[], 'lab' | 'server'][] = [
    ['JupyterLab 4 next to jupyter-server → lab', '4.2.5', ['jupyter-server'], 'lab'],
    ['JupyterLab 3 next to `jupyter server` → lab', '3.6.8', ['jupyter', 'server'], 'lab'],
    ['JupyterLab 2 (not on jupyter-server) → server', '2.3.2', ['jupyter-server'], 'server'],
    ['no jupyter-lab → server', undefined, ['jupyter-server'], 'server'],
    ['a custom command is left alone → server', '4.2.5', ['my-jupyter'], 'server'],
  ];
  for (const [name, version, jupyter, app] of rows) {
    it(name, async () => {
      const bin = await installation(version);
      const { vars } = await runParts(jupyterLabLines(true), { jobDir: bin, jupyter, path: `${bin}:/usr/bin:/bin` });
      assert.equal(vars.APP, app);
      if (app === 'lab') {
        assert.equal(vars.JUPYTER, path.join(bin, 'jupyter-lab'));
        assert.ok(vars.ARGS!.includes('--LabApp.open_browser=False'));
      } else {
        assert.equal(vars.JUPYTER, jupyter.join(' '));
      }
    });
  }

  it('JLAB_MCP_JUPYTERLAB=false → server even with JupyterLab 4 installed', async () => {
    const bin = await installation('4.2.5');
    const { vars } = await runParts(jupyterLabLines(false), { jobDir: bin, jupyter: ['jupyter-server'], path: `${bin}:/usr/bin:/bin` });
    assert.deepEqual([vars.APP, vars.JUPYTER], ['server', 'jupyter-server']);
  });
});

describe('local backend: JupyterLab next to jupyter-server', () => {
  it('labRunsOnJupyterServer reads `jupyter-lab --version`', () => {
    const rows: [string, boolean][] = [
      ['4.2.5\n', true],
      ['3.0.0', true],
      ['10.1.0', true],
      ['2.3.2', false],
      ['1.2', false],
      ['', false],
      ['jupyterlab', false],
    ];
    for (const [text, expected] of rows) assert.equal(labRunsOnJupyterServer(text), expected, JSON.stringify(text));
  });

  it('withJupyterLab swaps the command only when there is a lab, and keeps it from opening a browser', () => {
    assert.deepEqual(withJupyterLab(['/usr/bin/jupyter', 'server'], undefined), ['/usr/bin/jupyter', 'server']);
    assert.deepEqual(withJupyterLab(['/usr/bin/jupyter-server'], '/usr/bin/jupyter-lab'), ['/usr/bin/jupyter-lab', '--LabApp.open_browser=False']);
  });

  it('jupyterLabNextTo runs the jupyter-lab beside the command and checks its version', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'jupyter-server'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(await jupyterLabNextTo(path.join(dir, 'jupyter-server')), undefined);
    const other = await tempDir();
    await writeFile(path.join(other, 'jupyter-lab'), '#!/bin/sh\necho 4.1.0\n', { mode: 0o755 });
    assert.equal(await jupyterLabNextTo(path.join(other, 'jupyter-server')), path.join(other, 'jupyter-lab'));
    const old = await tempDir();
    await writeFile(path.join(old, 'jupyter-lab'), '#!/bin/sh\necho 2.2.0\n', { mode: 0o755 });
    await chmod(path.join(old, 'jupyter-lab'), 0o755);
    assert.equal(await jupyterLabNextTo(path.join(old, 'jupyter')), undefined);
  });

  it('here (Debian: jupyter-server, no JupyterLab) the local backend falls back to jupyter-server', async (t) => {
    const server = which('jupyter-server');
    if (!server) return t.skip('no jupyter-server on PATH');
    if (which(path.join(path.dirname(server), 'jupyter-lab'))) return t.skip('JupyterLab is installed here');
    assert.deepEqual(await resolveJupyterCommand(undefined, true), [server]);
    assert.deepEqual(await resolveJupyterCommand('jupyter-server', true), ['jupyter-server']);
  });
});

describe("parseConnection (the job's connection file)", () => {
  const fp = Array(32).fill('0F').join(':');
  it('https with a fingerprint → pinned', () => {
    assert.deepEqual(parseConnection({ host: 'node1', port: 8888, scheme: 'https', cert_fingerprint: fp.toLowerCase(), tls: 'on', app: 'lab' }), {
      host: 'node1',
      port: 8888,
      certFingerprint: fp,
      tls: 'on',
      app: 'lab',
    });
  });
  it('a file from before TLS (host and port only) → plain http', () => {
    assert.deepEqual(parseConnection({ host: 'node1', port: 8888 }), { host: 'node1', port: 8888, tls: undefined, app: undefined });
  });
  it('[bad-input] https without a well-formed fingerprint, an unknown scheme, a bad host or port → not sane', () => {
    assert.equal(parseConnection({ host: 'node1', port: 8888, scheme: 'https', cert_fingerprint: '' }), undefined);
    assert.equal(parseConnection({ host: 'node1', port: 8888, scheme: 'https', cert_fingerprint: 'AB:CD' }), undefined);
    assert.equal(parseConnection({ host: 'node1', port: 8888, scheme: 'ftp' }), undefined);
    assert.equal(parseConnection({ host: 'node1;rm', port: 8888 }), undefined);
    assert.equal(parseConnection({ host: 'node1', port: 70000 }), undefined);
    assert.equal(parseConnection(null), undefined);
  });
});
