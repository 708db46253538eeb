/** `POST /query`: retrieval (graph and/or chunks, by mode) and, with an LLM configured, an answer. */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { cors, errorResponder } from '../lib/http/middleware.ts';
import { parseJsonBody, resolveWorkspace } from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { apiLogger, getApiRuntime } from '../lib/http/runtime.ts';
import { parseQueryRequest, queryDefaults } from '../lib/query/request.ts';

export async function queryRoute(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  const { config, engine } = getApiRuntime();
  const body = parseJsonBody(event, config.api.maxBodyBytes);
  const workspace = resolveWorkspace(event, body, config.api, config.workspace);
  return json(200, await engine.query(parseQueryRequest(body, queryDefaults(config)), workspace));
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(cors(() => getApiRuntime().config.api))
  .use(errorResponder(apiLogger))
  .handler(queryRoute);
