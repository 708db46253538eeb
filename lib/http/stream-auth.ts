/**
 * Tokens for the streaming route under JWT auth. Its function URL can check IAM signatures but
 * not JWTs, so with `JWT_ISSUER` set the function verifies the bearer token as API Gateway's JWT
 * authorizer does for the other routes: signature against the issuer's keys (OIDC discovery,
 * jose), issuer, audience, expiry, and the `lightrag/read` scope. The claims then reach the
 * workspace rules exactly as API Gateway passes them (`requestContext.authorizer.jwt`).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';
import { HttpError } from '../errors.ts';

export const STREAM_SCOPE = 'lightrag/read';

type KeySet = ReturnType<typeof import('jose').createRemoteJWKSet>;
/** Per issuer (one in practice): its key set, or its failure while remembered. */
const keys = new Map<string, Promise<KeySet>>();

/** Each request to the issuer (discovery, keys) gives up after this long. */
const ISSUER_TIMEOUT_MS = 5_000;
/** A failed discovery is remembered this long: an outage is not hammered by every request. */
const FAILURE_CACHE_MS = 30_000;

/** The issuer could not be reached or answered nonsense: the caller is not at fault. */
class IssuerUnavailable extends Error {}

/** The issuer's key set, from its OIDC discovery document (fetched once per container). */
function keySet(issuer: string): Promise<KeySet> {
  const known = keys.get(issuer);
  if (known) return known;
  const set = (async () => {
    const { createRemoteJWKSet } = await import('jose');
    const base = issuer.replace(/\/$/, '');
    try {
      const response = await fetch(`${base}/.well-known/openid-configuration`, {
        redirect: 'error',
        signal: AbortSignal.timeout(ISSUER_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`OIDC discovery answered HTTP ${response.status}`);
      const { jwks_uri: uri } = (await response.json()) as { jwks_uri?: string };
      if (!uri) throw new Error('the OIDC discovery document has no jwks_uri');
      return createRemoteJWKSet(new URL(uri), { timeoutDuration: ISSUER_TIMEOUT_MS });
    } catch (err) {
      throw new IssuerUnavailable((err as Error).message);
    }
  })();
  keys.set(issuer, set);
  set.catch(() => {
    // Tried again once the failure has been remembered for a while.
    setTimeout(() => {
      if (keys.get(issuer) === set) keys.delete(issuer);
    }, FAILURE_CACHE_MS).unref();
  });
  return set;
}

/** jose's codes for a key set it could not fetch or read: the issuer's trouble, not the token's. */
const ISSUER_ERRORS = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

function unavailable(): HttpError {
  return new HttpError(
    503,
    'AUTH_UNAVAILABLE',
    "The token issuer's keys could not be fetched; try again shortly.",
  );
}

/**
 * The event with the verified claims, or the event unchanged without `JWT_ISSUER` (IAM: the
 * function URL has checked the signature). A missing or bad token is 401, a token without the
 * scope 403; an issuer that cannot be reached 503 `AUTH_UNAVAILABLE` (a fixed message).
 */
export async function authenticateStream(
  event: APIGatewayProxyEventV2,
  api: Pick<ApiConfig, 'jwt'>,
): Promise<APIGatewayProxyEventV2> {
  if (!api.jwt) return event;
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!token)
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      'A bearer token is required (Authorization: Bearer …).',
    );
  const { jwtVerify } = await import('jose');
  let claims: Record<string, unknown>;
  let set: KeySet;
  try {
    set = await keySet(api.jwt.issuer);
  } catch {
    throw unavailable(); // The issuer's own text stays out of the answer.
  }
  try {
    ({ payload: claims } = await jwtVerify(token, set, {
      issuer: api.jwt.issuer,
      audience: api.jwt.audience,
      // API Gateway's JWT authorizer refuses a token that never expires; so does this check.
      requiredClaims: ['exp'],
    }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if ((code && ISSUER_ERRORS.has(code)) || err instanceof TypeError) throw unavailable();
    throw new HttpError(401, 'UNAUTHORIZED', `The token was refused (${(err as Error).message}).`);
  }
  const scopes = String(claims.scope ?? claims.scp ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
  if (!scopes.includes(STREAM_SCOPE)) {
    throw new HttpError(403, 'INSUFFICIENT_SCOPE', `The token lacks the scope ${STREAM_SCOPE}.`);
  }
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: { jwt: { claims, scopes } },
    } as APIGatewayProxyEventV2['requestContext'],
  };
}
