// The core issue's whole flow, on a Jupyter server in a real Slurm job. The server cancels its
// job when the flow closes it (stdin closed); the e2e tests check that separately.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnServer } from '../helpers/mcpClient.js';
import { defineReferenceFlow } from '../helpers/referenceFlow.js';
import { clusterSkipReason } from './helpers.js';

defineReferenceFlow('the reference flow on SLURM (stdio, Jupyter in a real batch job)', {
  skip: await clusterSkipReason(),
  backend: 'slurm',
  spawn: async () =>
    spawnServer({
      JLAB_MCP_RUN_MODE: 'slurm',
      JLAB_MCP_SLURM_PARTITION: 'debug',
      JLAB_MCP_SLURM_CPUS: '1',
      JLAB_MCP_SLURM_TIME: '15',
      JLAB_MCP_SLURM_STATE_DIR: await mkdtemp(path.join(os.tmpdir(), 'jlab-slurm-flow-')),
    }),
});
