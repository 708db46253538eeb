/**
 * A LightRAG WebUI build as it is served, locally (lib/local/static-site.ts) and from the
 * CloudFront bucket (lib/cli/webui.ts): content types, cache rules (content-hashed assets for a
 * year, everything else revalidated), and `index.html` with `window.__LIGHTRAG_CONFIG__`.
 */
import { extname } from 'node:path';

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

/** The content type a file is served with. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Built assets carry a content hash in their names (`index-AbCdEf12.js`): cached for good. */
export function cacheControlOf(path: string): string {
  return /[-.][A-Za-z0-9_-]{8,}\.(js|css|woff2?|svg|png)$/.test(path)
    ? 'public, max-age=31536000, immutable'
    : 'no-cache';
}

/** LightRAG's placeholder in the build's index.html. */
export const RUNTIME_CONFIG_PLACEHOLDER = '<!-- __LIGHTRAG_RUNTIME_CONFIG__ -->';

/** Where the WebUI finds the API: this origin, no prefix; the UI under /webui/. */
export const RUNTIME_CONFIG = { apiPrefix: '', webuiPrefix: '/webui/' };

/** `index.html` with `window.__LIGHTRAG_CONFIG__` in place of the placeholder (or before `</head>`). */
export function injectRuntimeConfig(html: string, config = RUNTIME_CONFIG): string {
  const script = `<script>window.__LIGHTRAG_CONFIG__=${JSON.stringify(config).replaceAll('<', '\\u003c')};</script>`;
  if (html.includes(RUNTIME_CONFIG_PLACEHOLDER))
    return html.replace(RUNTIME_CONFIG_PLACEHOLDER, script);
  return html.includes('</head>')
    ? html.replace('</head>', `${script}</head>`)
    : `${script}${html}`;
}
