import type { SetupStep } from './plan.js';
import { readyMarker, venvPython } from './privateVenv.js';
import { envWithoutSecrets } from '../util/secrets.js';

/** Seconds each kind of step may take before it is stopped and the setup fails (a slow mirror, a stuck lock). */
export const STEP_DEADLINE_S: Record<SetupStep['kind'], number> = {
  'apt-update': 300,
  'apt-install': 1200,
  'make-venv': 180,
  'pip-install': 1200,
};

export interface StepCommand {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** What the progress lines call it. */
  label: string;
  /** apt/dpkg cut short leaves the package database for a person to repair: on our exit it is left to finish. */
  finishOnExit: boolean;
  /** Written when the step succeeded (the venv's ready marker). */
  marker?: string;
}

/** Pure: the argv of a step. `python3` is the interpreter that makes the venv. */
export function stepCommand(step: SetupStep, python3: string, given: NodeJS.ProcessEnv): StepCommand {
  // apt and pip run third-party code (maintainer scripts, package builds): none of our tokens.
  const env = envWithoutSecrets(given);
  switch (step.kind) {
    case 'apt-update':
      return { argv: ['apt-get', 'update', '-qq'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, label: 'apt-get update', finishOnExit: true };
    case 'apt-install':
      return {
        // A lock held by another apt (unattended upgrades) is waited for, within the step's deadline.
        argv: ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', ...step.packages],
        env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
        label: `apt-get install ${step.packages.join(' ')}`,
        finishOnExit: true,
      };
    case 'make-venv':
      // System site packages: the kernel sees what the user's python3 sees (numpy, pandas…), plus Jupyter.
      return {
        argv: [python3, '-m', 'venv', '--system-site-packages', step.dir],
        env,
        label: `python3 -m venv --system-site-packages ${step.dir}`,
        finishOnExit: false,
      };
    case 'pip-install':
      return {
        argv: [venvPython(step.dir), '-m', 'pip', 'install', '--progress-bar', 'off', '--disable-pip-version-check', ...step.packages],
        env: { ...env, PIP_NO_INPUT: '1' },
        label: `pip install ${step.packages.join(' ')} (into ${step.dir})`,
        finishOnExit: false,
        marker: readyMarker(step.dir),
      };
  }
}
