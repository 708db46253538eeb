/**
 * The HTTP API on localhost: each request becomes a real API Gateway HTTP API (payload v2) event
 * for the same handler the route runs in AWS (lib/http/routes.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { type ApiFunction, matchRoute } from '../http/routes.ts';
import { type StreamingHandler, splitPrelude } from '../http/streaming.ts';
import { lambdaContext } from './lambda-context.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/** API Gateway's own limit on a request body. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function toApiEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { routeKey: string; pathParameters?: Record<string, string> },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined)
      headers[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = Object.fromEntries(url.searchParams);
  const isText = body.length === 0 || /json|text|xml|form/i.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** Runs a streaming handler for one request, relaying what it writes as it writes it. */
async function serveStream(
  handler: StreamingHandler,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  path: string,
): Promise<void> {
  const event = toApiEvent(req, body, { routeKey: '$default' });
  event.rawPath = path;
  let head = Buffer.alloc(0);
  let started = false;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (started) {
        res.write(chunk, () => callback());
        return;
      }
      head = Buffer.concat([head, Buffer.from(chunk)]);
      const split = splitPrelude(head);
      if (!split) return callback();
      started = true;
      res.writeHead(split.prelude.statusCode, split.prelude.headers ?? {});
      if (split.body.length === 0) return callback();
      res.write(split.body, () => callback());
    },
    final(callback) {
      if (!started) res.writeHead(200);
      res.end(() => callback());
    },
  });
  // The client going away ends the handler's stream, as Lambda's does.
  res.on('close', () => {
    if (!res.writableFinished) sink.destroy();
  });
  await handler(event, sink, lambdaContext('queryStream', 900_000));
  if (!sink.writableFinished && !sink.destroyed) await new Promise((r) => sink.once('finish', r));
}

/** Serves the routes on `host:port` (port 0 picks a free one). */
export async function startLocalApi(
  handlers: Record<ApiFunction, ApiHandler>,
  options: {
    host?: string;
    port?: number;
    stream?: StreamingHandler;
    /** The WebUI, /docs and /openapi.json (static-site.ts): true when it answered. */
    site?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
  } = {},
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          send(
            413,
            { 'content-type': 'application/json' },
            JSON.stringify({ message: 'Request Entity Too Large' }),
          );
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const method = req.method ?? 'GET';
      if (path === '/query/stream' && options.stream) {
        // The deployed route is a function URL with response streaming: the same event shape,
        // the handler's prelude turned into the status line and headers, the body as written.
        await serveStream(options.stream, req, res, Buffer.concat(chunks), path);
        return;
      }
      if (options.site && (await options.site(req, res, path))) return;
      // API Gateway answers a method and path no route matches with its own 404 body; a CORS
      // preflight (OPTIONS) is answered for any path some route serves.
      const route =
        method === 'OPTIONS'
          ? (['POST', 'GET', 'DELETE'] as const)
              .map((m) => matchRoute(m, path))
              .find((r) => r !== undefined)
          : matchRoute(method, path);
      if (!route) {
        send(404, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const event = toApiEvent(
        req,
        Buffer.concat(chunks),
        method === 'OPTIONS'
          ? { ...route, routeKey: `OPTIONS ${route.routeKey.split(' ')[1]}` }
          : route,
      );
      const result = (await handlers[route.fn](
        event,
        lambdaContext(route.fn),
      )) as APIGatewayProxyStructuredResultV2;
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      const body = result.body ?? '';
      send(
        result.statusCode ?? 200,
        headers,
        result.isBase64Encoded ? Buffer.from(body, 'base64').toString() : body,
      );
    } catch (err) {
      send(
        502,
        { 'content-type': 'application/json' },
        JSON.stringify({ message: 'Internal Server Error', detail: String(err) }),
      );
    }
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as { port: number };
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
