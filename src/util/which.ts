import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Full path of an executable on PATH, or undefined. Synchronous: a handful of access() calls,
 * made when a server starts or the run mode is chosen, never on a hot path.
 */
export function which(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
