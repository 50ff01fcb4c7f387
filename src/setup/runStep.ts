import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { TextTail } from '../util/tail.js';
import { terminate } from '../util/terminate.js';
import type { StepCommand } from './stepCommand.js';

/** A "still running" line on stderr this often during a long step, in ms. */
const HEARTBEAT_MS = 30_000;

export interface StepWatch {
  /** The newest line the step printed (for progress notifications). */
  lastLine?: string;
}

/**
 * Runs one setup step: its output to a tail (never stdout: that is the MCP protocol), a line on
 * stderr every 30 s while it runs, killed at its deadline. On `signal` (jlab-mcp exits) a pip or
 * venv step is killed; an apt step is left to finish (a dpkg cut short needs a person to repair).
 */
export function runStep(command: StepCommand, deadlineS: number, signal: AbortSignal, watch: StepWatch = {}): Promise<void> {
  const started = Date.now();
  const tail = new TextTail(16_384);
  return new Promise((resolve, reject) => {
    const child = spawn(command.argv[0]!, command.argv.slice(1), { env: command.env, stdio: ['ignore', 'pipe', 'pipe'], detached: command.finishOnExit });
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail.push(text);
      const line = text.split('\n').map((l) => l.trim()).filter(Boolean).pop();
      if (line) watch.lastLine = line.slice(0, 200);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    let why: string | undefined;
    const heartbeat = setInterval(() => log.info(`setup: ${command.label} still running (${Math.round((Date.now() - started) / 1000)} s)${watch.lastLine ? `: ${watch.lastLine}` : ''}`), HEARTBEAT_MS);
    const deadline = setTimeout(() => {
      why = `did not finish within ${deadlineS} s`;
      void terminate(child, 10_000);
    }, deadlineS * 1000);
    const onAbort = () => {
      if (command.finishOnExit) {
        log.warn(`setup: ${command.label} (pid ${child.pid}) is left to finish on its own: stopping it could break the package database`);
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        settle(signal.reason);
      } else {
        why = 'was stopped: jlab-mcp is exiting';
        void terminate(child, 5000);
      }
    };
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearInterval(heartbeat);
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    child.once('error', (error) => settle(failure(command, `could not be started (${error.message})`, tail)));
    child.once('close', (code, sig) => {
      if (code === 0 && !why) {
        const marked = command.marker ? writeFile(command.marker, `${new Date().toISOString()}\n`) : Promise.resolve();
        marked.then(() => settle(), (error: unknown) => settle(error));
      } else settle(failure(command, why ?? `exited with ${sig ?? `code ${code}`}`, tail));
    });
  });
}

function failure(command: StepCommand, what: string, tail: TextTail): JlabError {
  const lines = tail.lines(12);
  return new JlabError('SERVER_START_FAILED', `Setting up Jupyter failed: ${command.label} ${what}.${lines ? `\n--- its last lines ---\n${lines}` : ''}`);
}
