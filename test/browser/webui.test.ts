/**
 * LightRAG's WebUI paths in a real browser: headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core) loads a stand-in page (test/fixtures/webui, behaving as the fact sheet's §1–§2
 * say the WebUI does) from `npm start`'s `/webui/`, on one origin with the API: the runtime
 * config injected, login by form and a bearer token on every call (guest tokens renewed after a
 * 401), the start-up sequence, and `/query/stream` read as NDJSON with fetch while the scripted
 * LLM writes. Then Swagger UI at `/docs` renders the generated `/openapi.json`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import { hashPassword } from '../../lib/auth/passwords.ts';
import { resetConfig } from '../../lib/config.ts';
import { type LocalStack, startLocalStack } from '../../lib/local/stack.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const WEBUI_DIR = fileURLToPath(new URL('../fixtures/webui', import.meta.url));
const SECRET = 'browser-test-token-secret-of-40-chars-00';
// CI installs Chromium (.ci/run); elsewhere the suite says how to get it.
const skip =
  CHROMIUM || process.env.CI ? false : 'no Chromium: apt-get install chromium (or CHROMIUM_PATH)';

describe(`LightRAG's WebUI paths in headless Chromium on ${TARGET}`, { skip }, () => {
  let llm: ScriptedLlm;
  let browser: Browser;
  let stack: LocalStack | undefined;
  let baseEnv: Record<string, string>;
  const savedEnv = { ...process.env };

  /** A fresh local stack with `env` over the base (the functions read it on first use). */
  async function restart(env: Record<string, string>) {
    await stack?.stop();
    resetConfig();
    process.env = { ...savedEnv, ...baseEnv, ...env };
    if (baseEnv.DATABASE_DRIVER === 'pglite') delete process.env.DATABASE_URL;
    stack = await startLocalStack({ dataDir: null, retryDelaySeconds: 0 });
    return stack;
  }

  before(async () => {
    assert.ok(CHROMIUM, 'CI must install Chromium (.ci/run: scripts/setup-chromium.sh)');
    llm = await startScriptedLlm();
    const target = await createTestDatabase({ LOG_LEVEL: 'silent', ...scriptedLlmEnv(llm) });
    baseEnv = { ...(target.env as Record<string, string>), WEBUI_DIR };
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await llm?.close();
    process.env = savedEnv;
    resetConfig();
  });

  /** A page that records every request to the API with its Authorization header. */
  async function openPage(url: string) {
    const page = await browser.newPage();
    const requests: Array<{ path: string; authorization?: string }> = [];
    page.on('request', (r: HTTPRequest) => {
      const u = new URL(r.url());
      requests.push({ path: u.pathname, authorization: r.headers().authorization });
    });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(url, { waitUntil: 'networkidle0' });
    return { page, requests, errors };
  }

  const text = (page: Page, id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');

  it('logs in by form, then runs the start-up sequence and a streamed query with its token', async () => {
    const s = await restart({
      AUTH_ACCOUNTS: `alice:${await hashPassword('alice-password')}`,
      TOKEN_SECRET: SECRET,
    });
    // A document to find, submitted with a token as any client would.
    const login = await fetch(`${s.apiUrl}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'alice', password: 'alice-password' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const submitted = await fetch(`${s.apiUrl}/documents/text`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        text: 'Comets are icy bodies. [[E:Comet|Concept|An icy body that orbits the Sun.]]',
        file_source: 'comets.md',
      }),
    });
    assert.equal(submitted.status, 200);
    for (let i = 0; ; i++) {
      const counts = (await (
        await fetch(`${s.apiUrl}/documents/status_counts`, { headers: auth })
      ).json()) as { status_counts: Record<string, number> };
      if (counts.status_counts.processed === 1) break;
      assert.ok(i < 300, 'processed within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const { page, requests, errors } = await openPage(`${s.apiUrl}/`);
    assert.equal(new URL(page.url()).pathname, '/webui/', '/ redirects to /webui/');
    assert.equal(await text(page, 'config'), '{"apiPrefix":"","webuiPrefix":"/webui/"}');
    assert.equal(
      await page.$eval('#login', (e) => (e as unknown as { hidden: boolean }).hidden),
      false,
    );
    // A wrong password: LightRAG's 401 detail, nothing else.
    await page.type('#username', 'alice');
    await page.type('#password', 'wrong');
    await page.click('#sign-in');
    await page.waitForFunction("document.getElementById('login-error').textContent !== ''");
    assert.equal(await text(page, 'login-error'), '401 Incorrect credentials');
    await page.$eval('#password', (e) => {
      (e as unknown as { value: string }).value = '';
    });
    await page.type('#password', 'alice-password');
    await page.click('#sign-in');
    await page.waitForSelector('body[data-ready]', { timeout: 15_000 });
    assert.equal(await text(page, 'user'), 'alice');
    assert.equal(await text(page, 'role'), 'user');
    assert.equal(await text(page, 'health'), 'healthy');
    assert.match(await text(page, 'documents'), /^1 \(comets\.md\)$/);
    assert.match(await text(page, 'labels'), /Comet/);
    assert.ok(Number(await text(page, 'nodes')) >= 1);

    llm.streamText = 'Comets are icy bodies that orbit the Sun.';
    llm.streamDelayMs = 20;
    await page.type('#question', 'What are comets?');
    await page.click('#send');
    await page.waitForSelector('body[data-answered]', { timeout: 30_000 });
    assert.equal(await text(page, 'answer'), llm.streamText);
    assert.equal(await text(page, 'references'), '[1] comets.md');
    assert.match(
      await text(page, 'progress'),
      /^extracting_keywords; retrieving_context; generating_response; $/,
    );
    assert.ok(Number(await text(page, 'elapsed')) > 0);

    // The start-up sequence, in order, and the token on every call but the login's own.
    const api = requests.filter(
      (r) => !r.path.startsWith('/webui/') && !['/', '/favicon.ico'].includes(r.path),
    );
    assert.deepEqual(
      api.map((r) => r.path),
      [
        '/auth-status',
        '/login',
        '/login',
        '/auth-status',
        '/docs',
        '/health',
        '/documents/paginated',
        '/graph/label/popular',
        '/graphs',
        '/query/stream',
      ],
    );
    // (/docs is the API tab's iframe, which LightRAG's WebUI loads without one.)
    for (const r of api.filter((r) => !['/auth-status', '/login', '/docs'].includes(r.path))) {
      assert.match(r.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, r.path);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('in guest mode: no login form, and a refused guest token is renewed from /auth-status', async () => {
    const s = await restart({ AUTH_GUEST: 'true', TOKEN_SECRET: SECRET });
    const { page } = await openPage(`${s.apiUrl}/webui/`);
    await page.waitForSelector('body[data-ready]', { timeout: 15_000 });
    assert.equal(await text(page, 'role'), 'guest');
    assert.equal(await text(page, 'health'), 'healthy');
    // A guest token signed elsewhere (or expired): 401, a new one from /auth-status, retried once.
    const forged = await page.evaluate(() => {
      const part = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '');
      return `${part({ alg: 'HS256' })}.${part({ sub: 'guest', role: 'guest', exp: 4e9 })}.c2ln`;
    });
    await page.evaluate((t) => localStorage.setItem('LIGHTRAG-API-TOKEN', t), forged);
    const renewed = await page.evaluate(async () => {
      const before = localStorage.getItem('LIGHTRAG-API-TOKEN');
      const { call } = (
        globalThis as unknown as { lightrag: { call: (p: string) => Promise<Response> } }
      ).lightrag;
      const res = await call('/documents/status_counts');
      return { status: res.status, changed: localStorage.getItem('LIGHTRAG-API-TOKEN') !== before };
    });
    assert.deepEqual(renewed, { status: 200, changed: true });
    await page.close();
  });

  it('/docs renders Swagger UI from the generated /openapi.json', async () => {
    const s = stack!;
    const { page, errors } = await openPage(`${s.apiUrl}/docs`);
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 15_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) =>
      els.map((e) => e.getAttribute('data-path')),
    );
    for (const path of ['/query', '/query/stream', '/documents/paginated', '/login', '/graphs']) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(' ')}`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
});
