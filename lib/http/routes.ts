/**
 * Every HTTP route, the function serving it and what it does: the single list the local server
 * routes by, the packaging test compares with serverless.yml (so local and deployed routing
 * cannot drift), and `/openapi.json` is generated from (lib/http/openapi.ts).
 */
export const API_ROUTES = [
  // Query and graph reads (functions/query.ts).
  {
    method: 'POST',
    path: '/query',
    fn: 'query',
    tag: 'query',
    summary: "Answer a question (LightRAG's shape: response, references, response_time)",
  },
  {
    method: 'POST',
    path: '/query/detailed',
    fn: 'query',
    tag: 'query',
    summary: 'Answer with the retrieved context, keywords, cache and timings (ours)',
  },
  {
    method: 'POST',
    path: '/query/data',
    fn: 'query',
    tag: 'query',
    summary: "Retrieval only, no answer (LightRAG's /query/data)",
  },
  {
    method: 'GET',
    path: '/graph',
    fn: 'query',
    tag: 'graph',
    summary: 'The subgraph around a label (ours; same as /graphs)',
  },
  {
    method: 'GET',
    path: '/graph/labels/popular',
    fn: 'query',
    tag: 'graph',
    summary: 'Node names by degree (ours)',
  },
  {
    method: 'GET',
    path: '/graph/labels/search',
    fn: 'query',
    tag: 'graph',
    summary: 'Node names matching q (ours)',
  },
  // LightRAG Server's graph reads, its paths and shapes (docs/http-api.md "LightRAG's routes").
  {
    method: 'GET',
    path: '/graphs',
    fn: 'query',
    tag: 'graph',
    summary: 'The subgraph around label (* for the whole graph), max_depth, max_nodes',
  },
  {
    method: 'GET',
    path: '/graph/label/list',
    fn: 'query',
    tag: 'graph',
    summary: 'Every node name',
  },
  {
    method: 'GET',
    path: '/graph/label/popular',
    fn: 'query',
    tag: 'graph',
    summary: 'Node names by degree (limit 1-1000)',
  },
  {
    method: 'GET',
    path: '/graph/label/search',
    fn: 'query',
    tag: 'graph',
    summary: 'Node names matching q (limit 1-100)',
  },
  {
    method: 'GET',
    path: '/graph/entity/exists',
    fn: 'query',
    tag: 'graph',
    summary: 'Whether the entity name exists',
  },
  // Documents (functions/documents.ts): ours.
  {
    method: 'POST',
    path: '/documents',
    fn: 'documents',
    tag: 'documents',
    summary: 'Submit documents to the ingest queue (ours)',
  },
  {
    method: 'GET',
    path: '/documents',
    fn: 'documents',
    tag: 'documents',
    summary: 'List documents by status, paged (ours)',
  },
  {
    method: 'GET',
    path: '/documents/status-counts',
    fn: 'documents',
    tag: 'documents',
    summary: 'Documents per status (ours)',
  },
  {
    method: 'GET',
    path: '/documents/{id}',
    fn: 'documents',
    tag: 'documents',
    summary: 'One document status (ours)',
  },
  {
    method: 'DELETE',
    path: '/documents/{id}',
    fn: 'documents',
    tag: 'documents',
    summary: 'Delete one document now, rebuilding what it shared (ours)',
  },
  {
    method: 'POST',
    path: '/documents/reprocess',
    fn: 'documents',
    tag: 'documents',
    summary: 'Queue failed or stuck documents again (ours)',
  },
  {
    method: 'POST',
    path: '/documents/upload',
    fn: 'documents',
    tag: 'documents',
    summary:
      "Upload a file (LightRAG's multipart form), or with JSON a presigned upload ticket (ours)",
    body: 'multipart',
  },
  {
    method: 'GET',
    path: '/usage',
    fn: 'documents',
    tag: 'documents',
    summary: 'LLM and embedding usage by day (ours)',
  },
  // LightRAG Server's document routes, its paths and shapes.
  {
    method: 'POST',
    path: '/documents/paginated',
    fn: 'documents',
    tag: 'documents',
    summary: 'Documents, paged and filtered, with status counts',
  },
  {
    method: 'GET',
    path: '/documents/status_counts',
    fn: 'documents',
    tag: 'documents',
    summary: 'Documents per status, with all',
  },
  {
    method: 'GET',
    path: '/documents/supported_file_types',
    fn: 'documents',
    tag: 'documents',
    summary: 'File extensions the parsers read',
  },
  {
    method: 'GET',
    path: '/documents/track_status/{track_id}',
    fn: 'documents',
    tag: 'documents',
    summary: 'The documents of a track id',
  },
  {
    method: 'POST',
    path: '/documents/text',
    fn: 'documents',
    tag: 'documents',
    summary: 'Insert one text',
  },
  {
    method: 'POST',
    path: '/documents/texts',
    fn: 'documents',
    tag: 'documents',
    summary: 'Insert several texts',
  },
  {
    method: 'POST',
    path: '/documents/reprocess_failed',
    fn: 'documents',
    tag: 'documents',
    summary: 'Queue failed documents again',
  },
  {
    method: 'POST',
    path: '/documents/scan',
    fn: 'documents',
    tag: 'documents',
    summary: 'Queue failed and stuck documents again',
  },
  {
    method: 'POST',
    path: '/documents/clear_cache',
    fn: 'documents',
    tag: 'documents',
    summary: "Delete the workspace's LLM response cache",
  },
  {
    method: 'GET',
    path: '/documents/pipeline_status',
    fn: 'documents',
    tag: 'documents',
    summary: 'Pipeline state and its log',
  },
  {
    method: 'POST',
    path: '/documents/cancel_pipeline',
    fn: 'documents',
    tag: 'documents',
    summary: 'Cancel the documents waiting or in progress',
  },
  {
    method: 'DELETE',
    path: '/documents/delete_document',
    fn: 'documents',
    tag: 'documents',
    summary: 'Delete documents by id, in the background (JSON body)',
    body: 'json',
  },
  {
    method: 'DELETE',
    path: '/documents',
    fn: 'documents',
    tag: 'documents',
    summary: 'Delete every document of the workspace, in the background',
  },
  // Health and LightRAG Server's login (functions/health.ts, lib/auth/login.ts).
  {
    method: 'GET',
    path: '/health',
    fn: 'health',
    tag: 'meta',
    summary: 'Health, versions and pipeline state',
  },
  {
    method: 'GET',
    path: '/openapi.json',
    fn: 'health',
    tag: 'meta',
    summary: 'This document: the OpenAPI description of every route',
  },
  {
    method: 'GET',
    path: '/docs',
    fn: 'health',
    tag: 'meta',
    summary: 'Swagger UI over /openapi.json (LightRAG WebUI’s API tab)',
  },
  {
    method: 'GET',
    path: '/auth-status',
    fn: 'health',
    tag: 'meta',
    summary: 'Whether login is required (a guest token in guest mode)',
  },
  {
    method: 'POST',
    path: '/login',
    fn: 'health',
    tag: 'meta',
    summary: 'Log in with username and password (form) for a bearer token',
    body: 'form',
  },
] as const;

/** The functions that serve the HTTP API. */
export type ApiFunction = (typeof API_ROUTES)[number]['fn'];

/** The route a request matches, with its path parameters; literal paths win over `{id}`. */
export function matchRoute(
  method: string,
  path: string,
): { routeKey: string; fn: ApiFunction; pathParameters?: Record<string, string> } | undefined {
  const ordered = [...API_ROUTES].sort(
    (a, b) => Number(a.path.includes('{')) - Number(b.path.includes('{')),
  );
  for (const route of ordered) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    const pathParameters = Object.fromEntries(names.map((n, i) => [n, match[i + 1]!]));
    return {
      routeKey: `${route.method} ${route.path}`,
      fn: route.fn,
      ...(names.length ? { pathParameters } : {}),
    };
  }
  return undefined;
}
