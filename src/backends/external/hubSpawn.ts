/**
 * JupyterHub answers 424 ("server no longer running") for a user server that is stopped and for
 * one it is still spawning (a batchspawner job in the queue, say): only its API tells them apart.
 * For a URL of the form `…/user/<name>/[<server>/]`, this asks `…/hub/api/users/<name>` — same
 * origin, the same token (a user's own token may read its servers) — and returns the server's
 * `pending` action (`spawn`), or undefined when nothing is pending or the hub will not say.
 */
export async function hubSpawnPending(
  doFetch: typeof fetch,
  baseUrl: string,
  token: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const match = /^(.*\/)user\/([^/]+)\/(?:([^/]+)\/)?$/.exec(new URL(baseUrl).pathname);
  if (!match) return undefined;
  const [, prefix, name, server] = match;
  try {
    // A path starting with `//` would resolve as protocol-relative, to another host: the token stays home.
    const api = new URL(`${prefix}hub/api/users/${name}`, baseUrl);
    if (api.origin !== new URL(baseUrl).origin) return undefined;
    const deadline = AbortSignal.timeout(timeoutMs);
    const response = await doFetch(api, {
      headers: { Authorization: `token ${token}`, Accept: 'application/json' },
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const model = (await response.json()) as { servers?: Record<string, { pending?: unknown }> };
    const pending = model.servers?.[decodeURIComponent(server ?? '')]?.pending;
    return typeof pending === 'string' ? pending : undefined;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
}
