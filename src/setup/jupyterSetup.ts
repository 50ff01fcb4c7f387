import { jupyterLabNextTo, withJupyterLab } from '../backends/local/jupyterLab.js';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { quoteWords } from '../util/shell.js';
import { which } from '../util/which.js';
import { gatherSetupFacts } from './facts.js';
import { planSetup, type SetupPlan, type SetupPolicy } from './plan.js';
import { privateVenvDir, venvJupyterCommand } from './privateVenv.js';
import { runStep, type StepWatch } from './runStep.js';
import { lockVenv } from './venvLock.js';
import { STEP_DEADLINE_S, stepCommand } from './stepCommand.js';

export interface JupyterSetupOptions {
  /** JLAB_MCP_SETUP. Default auto. */
  policy: SetupPolicy;
  /** JLAB_MCP_JUPYTER_CMD, when set (then nothing is installed). */
  configuredCommand?: string;
  /** JLAB_MCP_JUPYTERLAB: JupyterLab next to the venv's server when it is there. Default true. */
  jupyterLab?: boolean;
  env?: NodeJS.ProcessEnv;
}

interface Running {
  index: number;
  total: number;
  label: string;
  since: number;
  watch: StepWatch;
}

/**
 * Makes sure the local backend has a Jupyter server before it starts one: looks (facts), decides
 * (`planSetup`), runs the steps with a progress line per step on stderr. It runs inside the
 * server start, which happens in the background: MCP is served at once and the first start call
 * waits, with progress notifications saying what the setup does (`summary`). One setup at a time;
 * a failed one is tried again by the next start.
 */
export class JupyterSetup {
  private pending?: Promise<string[] | undefined>;
  private running?: Running;
  private lastPlan?: SetupPlan;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: JupyterSetupOptions) {
    this.env = options.env ?? process.env;
  }

  /** The argv of the private venv's Jupyter when that is the one to use; undefined: the usual lookup (configured command, PATH). Throws when there is none to use. */
  ensure(signal: AbortSignal): Promise<string[] | undefined> {
    this.pending ??= this.run(signal).finally(() => {
      this.pending = undefined;
      this.running = undefined;
    });
    return this.pending;
  }

  /** What the setup is doing now, for progress notifications; undefined when it runs no step. */
  summary(): string | undefined {
    const step = this.running;
    if (!step) return undefined;
    const seconds = Math.round((Date.now() - step.since) / 1000);
    return `setting up Jupyter, step ${step.index}/${step.total}: ${step.label} (${seconds} s)${step.watch.lastLine ? ` — ${step.watch.lastLine}` : ''}`;
  }

  describe(): Record<string, unknown> {
    return { policy: this.options.policy, venv: privateVenvDir(this.env), plan: this.lastPlan?.why, step: this.summary() };
  }

  private async run(signal: AbortSignal): Promise<string[] | undefined> {
    const venvDir = privateVenvDir(this.env);
    let plan = await this.plan(venvDir);
    if (!plan.steps.some((step) => step.kind === 'make-venv' || step.kind === 'pip-install')) return this.follow(plan, venvDir, signal);
    const release = await lockVenv(venvDir, signal, (STEP_DEADLINE_S['make-venv'] + STEP_DEADLINE_S['pip-install']) * 1000);
    try {
      // Another jlab-mcp may have finished the venv while we waited for the lock.
      plan = await this.plan(venvDir);
      return await this.follow(plan, venvDir, signal);
    } finally {
      await release();
    }
  }

  private async plan(venvDir: string): Promise<SetupPlan> {
    const facts = await gatherSetupFacts({ configuredCommand: this.options.configuredCommand, venvDir, env: this.env });
    this.lastPlan = planSetup(facts, this.options.policy, venvDir);
    return this.lastPlan;
  }

  /** Runs the plan's steps; the venv's command when the plan uses it. */
  private async follow(plan: SetupPlan, venvDir: string, signal: AbortSignal): Promise<string[] | undefined> {
    if (plan.use === 'none') {
      throw new JlabError('SERVER_START_FAILED', `No Jupyter server to start: ${plan.why}.`, {
        hint: `Run: ${plan.fix} — then call again (nothing to restart).`,
      });
    }
    if (plan.steps.length) log.info(`setup: ${plan.why} (${plan.steps.length} step${plan.steps.length > 1 ? 's' : ''})`);
    else if (plan.use === 'venv') log.info(`setup: ${plan.why}`);
    const python3 = which('python3', this.env.PATH ?? '') ?? 'python3';
    for (const [i, step] of plan.steps.entries()) {
      const command = stepCommand(step, python3, this.env);
      const running: Running = { index: i + 1, total: plan.steps.length, label: command.label, since: Date.now(), watch: {} };
      this.running = running;
      log.info(`setup ${running.index}/${running.total}: ${command.label}`);
      try {
        await runStep(command, STEP_DEADLINE_S[step.kind], signal, running.watch);
      } catch (error) {
        if (error instanceof JlabError && error.code === 'SERVER_START_FAILED') {
          throw new JlabError(error.code, error.message, {
            hint: `Run it yourself: ${plan.fix ?? quoteWords(command.argv)} — or set JLAB_MCP_JUPYTER_CMD; the next call tries again.`,
          });
        }
        throw error;
      }
      log.info(`setup ${running.index}/${running.total} done in ${Math.round((Date.now() - running.since) / 1000)} s`);
    }
    if (plan.use !== 'venv') return undefined;
    const command = venvJupyterCommand(venvDir);
    return withJupyterLab(command, (this.options.jupyterLab ?? true) ? await jupyterLabNextTo(command[0]!) : undefined);
  }
}
