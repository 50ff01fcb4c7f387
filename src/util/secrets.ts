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
