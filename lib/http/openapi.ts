/**
 * `GET /openapi.json`: the OpenAPI 3.1 document generated from the route list (lib/http/routes.ts)
 * and the streaming route, so it names exactly the routes that are served; `GET /docs` is
 * Swagger UI (swagger-ui-dist) reading it, as LightRAG Server's API tab does.
 *
 * @example
 * ```ts
 * const doc = openApiDocument({ title: 'LightRAG Serverless', login: true });
 * Object.keys(doc.paths); // ['/query', '/query/detailed', …, '/query/stream']
 * ```
 */
import { PUBLIC_ROUTES } from '../auth/middleware.ts';
import type { ApiConfig } from '../config.ts';
import { API_VERSION } from '../health.ts';
import { API_ROUTES } from './routes.ts';

/** The streaming route (a function URL when deployed; same origin behind CloudFront). */
const STREAM_ROUTE = {
  method: 'POST',
  path: '/query/stream',
  tag: 'query',
  summary:
    'Answer as application/x-ndjson lines while the LLM writes (progress, references, response, response_time)',
} as const;

type Route = { method: string; path: string; tag: string; summary: string; body?: string };

const JSON_BODY = {
  required: true,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
};

const BODIES: Record<string, unknown> = {
  json: JSON_BODY,
  form: {
    required: true,
    content: {
      'application/x-www-form-urlencoded': {
        schema: {
          type: 'object',
          required: ['username', 'password'],
          properties: {
            username: { type: 'string' },
            password: { type: 'string', format: 'password' },
            grant_type: { type: 'string', enum: ['password'] },
          },
        },
      },
    },
  },
  multipart: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', format: 'binary' } },
        },
      },
      ...JSON_BODY.content,
    },
  },
};

const ERROR = {
  description: 'An error: `{"error": {code, message, details}, "detail": message}`',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          detail: { type: 'string' },
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

function operation(route: Route, login: boolean) {
  const key = `${route.method} ${route.path}`;
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const body = route.body ?? (route.method === 'POST' ? 'json' : undefined);
  return {
    tags: [route.tag],
    summary: route.summary,
    operationId: key
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, ''),
    parameters: [
      ...params,
      {
        name: 'LIGHTRAG-WORKSPACE',
        in: 'header',
        required: false,
        description: 'The workspace (default: the server’s); x-workspace works too.',
        schema: { type: 'string' },
      },
    ],
    ...(body && BODIES[body] ? { requestBody: BODIES[body] } : {}),
    responses: {
      '200': {
        description: route.path === STREAM_ROUTE.path ? 'NDJSON lines' : 'Success (JSON)',
      },
      '4XX': ERROR,
      '5XX': ERROR,
    },
    ...(login && !PUBLIC_ROUTES.has(key) ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
  };
}

/** The document's options from the API's configuration. */
export function apiDocs(api: Pick<ApiConfig, 'login' | 'webui'>) {
  return {
    title: api.webui.title,
    description: api.webui.description,
    login: api.login !== undefined,
  };
}

/** The OpenAPI document of every route; `login` marks the routes that need a credential. */
export function openApiDocument(options: { title: string; description?: string; login: boolean }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...API_ROUTES, STREAM_ROUTE] as readonly Route[]) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route, options.login);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: API_VERSION,
      ...(options.description ? { description: options.description } : {}),
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}

/** Swagger UI's page for `/docs`, its assets under `assetsPath` (swagger-ui-dist's files). */
export function swaggerUiPage(options: { title: string; assetsPath: string; specUrl: string }) {
  const esc = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const assets = esc(options.assetsPath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(options.title)} — API</title>
<link rel="stylesheet" href="${assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: ${JSON.stringify(options.specUrl).replaceAll('<', '\\u003c')}, dom_id: '#swagger-ui', deepLinking: true });
</script>
</body>
</html>
`;
}
