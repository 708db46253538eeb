/** Real API Gateway HTTP API (payload v2) events for handler tests. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type Response = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

export interface EventOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  base64?: boolean;
}

/** A real API Gateway HTTP API (payload v2) event. */
export function apiEvent(routeKey: string, options: EventOptions = {}): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.pathParameters?.[name] ?? ''),
  );
  const raw =
    options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { 'content-type': 'application/json', 'user-agent': 'test', ...options.headers },
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(raw === undefined
      ? {}
      : { body: options.base64 ? Buffer.from(raw).toString('base64') : raw }),
    isBase64Encoded: options.base64 === true,
  };
}

export const context = {
  awsRequestId: 'aws-req-1',
  getRemainingTimeInMillis: () => 30_000,
} as never;
export type Handler = (event: APIGatewayProxyEventV2, ctx: never) => Promise<unknown>;
export async function call(h: Handler, routeKey: string, options?: EventOptions) {
  const response = (await h(apiEvent(routeKey, options), context)) as Response;
  const isJson = /json/.test(response.headers?.['content-type'] ?? 'application/json');
  return { ...response, json: response.body && isJson ? JSON.parse(response.body) : undefined };
}
