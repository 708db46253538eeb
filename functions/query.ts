/**
 * The read routes, one function: `POST /query` (retrieval by mode and, with an LLM configured,
 * an answer) and the knowledge-graph reads `GET /graph`, `GET /graph/labels/popular`,
 * `GET /graph/labels/search`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { HttpError } from '../lib/errors.ts';
import { cors, errorResponder } from '../lib/http/middleware.ts';
import { intParam, parseJsonBody, resolveWorkspace } from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { apiLogger, getApiRuntime } from '../lib/http/runtime.ts';
import { parseQueryRequest, queryDefaults } from '../lib/query/request.ts';

type Route = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

const workspaceOf = (event: APIGatewayProxyEventV2, body?: unknown) => {
  const { config } = getApiRuntime();
  return resolveWorkspace(event, body, config.api, config.workspace);
};

const ROUTES: Record<string, Route> = {
  'POST /query': async (event) => {
    const { config, engine } = getApiRuntime();
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const request = parseQueryRequest(body, queryDefaults(config));
    return json(200, await engine.query(request, workspaceOf(event, body)));
  },
  'GET /graph': async (event) =>
    json(
      200,
      await getApiRuntime().graph.knowledgeGraph(workspaceOf(event), {
        label: event.queryStringParameters?.label,
        maxDepth: intParam(event, 'max_depth'),
        maxNodes: intParam(event, 'max_nodes'),
      }),
    ),
  'GET /graph/labels/popular': async (event) =>
    json(
      200,
      await getApiRuntime().graph.popularLabels(workspaceOf(event), intParam(event, 'limit')),
    ),
  'GET /graph/labels/search': async (event) =>
    json(
      200,
      await getApiRuntime().graph.searchLabels(
        workspaceOf(event),
        event.queryStringParameters?.q,
        intParam(event, 'limit'),
      ),
    ),
};

export async function queryRoute(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  const route = ROUTES[event.routeKey];
  if (!route) throw new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${event.routeKey}.`);
  return route(event);
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(cors(() => getApiRuntime().config.api))
  .use(errorResponder(apiLogger))
  .handler(queryRoute);
