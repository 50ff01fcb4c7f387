/**
 * Tokens we know about are registered here so that every message leaving the process can be
 * scrubbed. Registering is cheap; redaction is a plain string replace per known secret.
 */
const knownSecrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  // Very short strings would redact ordinary words; real tokens are long.
  if (secret && secret.length >= 8) knownSecrets.add(secret);
}

/** Replaces every registered secret and any `token=...` query parameter with a placeholder. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join('<redacted>');
  return out.replace(/([?&]token=)[^&\s"']+/gi, '$1<redacted>');
}

/** A URL without credentials, query or fragment: safe to show. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return redactSecrets(url);
  }
}

/** Environment variables that may hold a token jlab-mcp uses: no child process of ours inherits them. */
export const SECRET_ENV_NAMES = ['JLAB_MCP_JUPYTER_TOKEN', 'JLAB_MCP_HTTP_TOKEN', 'JUPYTER_TOKEN'] as const;

/** A copy of `env` without the variables that hold our tokens. */
export function envWithoutSecrets(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of SECRET_ENV_NAMES) delete copy[name];
  return copy;
}
