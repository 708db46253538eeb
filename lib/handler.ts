/**
 * Every function's handler composed one way, with middy: the same invocation middlewares first,
 * then what its kind adds. The invocation's: log context (request id and route on every line),
 * the database secret and LightRAG's login settings in place before anything reads the
 * configuration (lib/aws/database-secret.ts, lib/aws/login-secret.ts), and the invocation's usage and metrics settled once after it, on
 * success and on failure (lib/ops/invocation.ts). HTTP functions add CORS and the error responder
 * (lib/http/middleware.ts), queue functions answer with partial batch responses, and the
 * streaming function writes its own response, with failures before its first byte answered as
 * HTTP errors.
 *
 * @example
 * ```ts
 * export const handler = queueFunction(getIngestRuntime, (rt) => rt.config.ingest.concurrency,
 *   (rt, record, context) => processIngestRecord(rt, record, context));
 * ```
 */

import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { loginRequired } from './auth/middleware.ts';
import { databaseSecret } from './aws/database-secret.ts';
import { loginSecret } from './aws/login-secret.ts';
import type { ApiConfig } from './config.ts';
import type { Database } from './db/database.ts';
import { cors, errorResponder } from './http/middleware.ts';
import type { RouteHandler } from './http/router.ts';
import { apiLogger } from './http/runtime.ts';
import { type ResponseStream, type StreamingHandler, streamifyResponse } from './http/streaming.ts';
import { batchResponse } from './ingest/batch-response.ts';
import { enterLogContext, type Logger } from './logger.ts';
import { settleInvocation } from './ops/invocation.ts';
import { enterUsage, UsageRecorder } from './ops/usage.ts';

/** What settling an invocation needs from the function's container. */
interface Settles {
  db: Database;
  logger: Logger;
}

// biome-ignore lint/suspicious/noExplicitAny: the invocation's middlewares serve every event type
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, Context>;

/**
 * The middlewares every function starts with: log context, database secret, usage and metrics.
 * `route` names the invocation in the logs (an HTTP route key).
 */
export function invocation<E>(
  getRuntime: () => Settles,
  route?: (event: E) => string | undefined,
): AnyMiddleware[] {
  const usageOf = (request: middy.Request) => (request.internal as { usage?: UsageRecorder }).usage;
  const settle = async (request: middy.Request) => {
    const usage = usageOf(request);
    if (!usage) return;
    let runtime: Settles;
    try {
      runtime = getRuntime();
    } catch {
      return; // The configuration (or its secret) failed: nothing ran, nothing to settle.
    }
    await settleInvocation(runtime.db, runtime.logger, usage);
  };
  return [
    {
      before: (request) => {
        enterLogContext({
          requestId: request.context?.awsRequestId,
          ...(route ? { route: route(request.event as E) } : {}),
        });
      },
    },
    databaseSecret(),
    loginSecret(),
    {
      before: (request) => {
        const usage = new UsageRecorder();
        (request.internal as { usage?: UsageRecorder }).usage = usage;
        enterUsage(usage);
      },
      after: settle,
      onError: settle,
    },
  ];
}

/**
 * An SQS-triggered function: each record through `handle` (at most `concurrency` at once), the
 * failed ones reported for redelivery (`ReportBatchItemFailures`).
 */
export function queueFunction<R extends Settles>(
  getRuntime: () => R,
  concurrency: (runtime: R) => number,
  handle: (runtime: R, record: SQSRecord, context: Context) => Promise<unknown>,
) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(invocation(getRuntime))
    .handler((event, context) => {
      const runtime = getRuntime();
      return batchResponse(
        event,
        concurrency(runtime),
        runtime.logger,
        (record) => handle(runtime, record, context),
        context?.awsRequestId,
      );
    });
}

/** An API Gateway (HTTP API, payload v2) function dispatching with `routes` (lib/http/router.ts). */
export function httpFunction(
  getRuntime: () => Settles & { config: { api: ApiConfig } },
  routes: RouteHandler,
) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
    .use(invocation<APIGatewayProxyEventV2>(getRuntime, (event) => event.routeKey))
    .use(cors(() => getRuntime().config.api))
    .use(errorResponder(apiLogger))
    .use(loginRequired(() => getRuntime().config.api))
    .handler(routes);
}

/**
 * A response-streaming function (a function URL with `RESPONSE_STREAM`). `stream` writes the
 * whole response, its own failures included; `refuse` answers a failure of the invocation's
 * middlewares (an unreadable database secret) before anything was written.
 */
export function streamingFunction(
  route: string,
  getRuntime: () => Settles,
  stream: StreamingHandler<APIGatewayProxyEventV2, Context>,
  refuse: (err: unknown, responseStream: ResponseStream, context: Context) => void,
) {
  type Call = { event: APIGatewayProxyEventV2; responseStream: ResponseStream };
  const invoke = middy<Call, void>()
    .use(invocation<Call>(getRuntime, () => route))
    .use({
      onError: (request) => {
        refuse(request.error, request.event.responseStream, request.context);
        request.response = null as unknown as undefined; // answered: not a function error
      },
    })
    .handler(({ event, responseStream }, context) => stream(event, responseStream, context));
  return streamifyResponse<APIGatewayProxyEventV2, Context>((event, responseStream, context) =>
    invoke({ event, responseStream }, context),
  );
}
