/** `GET /health`: 200 with a real database round trip, 503 when the database cannot be reached. */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { httpFunction } from '../lib/handler.ts';
import { checkHealth } from '../lib/health.ts';
import { json } from '../lib/http/response.ts';
import { routeTable } from '../lib/http/router.ts';
import { type ApiBase, getApiBase } from '../lib/http/runtime.ts';

export async function healthRoute(
  _event?: APIGatewayProxyEventV2,
  {
    db,
    config,
    logger,
  }: Pick<ApiBase, 'db' | 'config'> & Partial<Pick<ApiBase, 'logger'>> = getApiBase(),
): Promise<APIGatewayProxyResultV2> {
  const report = await checkHealth(db, config, logger);
  return json(
    report.status === 'healthy' ? 200 : 503,
    report,
    report.status === 'healthy' ? {} : { 'retry-after': '5' },
  );
}

export const handler = httpFunction(
  getApiBase,
  routeTable('health', { 'GET /health': (event) => healthRoute(event) }),
);
