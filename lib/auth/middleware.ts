/**
 * middy: LightRAG's login checked in the function, before any route runs (the API Gateway
 * routes under `auth=lightrag` have no authorizer of their own, and the streaming URL is open).
 * A bearer token from `POST /login` or `/auth-status` (guest mode), or an `X-API-Key`, is
 * required on every route but the public ones. The verified identity is put where a Lambda
 * authorizer's context would be (`requestContext.authorizer.lambda`), so the workspace rules
 * (`WORKSPACE_CLAIM`) read login tokens as they read any identity.
 *
 * @example
 * ```ts
 * middy().use(loginRequired(() => config.api)).handler(routes);
 * ```
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';
import { HttpError } from '../errors.ts';
import { header } from '../http/request.ts';
import { type LoginConfig, sha256 } from '../settings/login.ts';
import { issueToken, verifyToken } from './tokens.ts';

/** Routes anyone may call: the login itself, LightRAG's default whitelist (`/health`), its docs. */
export const PUBLIC_ROUTES = new Set([
  'GET /auth-status',
  'POST /login',
  'GET /health',
  // FastAPI serves LightRAG's API docs outside its API-key check; so do we.
  'GET /docs',
  'GET /openapi.json',
]);

function keyMatches(login: LoginConfig, key: string): boolean {
  const digest = Buffer.from(sha256(key), 'hex');
  // Every digest compared, in constant time each: no early exit on the first match.
  let found = false;
  for (const known of login.apiKeyDigests) {
    if (timingSafeEqual(digest, Buffer.from(known, 'hex'))) found = true;
  }
  return found;
}

/**
 * The identity of the caller, or an HttpError as LightRAG answers it: 403 "API Key required" /
 * "Invalid API Key" when keys are the only credential (the WebUI then asks for a key), else 401.
 */
export async function authenticate(
  event: APIGatewayProxyEventV2,
  api: Pick<ApiConfig, 'login' | 'workspaceClaim'>,
): Promise<APIGatewayProxyEventV2> {
  const login = api.login;
  if (!login) return event;
  let identity: Record<string, unknown> | undefined;
  const apiKey = header(event, 'x-api-key');
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(event, 'authorization') ?? '')?.[1];
  if (apiKey !== undefined && login.apiKeyDigests.length > 0) {
    if (!keyMatches(login, apiKey)) throw new HttpError(403, 'INVALID_API_KEY', 'Invalid API Key');
    const granted = login.workspaces?.['api-key'];
    identity = {
      sub: 'api-key',
      role: 'user',
      ...(api.workspaceClaim && login.workspaces ? { [api.workspaceClaim]: granted ?? [] } : {}),
    };
  } else if (bearer && (login.accounts.size + login.plainPasswords.size > 0 || login.guest)) {
    identity = await verifyToken(login, bearer);
    if (!identity) {
      throw new HttpError(401, 'INVALID_TOKEN', 'Invalid token. Please login again.');
    }
  } else if (login.accounts.size + login.plainPasswords.size === 0 && !login.guest) {
    throw new HttpError(403, 'API_KEY_REQUIRED', 'API Key required');
  } else {
    throw new HttpError(401, 'NOT_AUTHENTICATED', 'Not authenticated');
  }
  const authorizer = (event.requestContext as { authorizer?: Record<string, unknown> }).authorizer;
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: { ...authorizer, lambda: identity },
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

/**
 * A login token past half its lifetime: a fresh one, which the WebUI takes from `X-New-Token`
 * (LightRAG's renewal), so an open tab does not meet a sudden 401.
 */
export async function renewedToken(
  event: APIGatewayProxyEventV2,
  api: Pick<ApiConfig, 'login' | 'workspaceClaim'>,
): Promise<string | undefined> {
  const login = api.login;
  const identity = (event.requestContext as { authorizer?: { lambda?: Record<string, unknown> } })
    .authorizer?.lambda;
  if (!login || !identity || identity.sub === 'api-key' || typeof identity.exp !== 'number') {
    return undefined;
  }
  const role = identity.role === 'guest' ? 'guest' : 'user';
  const hours = role === 'guest' ? login.guestTokenExpireHours : login.tokenExpireHours;
  if (identity.exp - Date.now() / 1000 > (hours * 3600) / 2) return undefined;
  return issueToken(login, { sub: String(identity.sub), role }, api.workspaceClaim);
}

/**
 * The middleware: every route but {@link PUBLIC_ROUTES} needs a login credential; a token past
 * half its lifetime comes back renewed in `X-New-Token`.
 */
export function loginRequired(
  getApi: () => Pick<ApiConfig, 'login' | 'workspaceClaim'>,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    before: async (request) => {
      const api = getApi();
      if (!api.login || PUBLIC_ROUTES.has(request.event.routeKey)) return;
      if (request.event.requestContext?.http?.method === 'OPTIONS') return;
      request.event = await authenticate(request.event, api);
    },
    after: async (request) => {
      const response = request.response as { headers?: Record<string, string> } | undefined;
      if (!response || typeof response !== 'object') return;
      const fresh = await renewedToken(request.event, getApi());
      if (fresh) response.headers = { ...response.headers, 'x-new-token': fresh };
    },
  };
}
