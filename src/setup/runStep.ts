import { writeFile } from 'node:fs/promises';
import { JlabError } from '../util/errors.js';
import { exec, ExecError } from '../util/exec.js';
import { log } from '../util/log.js';
import { TextTail } from '../util/tail.js';
import type { StepCommand } from './stepCommand.js';

/** A "still running" line on stderr this often during a long step, in ms. */
const HEARTBEAT_MS = 30_000;

export interface StepWatch {
  /** The newest line the step printed (for progress notifications). */
  lastLine?: string;
}

/**
 * Runs one setup step: its output to a tail (never stdout: that is the MCP protocol), a line on
 * stderr every 30 s while it runs, ended at its deadline. On `signal` (jlab-mcp exits) a pip or
 * venv step is ended; an apt step is left to finish (a dpkg cut short needs a person to repair).
 */
export async function runStep(command: StepCommand, deadlineS: number, signal: AbortSignal, watch: StepWatch = {}): Promise<void> {
  const started = Date.now();
  const tail = new TextTail(16_384);
  const onOutput = (text: string) => {
    tail.push(text);
    const line = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop();
    if (line) watch.lastLine = line.slice(0, 200);
  };
  const heartbeat = setInterval(
    () => log.info(`setup: ${command.label} still running (${Math.round((Date.now() - started) / 1000)} s)${watch.lastLine ? `: ${watch.lastLine}` : ''}`),
    HEARTBEAT_MS,
  );
  try {
    await exec(command.argv, {
      env: command.env,
      timeoutMs: deadlineS * 1000,
      graceMs: 5000,
      signal,
      processGroup: true,
      leaveRunningOnAbort: command.finishOnExit,
      maxOutput: 16_384,
      onOutput,
    });
  } catch (error) {
    if (!(error instanceof ExecError)) throw error;
    if (error.kind === 'left-running') {
      log.warn(`setup: ${command.label} (pid ${error.pid}) is left to finish on its own: stopping it could break the package database`);
      throw signal.reason;
    }
    throw failure(command, whatHappened(error, deadlineS), tail);
  } finally {
    clearInterval(heartbeat);
  }
  if (command.marker) await writeFile(command.marker, `${new Date().toISOString()}\n`);
}

function whatHappened(error: ExecError, deadlineS: number): string {
  if (error.timedOut) return `did not finish within ${deadlineS} s`;
  if (error.aborted) return 'was stopped: jlab-mcp is exiting';
  if (error.kind === 'exit-code') return `exited with code ${error.exitCode}`;
  if (error.kind === 'signal') return `exited with ${error.signal}`;
  return error.kind === 'not-found' ? 'could not be started (not found)' : error.why;
}

function failure(command: StepCommand, what: string, tail: TextTail): JlabError {
  const lines = tail.lines(12);
  return new JlabError('SERVER_START_FAILED', `Setting up Jupyter failed: ${command.label} ${what}.${lines ? `\n--- its last lines ---\n${lines}` : ''}`);
}
