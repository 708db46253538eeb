import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { routeTable } from '../lib/http/router.ts';

const event = (routeKey: string) => ({ routeKey }) as APIGatewayProxyEventV2;
const ok = (body: string) => async () => ({ statusCode: 200, body });
/** The health function's routes, each answering its own key. */
const healthRoutes = (extra: Record<string, ReturnType<typeof ok>> = {}) => ({
  'GET /health': ok('healthy'),
  'GET /auth-status': ok('status'),
  'POST /login': ok('token'),
  'GET /openapi.json': ok('spec'),
  'GET /docs': ok('ui'),
  ...extra,
});

describe('route table', () => {
  it('dispatches on the route key API Gateway matched', async () => {
    const route = routeTable('health', healthRoutes());
    assert.deepEqual(await route(event('GET /health')), { statusCode: 200, body: 'healthy' });
  });

  it('answers 404 for a key it does not serve, prototype names included', async () => {
    const route = routeTable('health', healthRoutes());
    for (const key of ['GET /nothing', '__proto__', 'constructor', 'toString']) {
      await assert.rejects(route(event(key)), { code: 'ROUTE_NOT_FOUND' });
    }
  });

  it('refuses a table that differs from lib/http/routes.ts (a route missing or extra)', () => {
    assert.throws(
      () => routeTable('health', { 'GET /health': ok('') }),
      /serves \[GET \/health\] but lib\/http\/routes.ts lists \[GET \/auth-status, GET \/docs, GET \/health, GET \/openapi.json, POST \/login\]/,
    );
    assert.throws(
      () => routeTable('health', healthRoutes({ 'GET /extra': ok('') })),
      /serves \[GET \/auth-status, GET \/docs, GET \/extra, GET \/health, GET \/openapi.json, POST \/login\]/,
    );
  });
});
