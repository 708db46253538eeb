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
let keys: { issuer: string; set: Promise<KeySet> } | undefined;

/** The issuer's key set, from its OIDC discovery document (fetched once per container). */
function keySet(issuer: string): Promise<KeySet> {
  if (keys?.issuer === issuer) return keys.set;
  const set = (async () => {
    const { createRemoteJWKSet } = await import('jose');
    const base = issuer.replace(/\/$/, '');
    const response = await fetch(`${base}/.well-known/openid-configuration`, {
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`OIDC discovery answered HTTP ${response.status}`);
    const { jwks_uri: uri } = (await response.json()) as { jwks_uri?: string };
    if (!uri) throw new Error('the OIDC discovery document has no jwks_uri');
    return createRemoteJWKSet(new URL(uri));
  })();
  keys = { issuer, set };
  set.catch(() => {
    if (keys?.set === set) keys = undefined; // Try discovery again on the next request.
  });
  return set;
}

/**
 * The event with the verified claims, or the event unchanged without `JWT_ISSUER` (IAM: the
 * function URL has checked the signature). A missing or bad token is 401, a token without the
 * scope 403.
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
  try {
    ({ payload: claims } = await jwtVerify(token, await keySet(api.jwt.issuer), {
      issuer: api.jwt.issuer,
      audience: api.jwt.audience,
    }));
  } catch (err) {
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
