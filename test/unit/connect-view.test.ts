// What `jlab-mcp connect` prints, from views (pure rendering).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserAccess, connectJson, renderConnect, type ServerView } from '../../src/cli/connectView.js';

const FP = Array(32).fill('C3').join(':');
const TOKEN = 'f'.repeat(48);

const slurm: ServerView = {
  profile: 'gpu',
  backend: 'slurm',
  baseUrl: 'https://node12:41234/',
  live: true,
  token: TOKEN,
  certFingerprint: FP,
  app: 'lab',
  jobId: '77',
};
const local: ServerView = { profile: 'default', backend: 'local', baseUrl: 'http://127.0.0.1:8899/', live: true, token: TOKEN, app: 'server', pid: 4242 };
const dead: ServerView = { profile: 'cpu', backend: 'slurm', baseUrl: 'https://node3:5000/', live: false, why: 'could not be reached (ECONNREFUSED)' };

describe('jlab-mcp connect output', () => {
  it("SLURM: the tunnel to the node through the login host, the https URL on the tunnel's end with the token, JupyterLab path", () => {
    const access = browserAccess(slurm, 'me@login1');
    assert.equal(access.tunnel, 'ssh -N -L 41234:node12:41234 me@login1');
    assert.equal(access.url, `https://localhost:41234/lab?token=${TOKEN}`);
    assert.equal(access.https, true);
    assert.equal(access.certFingerprint, FP);
  });

  it("local: the server's own URL (jupyter-server: its root), the tunnel only for another computer", () => {
    const access = browserAccess(local, 'me@box');
    assert.equal(access.url, `http://127.0.0.1:8899/?token=${TOKEN}`);
    assert.equal(access.tunnel, 'ssh -N -L 8899:127.0.0.1:8899 me@box');
  });

  it('text: each live server with its steps, the self-signed warning with the fingerprint, the servers that do not answer', () => {
    const text = renderConnect([slurm, local, dead], 'me@login1', '/state');
    assert.match(text, /^jlab-mcp connect: 2 live Jupyter servers \(state directory \/state\)/);
    assert.match(text, /\[gpu\] SLURM job 77 on node12, port 41234: JupyterLab, HTTPS/);
    assert.match(
      text,
      /1\. On your own computer, open a tunnel.*\n\s+ssh -N -L 41234:node12:41234 me@login1\n\s+2\. Open in your browser:\n\s+https:\/\/localhost:41234\/lab\?token=f{48}\n/,
    );
    assert.match(text, /self-signed, made in the job[\s\S]*SHA-256 fingerprint[\s\S]*\n\s+C3:C3:/);
    assert.match(text, /\[default\] local server \(pid 4242\) at 127\.0\.0\.1:8899: jupyter-server \(no JupyterLab/);
    assert.match(text, /\[cpu\] slurm server at https:\/\/node3:5000\/ is not answering: could not be reached \(ECONNREFUSED\)/);
    // The local server speaks plain HTTP on 127.0.0.1: no certificate talk in its block.
    const localBlock = text.slice(text.indexOf('[default]'), text.indexOf('[cpu]'));
    assert.ok(!localBlock.includes('self-signed'));
  });

  it('--json: the same facts for a program; not-answering servers without a token', () => {
    const parsed = JSON.parse(connectJson([slurm, dead], 'me@login1', '/state')) as { stateDir: string; servers: Record<string, unknown>[] };
    assert.equal(parsed.stateDir, '/state');
    assert.deepEqual(parsed.servers[0], {
      live: true,
      profile: 'gpu',
      backend: 'slurm',
      jobId: '77',
      node: 'node12',
      port: 41234,
      app: 'lab',
      tunnel: 'ssh -N -L 41234:node12:41234 me@login1',
      url: `https://localhost:41234/lab?token=${TOKEN}`,
      https: true,
      certFingerprint: FP,
    });
    assert.deepEqual(parsed.servers[1], {
      live: false,
      profile: 'cpu',
      backend: 'slurm',
      baseUrl: 'https://node3:5000/',
      why: 'could not be reached (ECONNREFUSED)',
    });
    assert.ok(!JSON.stringify(parsed.servers[1]).includes(TOKEN));
  });
});
