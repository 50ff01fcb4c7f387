// A SLURM start as an MCP task: the built binary, the official ext-tasks client, the real one-node Slurm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import { textOf, type ToolResult } from '../helpers/mcpClient.js';
import { connectTasksClient } from '../helpers/tasksClient.js';
import { SlurmTestScratch, binarySkipReason, slurmEnv } from './helpers.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM task tests: ${skip}`);

const scratch = new SlurmTestScratch();

describe('SLURM: a start that waits for the queue answers with a task', { skip, timeout: 300_000 }, () => {
  it("start_new_session as a task: working with the start's progress as status, then completed with the session", async () => {
    const client = await connectTasksClient(
      'modern',
      slurmEnv({
        JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-slurm-state-'),
        JLAB_MCP_LOG_LEVEL: 'info',
        // A start that outlasts one poll interval becomes a task; a short one keeps this test about the queue.
        JLAB_MCP_TASK_POLL_INTERVAL: '0.2',
      }),
    );
    try {
      const execution = await client.tasks.callTool('start_new_session', { experiment_name: 'queued start' }, { task: { preference: 'prefer' } });
      assert.equal(execution.kind, 'task', 'the job is not up yet: the start becomes a task');
      const messages: string[] = [];
      const { outcome } = await execution.settle({
        onEvent: (event) => void (event.type === 'task' && event.task.statusMessage && messages.push(event.task.statusMessage)),
      });
      assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
      const started = (outcome as TaskOutcome<ToolResult> & { result: ToolResult }).result;
      assert.notEqual(started.isError, true, textOf(started));
      const sid = String(started.structuredContent?.session_id);
      const status = await client.client.readResource({ uri: 'jlab-mcp://server/status' });
      const jobId = String(
        (JSON.parse(String((status.contents[0] as { text: string }).text)) as { server: { backend: { jobId?: string } } }).server.backend.jobId,
      );
      scratch.submitted.add(jobId);
      // The start's own progress line (the job's state once Slurm has one) is the status while it works.
      assert.ok(
        messages.some((message) => /SLURM job|starting the session/.test(message)),
        `the start's progress in the status: ${messages.join(' | ')}`,
      );
      // The job is up now: the next start is a plain call even when the client opts in.
      const second = await client.tasks.callTool('start_new_session', { experiment_name: 'second' }, { task: { preference: 'prefer' } });
      assert.equal(second.kind, 'immediate');
      const ran = (await client.client.callTool({ name: 'execute_code', arguments: { session_id: sid, code: 'print(6*7)' } })) as ToolResult;
      assert.match(textOf(ran), /^42/);
    } finally {
      await client.close();
    }
  });
});
