import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { JlabError, messageOf } from '../../util/errors.js';

/** Shorter tokens are refused: a token file is no place for a password. */
const MIN_TOKEN_LENGTH = 32;

/**
 * The bearer token kept in `file`: read when the file exists (it must be 0600 or stricter, as
 * ssh wants of a key), else 32 random bytes as hex written there with O_EXCL and mode 0600.
 * Keeping it across restarts lets the laptop's client configuration stay valid; deleting the
 * file makes a new one at the next start. The token itself is never logged, only the path.
 */
export async function loadOrCreateToken(file: string): Promise<{ token: string; created: boolean }> {
  const existing = await readToken(file);
  if (existing) return { token: existing, created: false };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${token}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { token, created: true };
  } catch (error) {
    // Another jlab-mcp made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = await readToken(file);
      if (theirs) return { token: theirs, created: false };
    }
    throw new JlabError('CONFIG_INVALID', `Cannot write the HTTP token file ${file}: ${messageOf(error)}`, {
      hint: 'Point JLAB_MCP_HTTP_TOKEN_FILE (--http-token-file) at a writable place, e.g. under your home directory.',
    });
  }
}

async function readToken(file: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JlabError('CONFIG_INVALID', `Cannot read the HTTP token file ${file}: ${messageOf(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new JlabError('CONFIG_INVALID', `The HTTP token file ${file} can be read by others (mode ${(mode & 0o777).toString(8)}).`, {
      hint: `Run chmod 600 ${file}, or delete it and a new token is made at the next start.`,
    });
  }
  const token = (await readFile(file, 'utf8')).split('\n')[0]!.trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new JlabError('CONFIG_INVALID', `The HTTP token file ${file} holds no token of at least ${MIN_TOKEN_LENGTH} characters.`, {
      hint: 'Delete the file and a new token is made at the next start.',
    });
  }
  return token;
}
