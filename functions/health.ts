/**
 * `GET /health` (200 with a real database round trip, 503 when the database cannot be reached)
 * and LightRAG's login routes `GET /auth-status` and `POST /login` (lib/auth/login.ts): the
 * light function, with a pool and nothing else.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { authStatus, logIn } from '../lib/auth/login.ts';
import { authenticate } from '../lib/auth/middleware.ts';
import { HttpError } from '../lib/errors.ts';
import { httpFunction } from '../lib/handler.ts';
import { checkHealth } from '../lib/health.ts';
import { apiDocs, openApiDocument, swaggerUiPage } from '../lib/http/openapi.ts';
import { header } from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { routeTable } from '../lib/http/router.ts';
import { type ApiBase, getApiBase } from '../lib/http/runtime.ts';

/** A login form is a few hundred bytes; anything much larger is refused unread. */
const MAX_FORM_BYTES = 8 * 1024;

export async function healthRoute(
  event?: APIGatewayProxyEventV2,
  {
    db,
    config,
    logger,
  }: Pick<ApiBase, 'db' | 'config'> & Partial<Pick<ApiBase, 'logger'>> = getApiBase(),
): Promise<APIGatewayProxyResultV2> {
  // /health is open under LightRAG's login; a caller with a good credential sees more.
  const authenticated =
    !config.api.login ||
    (event !== undefined &&
      (await authenticate(event, config.api).then(
        () => true,
        () => false,
      )));
  const report = await checkHealth(db, config, logger, config.workspace, authenticated);
  return json(
    report.status === 'healthy' ? 200 : 503,
    report,
    report.status === 'healthy' ? {} : { 'retry-after': '5' },
  );
}

/** LightRAG's login form (`application/x-www-form-urlencoded`; JSON is taken too). */
function loginForm(event: APIGatewayProxyEventV2): { username?: string; password?: string } {
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_FORM_BYTES) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `A login form is limited to ${MAX_FORM_BYTES} bytes.`,
    );
  }
  const type = header(event, 'content-type') ?? '';
  const text = raw.toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(type)) {
    const form = new URLSearchParams(text);
    return {
      username: form.get('username') ?? undefined,
      password: form.get('password') ?? undefined,
    };
  }
  if (/^application\/json\b/i.test(type)) {
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return { username: str(body?.username), password: str(body?.password) };
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'The body is not valid JSON.');
    }
  }
  throw new HttpError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'Send username and password as application/x-www-form-urlencoded, as LightRAG Server takes them.',
  );
}

/**
 * Who is logging in, for the failure counts. Behind CloudFront (webui=cloudfront) API Gateway sees
 * CloudFront's address; CloudFront appends the viewer's as the last X-Forwarded-For entry (what a
 * client sends itself comes before it, so it cannot pick its own).
 */
function clientAddress(event: APIGatewayProxyEventV2, behindCloudFront: boolean): string {
  const forwarded = header(event, 'x-forwarded-for')?.split(',').at(-1)?.trim();
  if (behindCloudFront && forwarded) return forwarded;
  return event.requestContext?.http?.sourceIp ?? 'unknown';
}

export const handler = httpFunction(
  getApiBase,
  routeTable('health', {
    'GET /health': (event) => healthRoute(event),
    'GET /openapi.json': async () => {
      const { config } = getApiBase();
      return json(200, openApiDocument(apiDocs(config.api)));
    },
    // Swagger UI's assets come with the WebUI build (`webui deploy` puts them under /webui/docs).
    'GET /docs': async () => {
      const { config } = getApiBase();
      const page = config.api.webui.hosted
        ? swaggerUiPage({
            title: config.api.webui.title,
            assetsPath: '/webui/docs',
            specUrl: '/openapi.json',
          })
        : '<!doctype html><title>API</title><p>The OpenAPI description is at <a href="/openapi.json">/openapi.json</a>; Swagger UI is served with the WebUI (--param webui=cloudfront, or npm start locally).</p>';
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
        body: page,
      };
    },
    'GET /auth-status': async () => {
      const { config } = getApiBase();
      return json(200, await authStatus(config.api));
    },
    'POST /login': async (event) => {
      const { config, db } = getApiBase();
      const { body } = await logIn(
        db,
        config,
        loginForm(event),
        clientAddress(event, config.api.webui.hosted),
      );
      return json(200, body);
    },
  }),
);
