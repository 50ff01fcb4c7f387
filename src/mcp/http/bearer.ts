import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError, OAuthErrorCode, requireBearerAuth, type AuthInfo } from '@modelcontextprotocol/server';

/** Seconds a verified request's AuthInfo says it is good for (the SDK refuses tokens without an expiry). */
const AUTH_INFO_LIFETIME_S = 3600;

/**
 * The SDK's bearer gate (`requireBearerAuth`: 401 with a `WWW-Authenticate: Bearer` challenge
 * for a missing, malformed or wrong token) over one static token. Resolves to the AuthInfo, or
 * to the Response that refuses the request.
 */
export function bearerGate(token: string): (request: Request) => Promise<AuthInfo | Response> {
  const expected = digest(token);
  return requireBearerAuth({
    verifier: {
      async verifyAccessToken(presented: string): Promise<AuthInfo> {
        // Compared as SHA-256 digests: equal lengths for timingSafeEqual, and no early exit
        // that would tell an attacker how many leading characters were right.
        if (!timingSafeEqual(digest(presented), expected)) throw new OAuthError(OAuthErrorCode.InvalidToken, 'Invalid token');
        return { token: presented, clientId: 'jlab-mcp-http', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + AUTH_INFO_LIFETIME_S };
      },
    },
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
