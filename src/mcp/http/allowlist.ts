import { hostHeaderValidationResponse, localhostAllowedHostnames, localhostAllowedOrigins, originValidationResponse } from '@modelcontextprotocol/server';
import { isWildcard, urlHost, type ListenAddress } from './address.js';

/** Which Host and Origin headers a request may carry (hostnames, no ports). */
export interface Allowlist {
  hosts: string[];
  origins: string[];
}

/**
 * Loopback names always; the address we bind (so `--http login1:8765` answers to Host
 * `login1`); and what the settings add. A wildcard bind adds nothing: its names are listed
 * with JLAB_MCP_HTTP_ALLOWED_HOSTS.
 */
export function allowlistFor(address: ListenAddress, extraHosts: string | undefined, extraOrigins: string | undefined): Allowlist {
  const bound = isWildcard(address.host) ? [] : [urlHost(address.host).toLowerCase()];
  return {
    hosts: unique([...localhostAllowedHostnames(), ...bound, ...words(extraHosts)]),
    origins: unique([...localhostAllowedOrigins(), ...words(extraOrigins)]),
  };
}

/**
 * The SDK's DNS-rebinding guards, Host first, then Origin: a refusal (403, JSON-RPC error
 * body) or undefined when the request may go on. A page in a browser can make a request to our
 * port under its own name (rebinding) or from its own origin; either is refused before the
 * token is even looked at.
 */
export function refuseForeign(request: Request, allow: Allowlist): Response | undefined {
  return hostHeaderValidationResponse(request, allow.hosts) ?? originValidationResponse(request, allow.origins);
}

function words(text: string | undefined): string[] {
  // As the SDK compares them: URL hostnames, lower case.
  return (text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
