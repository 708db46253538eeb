/**
 * What `npm start` serves besides the API, on the same origin (LightRAG's WebUI needs one):
 * - `/webui/…`: a LightRAG WebUI build from `WEBUI_DIR` (or `start --webui DIR`; LightRAG's
 *   Python package ships one as `lightrag/api/webui/`), `index.html` with
 *   `window.__LIGHTRAG_CONFIG__` injected; `/` and `/webui` redirect to `/webui/`;
 * - `/docs` (Swagger UI, from swagger-ui-dist) and `/openapi.json` (lib/http/openapi.ts); `/redoc`
 *   redirects to `/docs`.
 * Files are read only from inside their folder (no `..`, no symlinks out), with their types.
 */

import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { openApiDocument, swaggerUiPage } from '../http/openapi.ts';
import { cacheControlOf, contentTypeOf, injectRuntimeConfig } from '../webui/files.ts';

/** The file under `root` a URL path names, or undefined when it is outside or missing. */
async function fileUnder(root: string, relative: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) return undefined;
  try {
    const base = await realpath(root);
    const path = await realpath(join(base, decoded));
    if (path !== base && !path.startsWith(base + sep)) return undefined;
    return (await stat(path)).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The static side of the local server; `serve` answers true when it handled the request. */
export function staticSite(options: {
  webuiDir?: string;
  title: string;
  description: string;
  login: boolean;
}) {
  const swaggerDir = (
    createRequire(import.meta.url)('swagger-ui-dist') as {
      getAbsoluteFSPath(): string;
    }
  ).getAbsoluteFSPath();
  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: string | Buffer = '',
  ) => {
    res.writeHead(status, { 'x-content-type-options': 'nosniff', ...headers });
    res.end(body);
  };
  const sendFile = async (res: ServerResponse, path: string, cache: string) =>
    send(
      res,
      200,
      {
        'content-type': contentTypeOf(path),
        'cache-control': cache,
      },
      await readFile(path),
    );

  return async function serve(req: IncomingMessage, res: ServerResponse, path: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/openapi.json') {
      const doc = openApiDocument(options);
      send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(doc));
      return true;
    }
    // LightRAG also serves ReDoc; here its path leads to the same description in Swagger UI.
    if (path === '/redoc') {
      send(res, 302, { location: '/docs' });
      return true;
    }
    if (path === '/docs' || path === '/docs/') {
      const page = swaggerUiPage({
        title: options.title,
        assetsPath: '/docs',
        specUrl: '/openapi.json',
      });
      send(
        res,
        200,
        { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
        page,
      );
      return true;
    }
    if (path.startsWith('/docs/')) {
      const file = await fileUnder(swaggerDir, path.slice('/docs/'.length));
      if (!file) return false;
      await sendFile(res, file, 'public, max-age=86400');
      return true;
    }
    if (!options.webuiDir) return false;
    if (path === '/' || path === '/webui') {
      send(res, 302, { location: '/webui/' });
      return true;
    }
    if (!path.startsWith('/webui/')) return false;
    const relative = path.slice('/webui/'.length) || 'index.html';
    const file = await fileUnder(options.webuiDir, relative);
    if (!file) {
      send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found');
      return true;
    }
    if (relative === 'index.html') {
      const html = injectRuntimeConfig(await readFile(file, 'utf8'));
      send(res, 200, { 'content-type': contentTypeOf(file), 'cache-control': 'no-cache' }, html);
      return true;
    }
    await sendFile(res, file, cacheControlOf(relative));
    return true;
  };
}
