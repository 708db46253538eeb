/**
 * Every HTTP route and the function serving it: the single list the local server uses and the
 * packaging test compares with serverless.yml, so local and deployed routing cannot drift.
 */
export const API_ROUTES = [
  { method: 'POST', path: '/query', fn: 'query' },
  { method: 'POST', path: '/query/detailed', fn: 'query' },
  { method: 'POST', path: '/query/data', fn: 'query' },
  { method: 'GET', path: '/graph', fn: 'query' },
  { method: 'GET', path: '/graph/labels/popular', fn: 'query' },
  { method: 'GET', path: '/graph/labels/search', fn: 'query' },
  // LightRAG Server's graph reads, its paths and shapes (docs/http-api.md "LightRAG's routes").
  { method: 'GET', path: '/graphs', fn: 'query' },
  { method: 'GET', path: '/graph/label/list', fn: 'query' },
  { method: 'GET', path: '/graph/label/popular', fn: 'query' },
  { method: 'GET', path: '/graph/label/search', fn: 'query' },
  { method: 'GET', path: '/graph/entity/exists', fn: 'query' },
  { method: 'POST', path: '/documents', fn: 'documents' },
  { method: 'GET', path: '/documents', fn: 'documents' },
  { method: 'GET', path: '/documents/status-counts', fn: 'documents' },
  { method: 'GET', path: '/documents/{id}', fn: 'documents' },
  { method: 'DELETE', path: '/documents/{id}', fn: 'documents' },
  { method: 'POST', path: '/documents/reprocess', fn: 'documents' },
  { method: 'POST', path: '/documents/upload', fn: 'documents' },
  { method: 'GET', path: '/usage', fn: 'documents' },
  // LightRAG Server's document routes, its paths and shapes.
  { method: 'POST', path: '/documents/paginated', fn: 'documents' },
  { method: 'GET', path: '/documents/status_counts', fn: 'documents' },
  { method: 'GET', path: '/documents/supported_file_types', fn: 'documents' },
  { method: 'GET', path: '/documents/track_status/{track_id}', fn: 'documents' },
  { method: 'POST', path: '/documents/text', fn: 'documents' },
  { method: 'POST', path: '/documents/texts', fn: 'documents' },
  { method: 'POST', path: '/documents/reprocess_failed', fn: 'documents' },
  { method: 'POST', path: '/documents/scan', fn: 'documents' },
  { method: 'POST', path: '/documents/clear_cache', fn: 'documents' },
  { method: 'GET', path: '/documents/pipeline_status', fn: 'documents' },
  { method: 'POST', path: '/documents/cancel_pipeline', fn: 'documents' },
  { method: 'DELETE', path: '/documents/delete_document', fn: 'documents' },
  { method: 'DELETE', path: '/documents', fn: 'documents' },
  { method: 'GET', path: '/health', fn: 'health' },
  // LightRAG Server's login (lib/auth/login.ts).
  { method: 'GET', path: '/auth-status', fn: 'health' },
  { method: 'POST', path: '/login', fn: 'health' },
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
