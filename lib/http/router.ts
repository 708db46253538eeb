/**
 * The one route dispatch of the API functions. API Gateway has already matched the request to a
 * route of lib/http/routes.ts and names it in `routeKey`, so a function dispatches on that key
 * (a path router such as @middy/http-router would match `rawPath` again, which carries the stage
 * name on a named stage). Each function's table is checked against the route list when its
 * module loads, so the handlers, serverless.yml and the local server cannot drift apart.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { HttpError } from '../errors.ts';
import { API_ROUTES, type ApiFunction } from './routes.ts';

/** The handler of one route (or of a function's route table). */
export type RouteHandler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<APIGatewayProxyResultV2>;

/**
 * The dispatcher of function `fn`, from a handler per route key (`"GET /documents/{id}"`).
 *
 * @example
 * ```ts
 * export const documentsRoute = routeTable('documents', { 'GET /documents': list, … });
 * ```
 */
export function routeTable(fn: ApiFunction, handlers: Record<string, RouteHandler>): RouteHandler {
  const listed = API_ROUTES.filter((r) => r.fn === fn)
    .map((r) => `${r.method} ${r.path}`)
    .sort();
  const given = Object.keys(handlers).sort();
  if (listed.join('\n') !== given.join('\n')) {
    throw new Error(
      `functions/${fn}.ts serves [${given.join(', ')}] but lib/http/routes.ts lists [${listed.join(', ')}] for it.`,
    );
  }
  return async (event, context) => {
    const route = Object.hasOwn(handlers, event.routeKey) ? handlers[event.routeKey] : undefined;
    if (!route) throw new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${event.routeKey}.`);
    return route(event, context);
  };
}
