import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalGb: number;
  kernel: string;
  node: string;
  jupyterServer: string;
  python: string;
  ipykernel: string;
  nbclient: string;
  /** /proc/loadavg when the run started: other work on the machine skews every figure. */
  loadavg: string;
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 20_000 });
    return (stdout || stderr).trim();
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on. */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const versions = await output('/usr/bin/python3', [
    '-c',
    'import sys, importlib\nfor m in ("ipykernel", "nbclient"):\n    try: print(importlib.import_module(m).__version__)\n    except Exception: print("missing")\nprint(sys.version.split()[0])',
  ]);
  const [ipykernel = 'unknown', nbclient = 'unknown', python = 'unknown'] = versions.split('\n');
  return {
    nproc: Number(await output('nproc', [])) || os.availableParallelism(),
    cpuModel,
    memTotalGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    jupyterServer: await output('jupyter-server', ['--version']),
    python,
    ipykernel,
    nbclient,
    loadavg: (await readFile('/proc/loadavg', 'utf8').catch(() => 'unknown')).trim(),
  };
}
