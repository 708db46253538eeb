/**
 * Workspaces bound to the caller (WORKSPACE_CLAIM, WORKSPACE_IAM_MAP) through the real query
 * handler with API Gateway v2 events carrying authorizer context.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handler as queryHandler } from '../../functions/query.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { apiEvent, context, type Handler, type Response } from '../support/api-event.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

const ROLE = 'arn:aws:iam::123456789012:role/team-b-reader';

async function ask(
  authorizer: Record<string, unknown> | undefined,
  headers: Record<string, string> = {},
) {
  const event = apiEvent('POST /query/detailed', {
    body: { query: 'anything', mode: 'naive', only_need_context: true },
    headers,
  });
  const withAuth = {
    ...event,
    requestContext: { ...event.requestContext, ...(authorizer ? { authorizer } : {}) },
  } as APIGatewayProxyEventV2;
  const res = (await (queryHandler as Handler)(withAuth, context)) as Response;
  return { status: res.statusCode, json: JSON.parse(res.body ?? '{}') };
}

const jwt = (workspaces: unknown) => ({ jwt: { claims: { sub: 'u1', workspaces }, scopes: [] } });

describe(`workspaces bound to the caller on ${TARGET}`, () => {
  const savedEnv = { ...process.env };
  before(async () => {
    const target = await createTestDatabase({
      EMBEDDING_DIM: '16',
      ALLOWED_WORKSPACES: 'team_a,team_b,shared',
      WORKSPACE_CLAIM: 'workspaces',
      WORKSPACE_IAM_MAP: JSON.stringify({ [ROLE]: ['team_b'] }),
    });
    Object.assign(process.env, target.env);
  });
  after(async () => {
    await getDatabase().end();
    process.env = savedEnv;
  });

  it("uses the claim's first workspace when none is named, and any other it lists", async () => {
    const first = await ask(jwt('[team_a shared]'));
    assert.equal(first.status, 200);
    assert.equal(first.json.workspace, 'team_a');
    const named = await ask(jwt('[team_a shared]'), { 'x-workspace': 'shared' });
    assert.equal(named.json.workspace, 'shared');
    const lambda = await ask({ lambda: { workspaces: JSON.stringify(['team_b']) } });
    assert.equal(lambda.json.workspace, 'team_b', "a Lambda authorizer's context, JSON array");
  });

  it('refuses a workspace outside the claim, a caller without one, and ALLOWED_WORKSPACES still holds', async () => {
    const other = await ask(jwt('team_a'), { 'x-workspace': 'team_b' });
    assert.equal(other.status, 403);
    assert.equal(other.json.error.code, 'WORKSPACE_FORBIDDEN');
    const none = await ask(jwt(undefined));
    assert.equal(none.status, 403, 'no silent fallback to the default workspace');
    const anonymous = await ask(undefined);
    assert.equal(anonymous.status, 403);
    const outsider = await ask(jwt('outsider team_a'), { 'x-workspace': 'outsider' });
    assert.equal(outsider.status, 403, 'granted by the token, not open to this API');
  });

  it('maps an IAM role (any of its sessions) to its workspaces', async () => {
    const session = {
      iam: {
        accountId: '123456789012',
        userArn: 'arn:aws:sts::123456789012:assumed-role/team-b-reader/ci-run-7',
      },
    };
    const mine = await ask(session);
    assert.equal(mine.status, 200);
    assert.equal(mine.json.workspace, 'team_b');
    assert.equal((await ask(session, { 'x-workspace': 'team_a' })).status, 403);
    const stranger = {
      iam: { accountId: '210987654321', userArn: 'arn:aws:iam::210987654321:user/mallory' },
    };
    assert.equal((await ask(stranger)).status, 403);
  });
});
