import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderBatchScript } from '../../src/backends/slurm/batchScript.js';
import { batchSettingsFromConfig, slurmOptionsFromConfig } from '../../src/backends/slurm/fromConfig.js';
import { parseSlurmProfiles } from '../../src/backends/slurm/profiles.js';
import { loadConfig, parseArgs } from '../../src/config/load.js';

const base = batchSettingsFromConfig(
  loadConfig(parseArgs([]), {
    JLAB_MCP_SLURM_PARTITION: 'general',
    JLAB_MCP_SLURM_GRES: 'gpu:1',
    JLAB_MCP_SLURM_MODULES: 'python/3.11',
    JLAB_MCP_SLURM_ACCOUNT: 'proj',
  }),
);

describe('SLURM profiles', () => {
  it('lays each profile over the env settings; "" clears a value', () => {
    const { profiles, defaultProfile } = parseSlurmProfiles(
      JSON.stringify({
        default: 'cpu',
        profiles: {
          gpu: {
            partition: 'gpu',
            gres: 'gpu:a100:2',
            cpus: 16,
            mem: '128G',
            time: '8:00:00',
            modules: 'cuda/12.2 python/3.11',
            setup: 'source ~/venvs/ml/bin/activate',
            extra_args: '--exclusive',
          },
          cpu: { gres: '', cpus: 2, jupyter_cmd: ['/opt/env/bin/jupyter', 'server'] },
        },
      }),
      base,
    );
    assert.equal(defaultProfile, 'cpu');
    const gpu = profiles.get('gpu')!;
    assert.equal(gpu.partition, 'gpu');
    assert.equal(gpu.gres, 'gpu:a100:2');
    assert.deepEqual(gpu.modules, ['cuda/12.2', 'python/3.11']);
    assert.deepEqual(gpu.extraArgs, ['--exclusive']);
    assert.equal(gpu.account, 'proj', 'inherited from env');
    assert.equal(gpu.jobName, 'jlab-mcp-gpu');
    const cpu = profiles.get('cpu')!;
    assert.equal(cpu.partition, 'general');
    assert.equal(cpu.gres, undefined);
    assert.deepEqual(cpu.jupyterCommand, ['/opt/env/bin/jupyter', 'server']);
    const paths = {
      jobDir: '/s/j',
      configFile: '/s/j/c.py',
      tokenFile: '/s/j/t',
      connectionFile: '/s/j/c.json',
      heartbeatFile: '/s/j/h',
      logFile: '/s/j/l-%j.out',
      rootDir: '/nb',
    };
    assert.doesNotMatch(renderBatchScript(cpu, paths, { heartbeatTimeoutS: 600 }, '00ff00ff00ff00ff').script, /--gres/);
    assert.match(renderBatchScript(gpu, paths, { heartbeatTimeoutS: 600 }, '00ff00ff00ff00ff').script, /#SBATCH --job-name=jlab-mcp-gpu-00ff00ff00ff00ff\n/);
  });

  it("expands ~ in a profile's jupyter_cmd program, as in JLAB_MCP_SLURM_JUPYTER_CMD", async () => {
    const { homedir } = await import('node:os');
    const { profiles } = parseSlurmProfiles(
      JSON.stringify({ profiles: { ml: { jupyter_cmd: '~/venvs/ml/bin/jupyter server' }, arr: { jupyter_cmd: ['~/bin/jupyter-server'] } } }),
      base,
    );
    assert.deepEqual(profiles.get('ml')!.jupyterCommand, [`${homedir()}/venvs/ml/bin/jupyter`, 'server']);
    assert.deepEqual(profiles.get('arr')!.jupyterCommand, [`${homedir()}/bin/jupyter-server`]);
    assert.throws(
      () => parseSlurmProfiles(JSON.stringify({ profiles: { x: { jupyter_cmd: '~bob/jupyter' } } }), base),
      /profile x: jupyter_cmd=~bob\/jupyter: only ~ and ~\/…/,
    );
  });

  it('names every problem: bad JSON, unknown keys, bad values, bad names, missing default', () => {
    assert.throws(() => parseSlurmProfiles('{', base), /not valid JSON/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ profiles: { gpu: { partiton: 'gpu' } } }), base), /partiton/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ profiles: { gpu: { cpus: '8' } } }), base), /profiles\.gpu\.cpus/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ profiles: { gpu: { partition: 'gpu; id' } } }), base), /profile gpu: partition=/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ profiles: { 'g p u': {} } }), base), /profile name/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ default: 'x', profiles: { gpu: {} } }), base), /default profile "x"/);
    assert.throws(() => parseSlurmProfiles(JSON.stringify({ profiles: {} }), base), /no profiles/);
    assert.equal(parseSlurmProfiles(JSON.stringify({ profiles: { a: {}, b: {} } }), base).defaultProfile, 'a');
  });

  it('builds backend options from the config', () => {
    const config = loadConfig(parseArgs([]), { JLAB_MCP_SLURM_STATE_DIR: '/shared/state', JLAB_MCP_QUEUE_TIMEOUT: '30', JLAB_MCP_SLURM_GRES: '' }, '/cwd');
    const options = slurmOptionsFromConfig(config);
    assert.equal(options.stateDir, '/shared/state');
    assert.equal(options.queueTimeoutMs, 30_000);
    assert.equal(options.heartbeatTimeoutS, 3600, 'the idle timeout by default');
    assert.equal(options.idleTimeoutS, 3600);
    assert.equal(options.rootDir, '/cwd/notebooks');
    assert.equal(options.batch.gres, undefined);
    assert.deepEqual(options.batch.jupyterCommand, ['jupyter-server']);
    assert.match(slurmOptionsFromConfig(loadConfig(parseArgs([]), {})).stateDir, /\.jlab-mcp\/slurm$/);
  });
});
