/**
 * Request parsing for API Gateway HTTP API (payload v2): JSON bodies with content-type and size
 * checks, query parameters, and the workspace a caller may use.
 */

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';
import { HttpError } from '../errors.ts';
import { addLogContext } from '../logger.ts';
import { isAllowedWorkspace, validateWorkspace } from '../workspace.ts';
import { callerWorkspaces } from './caller-workspaces.ts';

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {}))
    if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The JSON body: 415 unless JSON, 413 above the limit, 400 when it does not parse. */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw new HttpError(400, 'BODY_REQUIRED', 'This request needs a JSON body.');
  }
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the body as JSON with "content-type: application/json".',
      {
        contentType: contentType.slice(0, 100) || null,
      },
    );
  }
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64')
    : Buffer.from(event.body, 'utf8');
  if (raw.length > maxBytes) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `The body is ${raw.length} bytes; the limit is ${maxBytes}.`,
      {
        bytes: raw.length,
        limit: maxBytes,
      },
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(
      400,
      'INVALID_JSON',
      `The body is not valid JSON (${(err as Error).message}).`,
    );
  }
}

/** An optional integer query parameter, 400 when present but not an integer. */
export function intParam(event: APIGatewayProxyEventV2, name: string): number | undefined {
  const value = event.queryStringParameters?.[name];
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d{1,9}$/.test(value)) {
    throw new HttpError(400, 'VALIDATION_FAILED', `Query parameter "${name}" must be an integer.`, {
      parameter: name,
    });
  }
  return Number(value);
}

/**
 * An integer query parameter within `[min, max]`, `fallback` when absent (LightRAG's
 * `Query(default, ge=, le=)`).
 */
export function intParamIn(
  event: APIGatewayProxyEventV2,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = intParam(event, name) ?? fallback;
  if (value < min || value > max) {
    throw new HttpError(
      400,
      'VALIDATION_FAILED',
      `Query parameter "${name}" must be between ${min} and ${max}.`,
      { parameter: name },
    );
  }
  return value;
}

/**
 * The body of a route that reads none of its own: absent, or a JSON object naming only the
 * workspace (`{"workspace": "w"}`, as on the other routes). Anything else is refused, so a body
 * is never silently ignored.
 */
export function workspaceOnlyBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const body = parseJsonBody(event, maxBytes);
  if (
    body === null ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    Object.keys(body).some((k) => k !== 'workspace')
  ) {
    throw new HttpError(
      400,
      'VALIDATION_FAILED',
      `${event.routeKey} reads no body; send none, or only {"workspace": "…"}.`,
    );
  }
  return body;
}

/** A path parameter, percent-decoded; malformed encoding or control characters are a 400. */
export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  const raw = event.pathParameters?.[name];
  if (!raw) throw new HttpError(400, 'VALIDATION_FAILED', `The ${name} is missing from the path.`);
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpError(
      400,
      'VALIDATION_FAILED',
      `The ${name} in the path is not valid percent-encoding.`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused on purpose.
  if (/[\u0000-\u001f\u007f]/.test(value) || !value.isWellFormed()) {
    throw new HttpError(
      400,
      'VALIDATION_FAILED',
      `The ${name} in the path holds control characters.`,
    );
  }
  return value;
}

/** The header LightRAG Server reads a request's workspace from. */
export const LIGHTRAG_WORKSPACE_HEADER = 'lightrag-workspace';

/**
 * The workspace of a request: the workspace header (`WORKSPACE_HEADER`, or LightRAG's
 * `LIGHTRAG-WORKSPACE`), a `workspace` field in the body, or the `workspace` query parameter;
 * the configured default otherwise. Two different names are a conflict (400). It must pass the
 * strict pattern (400) and the allow-list `ALLOWED_WORKSPACES` (403).
 */
export function resolveWorkspace(
  event: APIGatewayProxyEventV2,
  body: unknown,
  api: ApiConfig,
  defaultWorkspace: string,
): string {
  const fromHeader = header(event, api.workspaceHeader);
  // LightRAG Server's own header, read too (its WebUI and clients send it).
  const fromLightrag = header(event, LIGHTRAG_WORKSPACE_HEADER);
  const fromBody =
    body && typeof body === 'object' && !Array.isArray(body)
      ? (body as { workspace?: unknown }).workspace
      : undefined;
  if (fromBody !== undefined && typeof fromBody !== 'string') {
    throw new HttpError(400, 'INVALID_WORKSPACE', '"workspace" must be a string when given.', {
      field: 'workspace',
    });
  }
  const fromQuery = event.queryStringParameters?.workspace;
  const given = [fromHeader, fromLightrag, fromBody, fromQuery].filter((w) => w !== undefined);
  if (new Set(given).size > 1) {
    throw new HttpError(400, 'WORKSPACE_CONFLICT', 'The request names two different workspaces.');
  }
  const own = callerWorkspaces(event, api);
  if (own !== undefined && own.length === 0) {
    // Bound to identities, and this caller has none: no silent fallback to the default.
    throw new HttpError(403, 'WORKSPACE_FORBIDDEN', 'The caller is granted no workspace.');
  }
  const workspace = validateWorkspace(given[0] ?? own?.[0] ?? defaultWorkspace);
  if (own !== undefined && !own.includes(workspace)) {
    throw new HttpError(
      403,
      'WORKSPACE_FORBIDDEN',
      `Workspace "${workspace}" is not granted to the caller.`,
      { workspace },
    );
  }
  if (!isAllowedWorkspace(api.allowedWorkspaces, workspace)) {
    throw new HttpError(
      403,
      'WORKSPACE_FORBIDDEN',
      `Workspace "${workspace}" is not open to this API.`,
      { workspace },
    );
  }
  addLogContext({ workspace });
  return workspace;
}
