/**
 * `POST /query/stream`, LightRAG's streaming query route, on a Lambda function URL with
 * response streaming (`InvokeMode: RESPONSE_STREAM`; docs/http-api.md says why not API Gateway):
 * `application/x-ndjson`: with `include_progress`, `{"progress": "<step>"}` lines first; then
 * `{"references": […]}` (unless `include_references` is false), `{"response": "<text>"}` lines
 * as the LLM produces them, and with `include_progress` a last `{"response_time": seconds}`; a
 * failure after the first line ends it with an `{"error": "<message>"}` line. Failures before it (bad requests, retrieval, a
 * provider failing before its first piece) are ordinary JSON errors with their status. The request body is `POST /query`'s. A client that disconnects stops the LLM.
 * Composed like every function (lib/handler.ts); it writes its own response, so the stream is
 * never handed to middy's streaming mode.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { authenticate } from '../lib/auth/middleware.ts';
import { HttpError } from '../lib/errors.ts';
import { streamingFunction } from '../lib/handler.ts';
import { getQueryRuntime } from '../lib/http/query-runtime.ts';
import { parseJsonBody, resolveWorkspace } from '../lib/http/request.ts';
import { errorPayload, errorResponse, statusFor } from '../lib/http/response.ts';
import { apiLogger } from '../lib/http/runtime.ts';
import { authenticateStream } from '../lib/http/stream-auth.ts';
import { httpResponseStream, type ResponseStream, writeLine } from '../lib/http/streaming.ts';
import { errorFields } from '../lib/logger.ts';
import { parseQueryRequest, queryDefaults } from '../lib/query/request.ts';

export const STREAM_PATH = '/query/stream';

/** The handler before `streamifyResponse`. */
export async function streamQuery(
  event: APIGatewayProxyEventV2,
  responseStream: ResponseStream,
  context: Context,
): Promise<void> {
  const requestId = context.awsRequestId;
  const started = performance.now();
  const controller = new AbortController();
  let finished = false;
  responseStream.on('close', () => {
    if (!finished) controller.abort(new Error('the client went away'));
  });
  responseStream.on('error', () => controller.abort(new Error('the client went away')));
  let out: ResponseStream | undefined;
  try {
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
    const authorized = await authenticate(await authenticateStream(event, config.api), config.api);
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
    // LightRAG's order: the progress steps (identifiers, as its WebUI shows them), then the
    // references. Here the steps are reported once retrieval and the first text are in.
    if (request.include_progress) {
      for (const step of progressSteps(stream.mode)) await writeLine(out, { progress: step });
    }
    if (request.include_references) await writeLine(out, { references: stream.references });
    let next = first;
    try {
      for (; !next.done; next = await pieces.next()) await writeLine(out, { response: next.value });
    } finally {
      // Stopped early (the client went away): end the LLM stream and its request.
      if (!next.done) await pieces.return?.().catch(() => undefined);
    }
    // LightRAG's last line, with include_progress only (other clients keep the old protocol).
    if (request.include_progress) {
      await writeLine(out, { response_time: seconds(performance.now() - started) });
    }
  } catch (err) {
    const aborted = controller.signal.aborted;
    if (aborted) apiLogger().info('stream stopped: the client went away', { requestId });
    if (!out) refuseStream(err, responseStream, requestId);
    else if (!aborted) {
      logFailure(err, requestId);
      await writeLine(out, { error: errorPayload(err, requestId).error.message }).catch(
        () => undefined,
      );
    }
  } finally {
    finished = true;
    responseStream.end();
  }
}

/** The retrieval steps a mode goes through, as LightRAG names them in its progress lines. */
function progressSteps(mode: string): string[] {
  if (mode === 'bypass') return ['generating_response'];
  const retrieval = mode === 'naive' ? [] : ['extracting_keywords'];
  return [...retrieval, 'retrieving_context', 'generating_response'];
}

/** Milliseconds as LightRAG's seconds, to the millisecond. */
const seconds = (ms: number) => Math.round(ms) / 1000;

function logFailure(err: unknown, requestId: string | undefined): void {
  const status = statusFor(err);
  if (status >= 500) apiLogger().error('stream failed', { requestId, ...errorFields(err) });
  else apiLogger().info('stream refused', { requestId, status, ...errorFields(err) });
}

/** Nothing sent yet: an ordinary JSON error with its status. */
function refuseStream(err: unknown, responseStream: ResponseStream, requestId?: string): void {
  logFailure(err, requestId);
  const res = errorResponse(err, requestId);
  const out = httpResponseStream(responseStream, {
    statusCode: res.statusCode,
    headers: res.headers,
  });
  out.write(res.body ?? '');
  if (!responseStream.writableEnded) responseStream.end();
}

export const handler = streamingFunction(
  `POST ${STREAM_PATH}`,
  getQueryRuntime,
  streamQuery,
  (err, responseStream, context) => refuseStream(err, responseStream, context.awsRequestId),
);
