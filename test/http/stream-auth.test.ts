/**
 * The streaming route's own JWT check (its function URL cannot run API Gateway's JWT
 * authorizer): a real OIDC issuer on loopback (discovery document and JWKS), tokens signed with
 * jose, and the claims reaching the workspace rules as API Gateway passes them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { HttpError } from '../../lib/errors.ts';
import { resolveWorkspace } from '../../lib/http/request.ts';
import { authenticateStream } from '../../lib/http/stream-auth.ts';
import { apiEvent } from '../support/api-event.ts';

describe('JWT check of the streaming route', () => {
  let server: Server;
  let issuer: string;
  let sign: (
    claims: Record<string, unknown>,
    options?: { audience?: string; expired?: boolean; noExpiry?: boolean },
  ) => Promise<string>;
  let otherKey: Awaited<ReturnType<typeof generateKeyPair>>;

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    otherKey = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
      } else if (req.url === '/jwks.json') res.end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    sign = (claims, options = {}) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(options.audience ?? 'lightrag-api')
        .setIssuedAt();
      if (!options.noExpiry)
        jwt.setExpirationTime(options.expired ? Math.floor(Date.now() / 1000) - 60 : '5m');
      return jwt.sign(privateKey);
    };
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const api = () => ({ jwt: { issuer, audience: 'lightrag-api' } });
  const event = (token?: string) =>
    apiEvent('POST /query/stream', { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const refused = async (token: string | undefined, status: number, pattern: RegExp) => {
    await assert.rejects(authenticateStream(event(token), api()), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, status);
      assert.match(err.message, pattern);
      return true;
    });
  };

  it('passes a valid token and hands its claims to the workspace rules', async () => {
    const token = await sign({ scope: 'lightrag/read lightrag/write', workspaces: ['team_a'] });
    const authorized = await authenticateStream(event(token), api());
    const config = {
      maxBodyBytes: 1e6,
      corsAllowOrigins: [],
      allowedWorkspaces: ['*'],
      workspaceHeader: 'x-workspace',
      healthDetails: false,
      workspaceClaim: 'workspaces',
      webui: { title: 't', description: 'd', hosted: false },
    };
    assert.equal(resolveWorkspace(authorized, {}, config, 'default'), 'team_a');
    assert.throws(
      () => resolveWorkspace(authorized, { workspace: 'team_b' }, config, 'default'),
      /team_b/,
    );
  });

  it('refuses a missing, forged, expired or foreign token, and one without the read scope', async () => {
    await refused(undefined, 401, /bearer token is required/);
    await refused('not-a-jwt', 401, /refused/);
    await refused(await sign({ scope: 'lightrag/read' }, { audience: 'someone-else' }), 401, /aud/);
    await refused(await sign({ scope: 'lightrag/read' }, { expired: true }), 401, /exp/);
    const forged = await new SignJWT({ scope: 'lightrag/read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('lightrag-api')
      .setExpirationTime('5m')
      .sign(otherKey.privateKey);
    await refused(forged, 401, /signature/);
    await refused(await sign({ scope: 'lightrag/write' }), 403, /lightrag\/read/);
  });

  it('refuses a token that never expires, as API Gateway does', async () => {
    await refused(await sign({ scope: 'lightrag/read' }, { noExpiry: true }), 401, /"exp"/);
  });

  it('an issuer down or hanging is a fixed 503, remembered for a while, never its text', async () => {
    let hits = 0;
    const sockets = new Set<import('node:net').Socket>();
    const down = createServer((req, res) => {
      hits++;
      if (req.url?.includes('hang')) return; // Never answers.
      res.writeHead(500).end('internal secret: db password is hunter2');
    });
    down.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(down.address() as { port: number }).port}`;
    const token = await sign({ scope: 'lightrag/read' });
    try {
      for (const issuerUrl of [`${base}/broken`, `${base}/hang`]) {
        const started = Date.now();
        await assert.rejects(
          authenticateStream(event(token), { jwt: { issuer: issuerUrl, audience: 'x' } }),
          (err: unknown) => {
            assert.ok(err instanceof HttpError);
            assert.equal(err.status, 503);
            assert.equal(err.code, 'AUTH_UNAVAILABLE');
            assert.doesNotMatch(err.message, /hunter2|500/);
            return true;
          },
        );
        assert.ok(Date.now() - started < 30_000, 'the discovery request gave up');
      }
      const before = hits;
      await assert.rejects(
        authenticateStream(event(token), { jwt: { issuer: `${base}/broken`, audience: 'x' } }),
        /could not be fetched/,
      );
      assert.equal(hits, before, 'the failure was remembered, the issuer not asked again');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => down.close(() => r()));
    }
  });

  it('leaves the event alone without JWT_ISSUER (IAM: the function URL checked it)', async () => {
    const e = event();
    assert.equal(await authenticateStream(e, {}), e);
  });
});
