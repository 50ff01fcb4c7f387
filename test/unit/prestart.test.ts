// When the default server starts on its own: at once for local servers; for SLURM only once the
// client has stayed (or called a tool), so a health check that connects and leaves submits nothing.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { schedulePrestart } from '../../src/sessions/prestart.js';

const hello: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } },
};
const initialized: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const listTools: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const callTool: JSONRPCMessage = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_sessions', arguments: {} } };

describe('prestart', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  function counter() {
    let starts = 0;
    return { start: () => void starts++, starts: () => starts };
  }

  it('starts a local or external server at once, and a SLURM job at once when the delay is 0', () => {
    for (const [mode, delay] of [
      ['local', 5000],
      ['external', 5000],
      ['slurm', 0],
    ] as const) {
      const c = counter();
      const client = schedulePrestart(mode, delay, c.start);
      assert.equal(c.starts(), 1, `${mode} with delay ${delay}`);
      client.observe(callTool);
      mock.timers.tick(10_000);
      assert.equal(c.starts(), 1, 'started once');
    }
  });

  it('SLURM: nothing while the client only says hello; the job once it has stayed the delay', () => {
    const c = counter();
    const client = schedulePrestart('slurm', 5000, c.start);
    mock.timers.tick(60_000);
    assert.equal(c.starts(), 0, 'no client message yet: no job');
    client.observe(hello);
    client.observe(initialized);
    client.observe(listTools);
    mock.timers.tick(4999);
    assert.equal(c.starts(), 0, 'a health check that leaves within the delay submits nothing');
    mock.timers.tick(1);
    assert.equal(c.starts(), 1);
    client.observe(callTool);
    mock.timers.tick(60_000);
    assert.equal(c.starts(), 1, 'started once');
  });

  it('SLURM: the first tool call starts the job at once, ahead of the delay', () => {
    const c = counter();
    const client = schedulePrestart('slurm', 5000, c.start);
    client.observe(hello);
    mock.timers.tick(100);
    client.observe(callTool);
    assert.equal(c.starts(), 1);
    mock.timers.tick(60_000);
    assert.equal(c.starts(), 1, 'the timer does not start it again');
  });

  it('SLURM: a client that leaves before the delay leaves nothing to start', () => {
    const c = counter();
    const client = schedulePrestart('slurm', 5000, c.start);
    client.observe(hello);
    client.observe(listTools);
    client.cancel();
    mock.timers.tick(60_000);
    client.observe(callTool);
    assert.equal(c.starts(), 0);
  });
});
