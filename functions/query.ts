/**
 * The read routes, one function: `POST /query` (LightRAG's shape) and `POST /query/detailed`
 * (ours: retrieval by mode and, with an LLM configured, an answer), `POST /query/data`, and the
 * knowledge-graph reads (LightRAG's paths and ours).
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpError } from '../lib/errors.ts';
import { httpFunction } from '../lib/handler.ts';
import { withDeadline } from '../lib/http/deadline.ts';
import { getQueryRuntime } from '../lib/http/query-runtime.ts';
import {
  intParam,
  intParamIn,
  parseJsonBody,
  resolveWorkspace,
  workspaceOnlyBody,
} from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { routeTable } from '../lib/http/router.ts';
import type { QueryResponse } from '../lib/query/engine.ts';
import { lightragQueryResponse, queryDataResponse } from '../lib/query/lightrag.ts';
import { parseQueryRequest, type QueryRequest, queryDefaults } from '../lib/query/request.ts';

/** Time kept back from the function's timeout to answer the timeout itself. */
const ANSWER_MARGIN_MS = 1500;

const answerTimeout = () =>
  new HttpError(
    504,
    'ANSWER_TIMEOUT',
    'The answer took longer than this route allows (API Gateway cuts requests at 30 s). Use POST /query/stream, which streams the answer as it is written, for up to 15 minutes.',
  );

const workspaceOf = (event: APIGatewayProxyEventV2, body?: unknown) => {
  const { config } = getQueryRuntime();
  return resolveWorkspace(event, body, config.api, config.workspace);
};

/** The workspace of a graph read, which takes no body of its own. */
const bodylessWorkspace = (event: APIGatewayProxyEventV2) =>
  workspaceOf(event, workspaceOnlyBody(event, getQueryRuntime().config.api.maxBodyBytes));

export const queryRoute = routeTable('query', {
  // LightRAG's shape: {response, references (string ids), response_time}.
  'POST /query': (event, context) =>
    answer(event, context, (res, request) => lightragQueryResponse(res, request)),
  // Ours, beside it: the mode, keywords, structured context, numeric references, cache, timings.
  'POST /query/detailed': (event, context) => answer(event, context, (res) => res),
  // LightRAG's retrieval only: the context in its shape, no LLM answer.
  'POST /query/data': async (event) => {
    const { config, engine } = getQueryRuntime();
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const request = parseQueryRequest(body, queryDefaults(config));
    const res = await engine.query(
      { ...request, only_need_context: true },
      workspaceOf(event, body),
    );
    return json(200, queryDataResponse(res));
  },
  'GET /graph': (event) => knowledgeGraph(event),
  // LightRAG Server's graph reads: its paths, its limits, its shapes.
  'GET /graphs': (event) => knowledgeGraph(event),
  'GET /graph/label/list': async (event) =>
    json(200, await getQueryRuntime().graph.allLabels(bodylessWorkspace(event))),
  'GET /graph/label/popular': (event) =>
    popularLabels(event, intParamIn(event, 'limit', 300, 1, 1000)),
  'GET /graph/label/search': (event) => searchLabels(event, intParamIn(event, 'limit', 50, 1, 100)),
  'GET /graph/entity/exists': async (event) =>
    json(200, {
      exists: await getQueryRuntime().graph.entityExists(
        bodylessWorkspace(event),
        event.queryStringParameters?.name,
      ),
    }),
  'GET /graph/labels/popular': (event) => popularLabels(event, intParam(event, 'limit')),
  'GET /graph/labels/search': (event) => searchLabels(event, intParam(event, 'limit')),
});

/** Retrieval and the answer, before the deadline, in the shape `shape` gives it. */
function answer(
  event: APIGatewayProxyEventV2,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  shape: (res: QueryResponse, request: QueryRequest) => unknown,
) {
  const { config, engine } = getQueryRuntime();
  const body = parseJsonBody(event, config.api.maxBodyBytes);
  const request = parseQueryRequest(body, queryDefaults(config));
  const workspace = workspaceOf(event, body);
  // Answer before the function (and API Gateway, at 30 s) cuts the connection: past the
  // deadline the LLM call is aborted and the caller is pointed to the streaming route.
  return withDeadline(context, ANSWER_MARGIN_MS, answerTimeout, (signal) =>
    engine.query(request, workspace, { signal }).then((res) => json(200, shape(res, request))),
  );
}

/** Node names by degree; our path and LightRAG's differ only in the limit's bounds. */
async function popularLabels(event: APIGatewayProxyEventV2, limit: number | undefined) {
  return json(200, await getQueryRuntime().graph.popularLabels(bodylessWorkspace(event), limit));
}

/** Node names matching `q`; our path and LightRAG's differ only in the limit's bounds. */
async function searchLabels(event: APIGatewayProxyEventV2, limit: number | undefined) {
  const { graph } = getQueryRuntime();
  return json(
    200,
    await graph.searchLabels(bodylessWorkspace(event), event.queryStringParameters?.q, limit),
  );
}

/** `GET /graph` and LightRAG's `GET /graphs`: the subgraph around `label` (`*`: the whole graph). */
async function knowledgeGraph(event: APIGatewayProxyEventV2) {
  return json(
    200,
    await getQueryRuntime().graph.knowledgeGraph(bodylessWorkspace(event), {
      label: event.queryStringParameters?.label,
      maxDepth: intParam(event, 'max_depth'),
      maxNodes: intParam(event, 'max_nodes'),
    }),
  );
}

export const handler = httpFunction(getQueryRuntime, queryRoute);
