/** `GET /health`: 200 with a real database round trip, 503 when the database cannot be reached. */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { checkHealth } from '../lib/health.ts';
import { cors, errorResponder } from '../lib/http/middleware.ts';
import { json } from '../lib/http/response.ts';
import { type ApiRuntime, apiLogger, getApiRuntime } from '../lib/http/runtime.ts';

export async function healthRoute(
  _event?: APIGatewayProxyEventV2,
  { db, config, engine }: Pick<ApiRuntime, 'db' | 'config' | 'engine'> = getApiRuntime(),
): Promise<APIGatewayProxyResultV2> {
  const report = await checkHealth(db, config, engine.llmName);
  return json(
    report.status === 'ok' ? 200 : 503,
    report,
    report.status === 'ok' ? {} : { 'retry-after': '5' },
  );
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(cors(() => getApiRuntime().config.api))
  .use(errorResponder(apiLogger))
  .handler((event) => healthRoute(event));
