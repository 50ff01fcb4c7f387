// The core issue's whole flow, on a Jupyter server in a real Slurm job. The server cancels its
// job when the flow closes it (stdin closed); the e2e tests check that separately.
import { spawnServer } from '../helpers/mcpClient.js';
import { defineReferenceFlow } from '../helpers/referenceFlow.js';
import { SlurmTestScratch, clusterSkipReason, slurmEnv } from './helpers.js';

const scratch = new SlurmTestScratch();

defineReferenceFlow('the reference flow on SLURM (stdio, Jupyter in a real batch job)', {
  skip: await clusterSkipReason(),
  backend: 'slurm',
  spawn: async () => spawnServer(slurmEnv({ JLAB_MCP_SLURM_TIME: '15', JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-slurm-flow-') })),
});
