/**
 * HTTP responses for API Gateway (HTTP API, payload v2). Errors map to one stable body,
 * `{ "error": { "code", "message", "details" } }`, with no stack traces, SQL or secrets.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  ConfigError,
  DatabaseUnavailableError,
  DimensionMismatchError,
  DocumentBusyError,
  DocumentNotFoundError,
  DocumentNotReprocessableError,
  GraphContendedError,
  HttpError,
  InvalidWorkspaceError,
  LightRagError,
  LlmNotConfiguredError,
  ProviderError,
  QueueNotConfiguredError,
  SecretUnavailableError,
  UploadsNotConfiguredError,
  ValidationError,
} from '../errors.ts';

/** An API Gateway (payload v2) response with its status and headers always set. */
export type HttpResponse = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/** The HTTP status for an error; anything unrecognised is a 500. */
export function statusFor(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof ValidationError || err instanceof InvalidWorkspaceError) return 400;
  if (err instanceof DocumentNotFoundError) return 404;
  if (err instanceof DimensionMismatchError || err instanceof LlmNotConfiguredError) return 422;
  if (err instanceof DocumentBusyError || err instanceof DocumentNotReprocessableError) return 409;
  if (
    err instanceof DatabaseUnavailableError ||
    err instanceof GraphContendedError ||
    err instanceof QueueNotConfiguredError ||
    err instanceof UploadsNotConfiguredError ||
    err instanceof SecretUnavailableError
  )
    return 503;
  if (err instanceof ProviderError) return err.retryable ? 503 : 502;
  return 500;
}

/** What a caller is told when a dependency fails (the details are in the log). */
const SERVER_MESSAGES: Record<string, string> = {
  DATABASE_UNAVAILABLE: 'The database is unavailable right now; try again shortly.',
  DATABASE_SECRET_UNAVAILABLE:
    'The database credentials could not be read; the operator can find the reason in the logs.',
  LOGIN_SECRET_UNAVAILABLE:
    'The login settings could not be read; the operator can find the reason in the logs.',
  PROVIDER_UNAVAILABLE: 'The model provider is unavailable right now; try again shortly.',
  PROVIDER_REJECTED:
    'The model provider refused the request; the operator can find the reason in the logs.',
  GRAPH_CONTENDED: 'The knowledge graph is busy with concurrent updates; try again shortly.',
  QUEUE_NOT_CONFIGURED: 'Submitting documents is not configured on this deployment.',
  UPLOADS_NOT_CONFIGURED: 'File uploads are not configured on this deployment.',
  ANSWER_TIMEOUT:
    'The answer took longer than this route allows (API Gateway cuts requests at 30 s). Use POST /query/stream, which streams the answer as it is written, for up to 15 minutes.',
};

/** What a caller is told of an error: its status, headers, and the `error` object of the body. */
export interface ErrorPayload {
  status: number;
  headers: Record<string, string>;
  error: { code: string; message: string; details: Record<string, unknown> };
}

/**
 * What a caller is told of an error. Client errors say what was wrong; server errors say only
 * what kind of failure it was (details go to the log, keyed by the request id).
 */
export function errorPayload(err: unknown, requestId?: string): ErrorPayload {
  const status = statusFor(err);
  const logged = requestId ? { requestId } : {};
  if (err instanceof LightRagError && !(err instanceof ConfigError) && status < 500) {
    // The caller's own mistake: say exactly what was wrong.
    const retryAfter = err.details.retryAfterSeconds;
    return {
      status,
      headers: typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {},
      error: { code: err.code, message: err.message, details: err.details },
    };
  }
  if (err instanceof LightRagError && !(err instanceof ConfigError) && status !== 500) {
    // A dependency failed: a stable code and a message, never its text (hosts, ports, provider
    // replies); the log has the details under the request id.
    return {
      status,
      headers: status === 503 ? { 'retry-after': '5' } : {},
      error: {
        code: err.code,
        message: SERVER_MESSAGES[err.code] ?? 'A service this API depends on failed.',
        details: logged,
      },
    };
  }
  const code = err instanceof ConfigError ? 'SERVICE_MISCONFIGURED' : 'INTERNAL_ERROR';
  return {
    status: 500,
    headers: {},
    error: {
      code,
      message:
        code === 'SERVICE_MISCONFIGURED'
          ? 'The service is misconfigured; the operator can find the details in the logs.'
          : 'An internal error occurred; the operator can find the details in the logs.',
      details: logged,
    },
  };
}

/**
 * The HTTP response for an error: {@link errorPayload} as JSON, `{ error: { code, message,
 * details }, detail }`, where `detail` repeats the message as LightRAG Server's clients read it.
 */
export function errorResponse(err: unknown, requestId?: string): HttpResponse {
  const { status, headers, error } = errorPayload(err, requestId);
  return json(status, { error, detail: error.message }, headers);
}
