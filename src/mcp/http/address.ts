import { JlabError } from '../../util/errors.js';

/** Where the HTTP listener binds: `--http [host:]port`. */
export interface ListenAddress {
  /** As the OS takes it: no brackets around an IPv6 address. */
  host: string;
  /** 0: the OS picks a free port (the bound one is printed). */
  port: number;
}

const DEFAULT_HOST = '127.0.0.1';

/** Parses `8765`, `127.0.0.1:8765`, `[::1]:8765`, `login1:0`. */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) {
    throw new JlabError('CONFIG_INVALID', `JLAB_MCP_HTTP / --http: "${text}" is not [host:]port.`, {
      hint: 'For example --http 8765 (on 127.0.0.1), --http 127.0.0.1:8765, or --http 127.0.0.1:0 for a free port.',
    });
  }
  return { host: match[1] ?? match[2] ?? DEFAULT_HOST, port };
}

/** True for addresses only this machine can reach (the safe default). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True for "every interface" binds, whose Host header can be any of this machine's names. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The host as it appears in a URL and in a Host header: IPv6 in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
