/**
 * What `npm start` serves besides the API, on the same origin (LightRAG's WebUI needs one):
 * - `/webui/…`: a LightRAG WebUI build from `WEBUI_DIR` (or `start --webui DIR`; LightRAG's
 *   Python package ships one as `lightrag/api/webui/`), `index.html` with
 *   `window.__LIGHTRAG_CONFIG__` injected; `/` and `/webui` redirect to `/webui/`;
 * - `/docs` (Swagger UI, from swagger-ui-dist) and `/openapi.json` (lib/http/openapi.ts).
 * Files are read only from inside their folder (no `..`, no symlinks out), with their types.
 */

import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, sep } from 'node:path';
import { openApiDocument, swaggerUiPage } from '../http/openapi.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

/** Where the WebUI reads its API from: this origin, no prefix (LightRAG's placeholder comment). */
export const RUNTIME_CONFIG_PLACEHOLDER = '<!-- __LIGHTRAG_RUNTIME_CONFIG__ -->';

/** `index.html` with `window.__LIGHTRAG_CONFIG__` in place of the placeholder (or before `</head>`). */
export function injectRuntimeConfig(
  html: string,
  config = { apiPrefix: '', webuiPrefix: '/webui/' },
) {
  const script = `<script>window.__LIGHTRAG_CONFIG__=${JSON.stringify(config).replaceAll('<', '\\u003c')};</script>`;
  if (html.includes(RUNTIME_CONFIG_PLACEHOLDER))
    return html.replace(RUNTIME_CONFIG_PLACEHOLDER, script);
  return html.includes('</head>')
    ? html.replace('</head>', `${script}</head>`)
    : `${script}${html}`;
}

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
        'content-type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
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
      send(res, 200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' }, html);
      return true;
    }
    // Built assets carry a content hash in their names: cached; the rest revalidated.
    const hashed = /[-.][A-Za-z0-9_-]{8,}\.(js|css|woff2?|svg|png)$/.test(relative);
    await sendFile(res, file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    return true;
  };
}
