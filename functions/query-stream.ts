/**
 * `POST /query/stream`, LightRAG's streaming query route, on a Lambda function URL with
 * response streaming (`InvokeMode: RESPONSE_STREAM`; docs/http-api.md says why not API Gateway):
 * `application/x-ndjson`, first `{"references": […]}` (unless `include_references` is false),
 * then `{"response": "<text>"}` lines as the LLM produces them, and a failure after the first
 * line as a last `{"error": "<message>"}` line. Failures before it (bad requests, retrieval, a
 * provider failing before its first piece) are ordinary JSON errors with their status. The request body is `POST /query`'s. A client that disconnects stops the LLM.
 * Not a middy handler: middy's streaming mode buys nothing here and hides the stream.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { loadDatabaseSecret } from '../lib/aws/database-secret.ts';
import { HttpError } from '../lib/errors.ts';
import { getQueryRuntime } from '../lib/http/query-runtime.ts';
import { parseJsonBody, resolveWorkspace } from '../lib/http/request.ts';
import { errorResponse, statusFor } from '../lib/http/response.ts';
import { apiLogger } from '../lib/http/runtime.ts';
import { authenticateStream } from '../lib/http/stream-auth.ts';
import {
  httpResponseStream,
  type ResponseStream,
  streamifyResponse,
  writeLine,
} from '../lib/http/streaming.ts';
import { errorFields, withLogContext } from '../lib/logger.ts';
import { accounted } from '../lib/ops/invocation.ts';
import { parseQueryRequest, queryDefaults } from '../lib/query/request.ts';

export const STREAM_PATH = '/query/stream';

/** The handler before `streamifyResponse`. */
export async function streamQuery(
  event: APIGatewayProxyEventV2,
  responseStream: ResponseStream,
  context: Context,
): Promise<void> {
  const requestId = context.awsRequestId;
  const controller = new AbortController();
  let finished = false;
  responseStream.on('close', () => {
    if (!finished) controller.abort(new Error('the client went away'));
  });
  responseStream.on('error', () => controller.abort(new Error('the client went away')));
  let out: ResponseStream | undefined;
  try {
    await loadDatabaseSecret();
    const { config, engine } = getQueryRuntime();
    const method = event.requestContext?.http?.method;
    const path = event.rawPath ?? event.requestContext?.http?.path;
    if (path !== STREAM_PATH) {
      throw new HttpError(
        404,
        'ROUTE_NOT_FOUND',
        `Not found: this URL serves POST ${STREAM_PATH}.`,
      );
    }
    if (method !== 'POST') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${STREAM_PATH} takes POST.`);
    }
    const authorized = await authenticateStream(event, config.api);
    const body = parseJsonBody(authorized, config.api.maxBodyBytes);
    const request = parseQueryRequest(body, queryDefaults(config));
    const workspace = resolveWorkspace(authorized, body, config.api, config.workspace);
    const stream = await engine.stream(request, workspace, controller.signal);
    // The first piece before the status line: a provider that fails before writing anything
    // (after its retries) is an ordinary error with its status, not a 200 with an error line.
    const pieces = stream.pieces[Symbol.asyncIterator]();
    const first = await pieces.next();
    out = httpResponseStream(responseStream, {
      statusCode: 200,
      headers: {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-cache',
        'x-request-id': requestId,
        ...(stream.cached ? { 'x-cache': 'hit' } : {}),
      },
    });
    if (request.include_references) await writeLine(out, { references: stream.references });
    let next = first;
    try {
      for (; !next.done; next = await pieces.next()) await writeLine(out, { response: next.value });
    } finally {
      // Stopped early (the client went away): end the LLM stream and its request.
      if (!next.done) await pieces.return?.().catch(() => undefined);
    }
  } catch (err) {
    const aborted = controller.signal.aborted;
    const status = statusFor(err);
    const log = apiLogger();
    if (aborted) log.info('stream stopped: the client went away', { requestId });
    else if (status >= 500) log.error('stream failed', { requestId, ...errorFields(err) });
    else log.info('stream refused', { requestId, status, ...errorFields(err) });
    const res = errorResponse(err, requestId);
    if (!out) {
      // Nothing sent yet: an ordinary JSON error with its status.
      out = httpResponseStream(responseStream, {
        statusCode: res.statusCode,
        headers: res.headers,
      });
      out.write(res.body ?? '');
    } else if (!aborted) {
      const message = (JSON.parse(String(res.body)) as { error: { message: string } }).error
        .message;
      await writeLine(out, { error: message }).catch(() => undefined);
    }
  } finally {
    finished = true;
    responseStream.end();
  }
}

export const handler = streamifyResponse(
  (event: APIGatewayProxyEventV2, stream: ResponseStream, context: Context) =>
    withLogContext({ requestId: context.awsRequestId, route: `POST ${STREAM_PATH}` }, async () => {
      // Without a database (its secret or configuration failed) there is nothing to account;
      // streamQuery meets the same failure and answers it as an HTTP error.
      const db = await loadDatabaseSecret()
        .then(() => getQueryRuntime().db)
        .catch(() => undefined);
      const run = () => streamQuery(event, stream, context);
      return db ? accounted(db, apiLogger(), run) : run();
    }),
);
