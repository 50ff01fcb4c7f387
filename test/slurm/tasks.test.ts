// A SLURM start as an MCP task: the built binary, the official ext-tasks client, the real one-node Slurm.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { TaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import { CLI, textOf, type ToolResult } from '../helpers/mcpClient.js';
import { connectTasksClient } from '../helpers/tasksClient.js';
import { cancelJobs, clusterSkipReason } from './helpers.js';

const skip = (await clusterSkipReason()) || (existsSync(CLI) ? false : `${CLI} is missing: run npm run build`);
if (skip) console.error(`skipping SLURM task tests: ${skip}`);

const submitted = new Set<string>();
const dirs: string[] = [];
after(async () => {
  await cancelJobs(submitted);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('SLURM: a start that waits for the queue answers with a task', { skip, timeout: 300_000 }, () => {
  it('start_new_session as a task: working with the start\'s progress as status, then completed with the session', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-slurm-state-'));
    dirs.push(stateDir);
    const client = await connectTasksClient('modern', {
      JLAB_MCP_RUN_MODE: 'slurm',
      JLAB_MCP_SLURM_PARTITION: 'debug',
      JLAB_MCP_SLURM_CPUS: '1',
      JLAB_MCP_SLURM_TIME: '10',
      JLAB_MCP_SLURM_STATE_DIR: stateDir,
      JLAB_MCP_QUEUE_TIMEOUT: '60',
      JLAB_MCP_READY_TIMEOUT: '60',
      JLAB_MCP_LOG_LEVEL: 'info',
      // A start that outlasts one poll interval becomes a task; a short one keeps this test about the queue.
      JLAB_MCP_TASK_POLL_INTERVAL: '0.2',
    });
    try {
      const execution = await client.tasks.callTool('start_new_session', { experiment_name: 'queued start' }, { task: { preference: 'prefer' } });
      assert.equal(execution.kind, 'task', 'the job is not up yet: the start becomes a task');
      const messages: string[] = [];
      const { outcome } = await execution.settle({ onEvent: (event) => void (event.type === 'task' && event.task.statusMessage && messages.push(event.task.statusMessage)) });
      assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
      const started = (outcome as TaskOutcome<ToolResult> & { result: ToolResult }).result;
      assert.notEqual(started.isError, true, textOf(started));
      const sid = String(started.structuredContent?.session_id);
      const status = await client.client.readResource({ uri: 'jlab-mcp://server/status' });
      const jobId = String((JSON.parse(String((status.contents[0] as { text: string }).text)) as { server: { backend: { jobId?: string } } }).server.backend.jobId);
      submitted.add(jobId);
      // The start's own progress line (the job's state once Slurm has one) is the status while it works.
      assert.ok(messages.some((message) => /SLURM job|starting the session/.test(message)), `the start's progress in the status: ${messages.join(' | ')}`);
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
