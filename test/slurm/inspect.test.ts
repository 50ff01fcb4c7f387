// kernel_resources and the environment on record on the real one-node Slurm: measured inside the
// job, with the job's allocation and time left. Needs `npm run build` and a running cluster
// (scripts/slurm-cluster.sh up); skipped without one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { SlurmTestScratch, binarySkipReason, slurmEnv, waitFor, waitJobOver } from './helpers.js';
import { readNotebook } from '../helpers/notebookFile.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM inspect tests: ${skip}`);

const scratch = new SlurmTestScratch();

describe('kernel_resources and provenance on SLURM', { skip, timeout: 300_000 }, () => {
  it("kernel_resources reports the job's allocation and time left; cells and the environment record the job", async () => {
    const server = await spawnServer(slurmEnv({ JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-slurm-state-') }));
    let jobId = '';
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'slurm inspect' }, 150_000);
      assert.notEqual(started.isError, true, textOf(started));
      const sid = String(started.structuredContent?.session_id);
      const notebook = String(started.structuredContent?.notebook_path);
      const ran = await call(server.client, 'execute_code', { session_id: sid, code: 'import os\nprint(os.environ["SLURM_JOB_ID"])' });
      jobId = textOf(ran).split('\n')[0]!.trim();
      assert.match(jobId, /^\d+$/, textOf(ran));
      scratch.submitted.add(jobId);

      const resources = await call(server.client, 'kernel_resources', { session_id: sid });
      assert.notEqual(resources.isError, true, textOf(resources));
      const report = resources.structuredContent as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(report.backend, 'slurm');
      assert.equal(report.slurm.job_id, jobId);
      assert.equal(report.slurm.cpus, 1, 'SLURM_CPUS_ON_NODE as the job sees it');
      assert.equal(report.slurm.partition, 'debug');
      assert.equal(report.slurm.time_limit, '10:00');
      assert.match(String(report.slurm.time_left), /^\d+:\d\d$/, 'time left from squeue');
      assert.ok(report.slurm.environment.SLURM_JOB_ID === jobId);
      assert.ok(report.kernel_process.rss_bytes > 0);
      assert.equal(report.gpu.available, false);

      const nb = await waitFor('the environment on record', 30_000, async () => {
        const parsed = await readNotebook(notebook);
        return parsed.metadata.jlab_mcp?.environments?.length ? parsed : undefined;
      });
      assert.equal(nb.metadata.jlab_mcp.environments[0].slurm_job_id, jobId);
      assert.equal(nb.cells[0].metadata.jlab_mcp_runs[0].slurm_job_id, jobId);
      await validateWithPython([notebook]);
    } finally {
      await server.close().catch(() => {});
      if (jobId) assert.match(await waitJobOver(jobId, 60_000), /GONE|CANCELLED|COMPLETED|COMPLETING/);
    }
  });
});
