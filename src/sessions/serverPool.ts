import type { JupyterBackend } from '../backends/types.js';
import { JlabError } from '../util/errors.js';
import { ServerSupervisor, type ServerDescription } from './serverSupervisor.js';

/** Makes the backend of a named profile (SLURM: one job per profile in use). */
export interface BackendFactory {
  /** Profile names this factory knows; empty when the backend has no profiles. */
  readonly profiles: readonly string[];
  /** The profile used when a call names none. */
  readonly defaultProfile: string;
  create(profile: string): JupyterBackend;
}

/**
 * One supervised Jupyter server per profile in use. The default profile's server starts at
 * launch; another profile's starts the first time a session asks for it.
 */
export class ServerPool {
  private readonly supervisors = new Map<string, ServerSupervisor>();
  private readonly createdListeners = new Set<(supervisor: ServerSupervisor) => void>();

  constructor(
    private readonly factory: BackendFactory,
    readonly modeReason: string,
  ) {}

  get defaultProfile(): string {
    return this.factory.defaultProfile;
  }

  /** The supervisor for `profile` (default when undefined), created on first use. */
  get(profile?: string): ServerSupervisor {
    const name = profile ?? this.factory.defaultProfile;
    let supervisor = this.supervisors.get(name);
    if (supervisor) return supervisor;
    if (profile !== undefined && !this.factory.profiles.includes(profile)) {
      throw new JlabError('INVALID_ARGUMENT', `Unknown profile "${profile}".`, {
        hint: this.factory.profiles.length
          ? `Profiles: ${this.factory.profiles.join(', ')} (from JLAB_MCP_SLURM_PROFILES); omit profile for the default (${this.factory.defaultProfile}).`
          : 'Profiles exist only for the SLURM backend with JLAB_MCP_SLURM_PROFILES set; omit the profile argument.',
      });
    }
    supervisor = new ServerSupervisor(this.factory.create(name), this.modeReason, name);
    this.supervisors.set(name, supervisor);
    for (const listener of this.createdListeners) listener(supervisor);
    return supervisor;
  }

  /** Called for every supervisor, now and when later ones are created. */
  onCreated(listener: (supervisor: ServerSupervisor) => void): void {
    this.createdListeners.add(listener);
    for (const supervisor of this.supervisors.values()) listener(supervisor);
  }

  all(): ServerSupervisor[] {
    return [...this.supervisors.values()];
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((supervisor) => supervisor.stop()));
  }

  /** Exit with the keep policy: every server goes on running for a later jlab-mcp. */
  async detach(): Promise<void> {
    await Promise.all(this.all().map((supervisor) => supervisor.detach()));
  }

  /** Whether `profile` names a server this pool can hold (for a registry written by another configuration). */
  knows(profile: string): boolean {
    return profile === this.factory.defaultProfile || this.factory.profiles.includes(profile);
  }

  describe(): { modeReason: string; defaultProfile: string; profiles: readonly string[]; servers: Record<string, ServerDescription> } {
    return {
      modeReason: this.modeReason,
      defaultProfile: this.factory.defaultProfile,
      profiles: this.factory.profiles,
      servers: Object.fromEntries(this.all().map((supervisor) => [supervisor.profile, supervisor.describe()])),
    };
  }
}
