/**
 * The local server's static side (lib/local/static-site.ts) over real HTTP: the WebUI build with
 * its runtime config injected, redirects to /webui/, files only from inside the build folder,
 * and /openapi.json naming every served route.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_ROUTES } from '../../lib/http/routes.ts';
import { staticSite } from '../../lib/local/static-site.ts';
import { injectRuntimeConfig } from '../../lib/webui/files.ts';

describe('the local static site', () => {
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webui-'));
    await mkdir(join(dir, 'build', 'assets'), { recursive: true });
    await writeFile(
      join(dir, 'build', 'index.html'),
      '<html><head><!-- __LIGHTRAG_RUNTIME_CONFIG__ --></head><body></body></html>',
    );
    await writeFile(join(dir, 'build', 'assets', 'index-AbCdEf12.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside the build');
    await symlink(join(dir, 'secret.txt'), join(dir, 'build', 'link.txt'));
    const serve = staticSite({
      webuiDir: join(dir, 'build'),
      title: 'T',
      description: 'D',
      login: true,
    });
    server = createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!(await serve(req, res, path))) res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${base}${path}`, { redirect: 'manual' });

  it('serves index.html with window.__LIGHTRAG_CONFIG__ in place of the placeholder', async () => {
    for (const path of ['/', '/webui']) {
      const res = await get(path);
      assert.equal(res.status, 302, path);
      assert.equal(res.headers.get('location'), '/webui/');
    }
    const index = await get('/webui/');
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(
      await index.text(),
      '<html><head><script>window.__LIGHTRAG_CONFIG__={"apiPrefix":"","webuiPrefix":"/webui/"};</script></head><body></body></html>',
    );
    const asset = await get('/webui/assets/index-AbCdEf12.js');
    assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    // Without the placeholder, before </head>.
    assert.equal(
      injectRuntimeConfig('<head></head>', { apiPrefix: '', webuiPrefix: '/webui/' }),
      '<head><script>window.__LIGHTRAG_CONFIG__={"apiPrefix":"","webuiPrefix":"/webui/"};</script></head>',
    );
  });

  it('serves nothing from outside the build folder', async () => {
    for (const path of [
      '/webui/../secret.txt',
      '/webui/%2e%2e/secret.txt',
      '/webui/..%2fsecret.txt',
      '/webui/link.txt',
      '/webui/%00',
      '/webui/%E0%A4%A',
      '/webui/missing.js',
    ]) {
      const res = await get(path);
      assert.notEqual(res.status, 200, path);
      assert.ok(!(await res.text()).includes('outside the build'), path);
    }
  });

  it('/openapi.json names every route, with the login where it is needed; /docs is Swagger UI', async () => {
    const doc = (await (await get('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(
      listed.sort(),
      [...API_ROUTES.map((r) => `${r.method} ${r.path}`), 'POST /query/stream'].sort(),
    );
    assert.equal(doc.paths['/login']!.post!.security, undefined);
    assert.ok(doc.paths['/query']!.post!.security);
    assert.equal((await get('/redoc')).headers.get('location'), '/docs');
    const docs = await get('/docs');
    assert.match(await docs.text(), /SwaggerUIBundle\(\{ url: "\/openapi.json"/);
    assert.equal((await get('/docs/swagger-ui-bundle.js')).status, 200);
  });
});
