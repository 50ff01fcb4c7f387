import type { SessionRegistry } from '../state/registry.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import type { SessionManager } from './sessionManager.js';

/**
 * Adopts what an earlier jlab-mcp on the same state directory left running: each server that
 * still answers, then each session's kernel (same session id, variables intact) and its running
 * cell. Sessions whose server or kernel is gone are reported with the resume call. Returns how
 * many sessions were adopted and lost.
 */
export async function reattach(manager: SessionManager, registry: SessionRegistry): Promise<{ adopted: number; lost: number }> {
  const previous = registry.previous;
  const started = Date.now();
  let adopted = 0;
  let lost = 0;
  if (!previous) return { adopted, lost };
  const servers = manager.servers;
  for (const record of Object.values(previous.servers)) {
    if (!servers.knows(record.profile)) {
      log.warn(`the registry names a server for profile "${record.profile}", which this configuration does not have; left alone`);
      registry.removeServer(record.profile);
      continue;
    }
    const supervisor = servers.get(record.profile === servers.defaultProfile ? undefined : record.profile);
    const alive = await supervisor.adopt(record).catch(() => false);
    if (!alive) registry.removeServer(record.profile);
    for (const session of Object.values(previous.sessions).filter((each) => each.profile === record.profile)) {
      if (!alive) {
        manager.markGone(session, `its Jupyter server (${record.backend}${record.backend === 'slurm' ? `, job ${record.jobId}` : ''}) is gone`);
        lost++;
        continue;
      }
      try {
        if (await manager.adopt(session, supervisor)) adopted++;
        else lost++;
      } catch (error) {
        manager.markGone(session, `it could not be adopted (${messageOf(error)})`);
        lost++;
      }
    }
  }
  // Sessions whose server has no record at all cannot be reached.
  for (const session of Object.values(previous.sessions)) {
    if (!(session.profile in previous.servers)) {
      manager.markGone(session, 'the registry has no server for it');
      lost++;
    }
  }
  if (adopted || lost) log.info(`reattach: ${adopted} session(s) adopted, ${lost} gone, in ${Date.now() - started} ms`);
  return { adopted, lost };
}
