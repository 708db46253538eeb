/**
 * The read routes, one function: `POST /query` (retrieval by mode and, with an LLM configured,
 * an answer) and the knowledge-graph reads `GET /graph`, `GET /graph/labels/popular`,
 * `GET /graph/labels/search`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { cors, errorResponder } from '../lib/http/middleware.ts';
import { getQueryRuntime } from '../lib/http/query-runtime.ts';
import {
  intParam,
  parseJsonBody,
  resolveWorkspace,
  workspaceOnlyBody,
} from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { routeTable } from '../lib/http/router.ts';
import { apiLogger } from '../lib/http/runtime.ts';
import { parseQueryRequest, queryDefaults } from '../lib/query/request.ts';

const workspaceOf = (event: APIGatewayProxyEventV2, body?: unknown) => {
  const { config } = getQueryRuntime();
  return resolveWorkspace(event, body, config.api, config.workspace);
};

/** The workspace of a graph read, which takes no body of its own. */
const bodylessWorkspace = (event: APIGatewayProxyEventV2) =>
  workspaceOf(event, workspaceOnlyBody(event, getQueryRuntime().config.api.maxBodyBytes));

export const queryRoute = routeTable('query', {
  'POST /query': async (event) => {
    const { config, engine } = getQueryRuntime();
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const request = parseQueryRequest(body, queryDefaults(config));
    return json(200, await engine.query(request, workspaceOf(event, body)));
  },
  'GET /graph': async (event) =>
    json(
      200,
      await getQueryRuntime().graph.knowledgeGraph(bodylessWorkspace(event), {
        label: event.queryStringParameters?.label,
        maxDepth: intParam(event, 'max_depth'),
        maxNodes: intParam(event, 'max_nodes'),
      }),
    ),
  'GET /graph/labels/popular': async (event) =>
    json(
      200,
      await getQueryRuntime().graph.popularLabels(
        bodylessWorkspace(event),
        intParam(event, 'limit'),
      ),
    ),
  'GET /graph/labels/search': async (event) =>
    json(
      200,
      await getQueryRuntime().graph.searchLabels(
        bodylessWorkspace(event),
        event.queryStringParameters?.q,
        intParam(event, 'limit'),
      ),
    ),
});

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(cors(() => getQueryRuntime().config.api))
  .use(errorResponder(apiLogger))
  .handler(queryRoute);
