/**
 * The batch script of a sweep attempt's array job and sbatch's arguments. One
 * `sbatch --array=0-(N-1)%K`: task k runs the notebook of entry k of the attempt's tasks file
 * (a rerun submits a subset, so task ids are not run indices). The environment is the
 * interactive job's: the same resource lines, module loads and setup (scriptParts.ts), and the
 * Python of the same Jupyter command, which brings nbclient. Pure: no I/O.
 */
import path from 'node:path';
import { type BatchSettings, validateBatchSettings } from '../../backends/slurm/batchScript.js';
import { parseSlurmDuration } from '../../backends/slurm/parsers.js';
import { environmentLines, resourceLines } from '../../backends/slurm/scriptParts.js';
import { JlabError } from '../../util/errors.js';
import { quoteWord } from '../../util/shell.js';

/** Where an attempt's files live: `<experimentDir>/.slurm/`. */
export interface ArrayFiles {
  dir: string;
  script: string;
  /** JSON array; entry k is task k's run: {"index", "notebook"}. */
  tasks: string;
  /** The runner (assets/sweeps/run_notebook.py), copied so compute nodes need not see the package. */
  runner: string;
  /** The record helper, run silently before the notebook's cells. */
  helper: string;
  /** The task ids jlab-mcp asked Slurm to cancel ({"all": bool, "taskIds": […]}): a cancelled pending task leaves no trace in squeue. */
  cancelled: string;
  /** sbatch --output: `%A` the array job id, `%a` the task id. */
  outputPattern: string;
}

export function arrayFiles(experimentDir: string, attempt: number): ArrayFiles {
  const dir = path.join(experimentDir, '.slurm');
  return {
    dir,
    script: path.join(dir, `attempt-${attempt}.sh`),
    tasks: path.join(dir, `attempt-${attempt}.tasks.json`),
    runner: path.join(dir, 'run_notebook.py'),
    helper: path.join(dir, 'record_helper.py'),
    cancelled: path.join(dir, `attempt-${attempt}.cancelled.json`),
    outputPattern: path.join(dir, `attempt-${attempt}-%A_%a.out`),
  };
}

/** The output file of one task (the pattern with its ids filled in). */
export function taskOutputFile(files: ArrayFiles, jobId: string, taskId: number): string {
  return files.outputPattern.replace('%A', jobId).replace('%a', String(taskId));
}

export interface ArrayJobInput {
  sweepId: string;
  experimentDir: string;
  attempt: number;
  taskCount: number;
  maxConcurrent: number;
  cellTimeoutS?: number;
  kernelName?: string;
}

export interface RenderedArray {
  script: string;
  /** sbatch's arguments before the script path (no secrets: the job needs none). */
  sbatchArgs: string[];
  jobName: string;
}

/** What the batch shell prints before it hands over to the runner; the executor strips it from an error. */
export const SAY_PREFIX = 'jlab-mcp sweep task: ';

const KERNEL_RE = /^[A-Za-z0-9_.+-]{1,64}$/;

/**
 * Seconds before the walltime at which Slurm sends USR1 to the runner (--signal=B:USR1@lead), so
 * that the SIGTERM which follows reads as a walltime and not a cancel: a tenth of the limit, 10-60 s.
 */
export function walltimeSignalLead(time: string | undefined): number | undefined {
  const limit = time === undefined ? undefined : parseSlurmDuration(time);
  return limit === undefined ? undefined : Math.max(10, Math.min(60, Math.floor(limit / 10)));
}

function checkInput(input: ArrayJobInput): void {
  const bad = (message: string) => new JlabError('INVALID_ARGUMENT', message);
  if (!path.isAbsolute(input.experimentDir) || /[\n\r\0]/.test(input.experimentDir))
    throw bad(`The experiment folder must be an absolute path on one line: ${JSON.stringify(input.experimentDir)}`);
  // sbatch expands % in --output, and the folder is in it.
  if (input.experimentDir.includes('%')) throw bad(`The experiment folder may not contain '%' (sbatch expands it): ${input.experimentDir}`);
  if (!(Number.isInteger(input.taskCount) && input.taskCount >= 1)) throw bad(`A sweep attempt needs at least one run (got ${input.taskCount}).`);
  if (!(Number.isInteger(input.maxConcurrent) && input.maxConcurrent >= 1))
    throw bad(`max_concurrent must be an integer of at least 1 (got ${input.maxConcurrent}).`);
  if (!(Number.isInteger(input.attempt) && input.attempt >= 1)) throw new JlabError('INTERNAL', `Not an attempt number: ${input.attempt}`);
  if (input.cellTimeoutS !== undefined && !(input.cellTimeoutS > 0)) throw bad(`cell_timeout must be positive (got ${input.cellTimeoutS}).`);
  if (input.kernelName !== undefined && !KERNEL_RE.test(input.kernelName)) throw bad(`Not a kernel name: ${JSON.stringify(input.kernelName)}`);
}

/** The job name: the profile's prefix, `sweep`, the sweep id (letters, digits, _ . - only) and the attempt. */
export function arrayJobName(s: BatchSettings, sweepId: string, attempt: number): string {
  const id = sweepId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32);
  return `${s.jobName ?? 'jlab-mcp'}-sweep-${id}-a${attempt}`.slice(0, 64);
}

/**
 * Lines that set `PY` to the Python of the interactive job's Jupyter command (beside it, or its
 * `#!` interpreter, else python3 on PATH) and exit 127 with a `say` when nbclient is not
 * importable by it. They run after the modules and setup; `doctor` runs them on the login node.
 */
export function jobPythonLines(s: BatchSettings): string[] {
  const q = quoteWord;
  return [
    "# The Python of the interactive job's Jupyter command: nbclient comes with it (through nbconvert).",
    `JUPYTER=(${s.jupyterCommand.map(q).join(' ')})`,
    'PY=',
    'if J=$(command -v "${JUPYTER[0]}" 2>/dev/null); then',
    '  case "${J##*/}" in',
    '    python*) PY=$J ;;',
    '    *)',
    '      for c in "$(dirname "$J")/python3" "$(dirname "$J")/python"; do [ -x "$c" ] && { PY=$c; break; }; done',
    '      if [ -z "$PY" ]; then',
    '        c=$(head -n 1 "$J" 2>/dev/null); c=${c#\\#!}; c=${c%% *}',
    '        case "${c##*/}" in python*) [ -x "$c" ] && PY=$c ;; esac',
    '      fi',
    '      ;;',
    '  esac',
    'fi',
    '[ -n "$PY" ] || PY=$(command -v python3 || command -v python || true)',
    '[ -n "$PY" ] || { say "no python on $(hostname) (looked next to ${JUPYTER[0]} and on PATH)"; exit 127; }',
    '"$PY" -c "import nbclient, nbformat" 2>/dev/null || { say "nbclient is not importable by $PY on $(hostname): install it in the job environment ($PY -m pip install nbclient)"; exit 127; }',
  ];
}

export function renderArrayScript(s: BatchSettings, input: ArrayJobInput): RenderedArray {
  validateBatchSettings(s);
  checkInput(input);
  const files = arrayFiles(input.experimentDir, input.attempt);
  const jobName = arrayJobName(s, input.sweepId, input.attempt);
  const lead = walltimeSignalLead(s.time);
  const q = quoteWord;
  const runnerArgs = [
    '--tasks',
    q(files.tasks),
    '--task-id',
    '"$SLURM_ARRAY_TASK_ID"',
    '--helper',
    q(files.helper),
    '--attempt',
    String(input.attempt),
    '--job-id',
    '"${SLURM_ARRAY_JOB_ID:-}"',
    // The kernel's working directory is the source notebook's, as in the interactive session.
    '--cwd',
    q(path.dirname(input.experimentDir)),
    ...(input.cellTimeoutS === undefined ? [] : ['--cell-timeout', String(Math.ceil(input.cellTimeoutS))]),
    ...(input.kernelName === undefined ? [] : ['--kernel', q(input.kernelName)]),
  ];
  const lines = [
    '#!/bin/bash',
    '# Written by jlab-mcp: one task of a sweep array runs one notebook in place (nbclient), saving after every cell.',
    `#SBATCH --job-name=${jobName}`,
    ...resourceLines(s),
    ...(lead === undefined ? [] : [`#SBATCH --signal=B:USR1@${lead}`]),
    '',
    'set -u',
    `say() { printf '${SAY_PREFIX}%s\\n' "$*" >&2; }`,
    `cd ${q(input.experimentDir)} || { say ${q(`cannot cd to ${input.experimentDir} (is it on a filesystem the compute node shares?)`)}; exit 1; }`,
    ...environmentLines(s),
    '',
    ...jobPythonLines(s),
    'export PYDEVD_DISABLE_FILE_VALIDATION=1',
    '# exec: the runner is the batch shell, so it receives the walltime warning (USR1) and SIGTERM itself.',
    `exec "$PY" ${q(files.runner)} ${runnerArgs.join(' ')}`,
    '',
  ];
  const sbatchArgs = [
    '--parsable',
    `--array=0-${input.taskCount - 1}%${input.maxConcurrent}`,
    // On the command line too, which beats any #SBATCH line and SBATCH_JOB_NAME.
    `--job-name=${jobName}`,
    `--output=${files.outputPattern}`,
    `--chdir=${input.experimentDir}`,
    ...(s.extraArgs ?? []),
  ];
  return { script: lines.join('\n'), sbatchArgs, jobName };
}
