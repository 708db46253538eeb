/**
 * The two middy middlewares only the HTTP functions add to the invocation's own
 * (lib/handler.ts): `cors` (with preflight) and `errorResponder` (any thrown error as the stable
 * JSON error body).
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';
import { errorFields, type Logger } from '../logger.ts';
import { header, LIGHTRAG_WORKSPACE_HEADER } from './request.ts';
import { errorResponse, type HttpResponse, statusFor } from './response.ts';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, Context>;

function corsHeaders(
  event: APIGatewayProxyEventV2,
  getApi: () => ApiConfig,
): Record<string, string> {
  let api: ApiConfig;
  try {
    api = getApi();
  } catch {
    return {}; // Misconfigured: the error responder reports it; no CORS grant without configuration.
  }
  const origin = header(event, 'origin');
  if (!origin || api.corsAllowOrigins.length === 0) return {};
  const allowed = api.corsAllowOrigins.includes('*')
    ? '*'
    : api.corsAllowOrigins.includes(origin)
      ? origin
      : undefined;
  if (!allowed) return {};
  return {
    'access-control-allow-origin': allowed,
    'access-control-allow-headers': `content-type,authorization,x-api-key,${api.workspaceHeader},${LIGHTRAG_WORKSPACE_HEADER}`,
    'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
    'access-control-max-age': '600',
    // LightRAG's token renewal (lib/auth/middleware.ts) is read by the WebUI.
    'access-control-expose-headers': 'x-new-token',
    ...(allowed === '*' ? {} : { vary: 'origin' }),
  };
}

/** CORS headers on every response; `OPTIONS` preflights answered without running the handler. */
export function cors(
  getApi: () => ApiConfig,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  const add = (request: Request) => {
    const response = request.response as HttpResponse | undefined;
    if (response) response.headers = { ...response.headers, ...corsHeaders(request.event, getApi) };
  };
  return {
    before: (request) => {
      if (request.event.requestContext?.http?.method === 'OPTIONS') {
        return { statusCode: 204, headers: corsHeaders(request.event, getApi), body: '' };
      }
      return undefined;
    },
    after: add,
    onError: add,
  };
}

/** Any error becomes `{ error: { code, message, details }, detail }` with its status; 5xx are logged. */
export function errorResponder(
  getLogger: () => Logger,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    onError: (request) => {
      const status = statusFor(request.error);
      const requestId = request.context?.awsRequestId;
      const fields = {
        route: request.event.routeKey,
        status,
        requestId,
        ...errorFields(request.error),
      };
      if (status >= 500)
        getLogger().error('request failed', { ...fields, stack: request.error?.stack });
      else getLogger().info('request refused', fields);
      request.response = errorResponse(request.error, requestId);
    },
  };
}
