/**
 * The small middy middlewares of the HTTP functions: `logContext` (request id and route on every
 * log line), `accounting` (usage counts and metrics settled once per invocation), `cors` (with
 * preflight) and `errorResponder` (any thrown error as the stable JSON error body).
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { enterLogContext, errorFields, type Logger } from '../logger.ts';
import { settleInvocation } from '../ops/invocation.ts';
import { enterUsage, UsageRecorder } from '../ops/usage.ts';
import { header } from './request.ts';
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
    'access-control-allow-headers': `content-type,authorization,${api.workspaceHeader}`,
    'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
    'access-control-max-age': '600',
    ...(allowed === '*' ? {} : { vary: 'origin' }),
  };
}

/**
 * Every log line of the invocation carries its request id and route (and, once resolved, the
 * workspace): one request can be followed through the logs.
 */
export function logContext(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    before: (request) => {
      enterLogContext({
        requestId: request.context?.awsRequestId,
        route: request.event.routeKey,
      });
    },
  };
}

/**
 * Usage of the request's model calls recorded and stored when it ends, with its metrics
 * (lib/ops/invocation.ts).
 */
export function accounting(
  get: () => { db: Database; logger: Logger },
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  const finish = async (request: Request) => {
    const usage = (request.internal as { usage?: UsageRecorder }).usage;
    if (usage) await settleInvocation(get().db, get().logger, usage);
  };
  return {
    before: (request) => {
      const usage = new UsageRecorder();
      (request.internal as { usage?: UsageRecorder }).usage = usage;
      enterUsage(usage);
    },
    after: finish,
    onError: finish,
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

/** Any error becomes `{ error: { code, message, details } }` with its status; 5xx are logged. */
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
