import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../lib/config.ts';
import { closeDatabase, getDatabase } from '../../lib/db/container.ts';
import { Database } from '../../lib/db/database.ts';
import { DatabaseUnavailableError } from '../../lib/errors.ts';
import {
  adminDatabase,
  createTestDatabase,
  NEEDS_SERVER,
  quietLogger,
  TARGET,
  type TestDatabase,
} from '../support/database.ts';

describe(`connection manager on ${TARGET}`, () => {
  let target: TestDatabase;
  before(async () => {
    target = await createTestDatabase();
  });

  it('reuses the pool across warm invocations: the second opens no connection', async () => {
    const db = target.open();
    const invoke = () => db.query<{ ok: number }>('SELECT 1 AS ok');
    assert.equal((await invoke()).rows[0]!.ok, 1);
    const afterFirst = db.stats();
    assert.ok(afterFirst.connectionsOpened >= 1);
    await invoke();
    await invoke();
    const afterThird = db.stats();
    assert.equal(afterThird.connectionsOpened, afterFirst.connectionsOpened);
    assert.equal(afterThird.queries, afterFirst.queries + 2);
    assert.equal(afterThird.waiting, 0);
    assert.ok(afterThird.total >= 1 && afterThird.total <= afterThird.max);
  });

  it('commits a transaction and rolls one back on error', async () => {
    const db = target.open();
    await db.query('CREATE TABLE IF NOT EXISTS tx_probe (id int primary key)');
    await db.withTransaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (1)');
    });
    await assert.rejects(
      db.withTransaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (2)');
        await tx.query('INSERT INTO tx_probe VALUES (1)'); // duplicate key
      }),
      (err: Error & { code?: string }) => err.code === '23505',
    );
    const { rows } = await db.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.id),
      [1],
    );
  });

  it('applies the statement timeout inside transactions', {
    skip: NEEDS_SERVER && 'PGlite does not enforce statement_timeout',
  }, async () => {
    const db = new Database({ ...target.config.database, statementTimeoutMs: 200 }, quietLogger);
    try {
      await assert.rejects(
        db.withTransaction((tx) => tx.query('SELECT pg_sleep(2)')),
        (err: Error & { code?: string }) => err.code === '57014',
      );
      // The connection is healthy afterwards.
      assert.equal((await db.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n, 2);
    } finally {
      await db.end();
    }
  });

  it('does not retry statement errors', async () => {
    const db = target.open();
    const before = db.stats().retries;
    await assert.rejects(db.query('SELECT * FROM no_such_table'), /no_such_table/);
    assert.equal(db.stats().retries, before);
  });
});

describe('connection manager against a real server', { skip: NEEDS_SERVER }, () => {
  let target: TestDatabase;
  before(async () => {
    target = await createTestDatabase();
  });

  const backendPid = async (db: Database) =>
    (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

  it('recovers when the backend is killed between two invocations, counting the reconnect', async () => {
    const db = target.open();
    const pid = await backendPid(db);
    const opened = db.stats().connectionsOpened;
    await adminDatabase().query('SELECT pg_terminate_backend($1)', [pid]);
    await sleep(100);
    const next = await backendPid(db);
    assert.notEqual(next, pid);
    const stats = db.stats();
    assert.equal(stats.connectionsLost, 1);
    assert.equal(stats.reconnects, 1);
    assert.equal(stats.connectionsOpened, opened + 1);
  });

  it('retries once when the connection dies under a running statement', async () => {
    const db = target.open();
    const pid = await backendPid(db);
    // Kill the backend while it is busy: the in-flight statement fails with 57P01.
    const killer = (async () => {
      await sleep(150);
      await adminDatabase().query('SELECT pg_terminate_backend($1)', [pid]);
    })();
    const { rows } = await db.query<{ pid: number }>(
      'SELECT pg_backend_pid() AS pid FROM pg_sleep(0.5)',
    );
    await killer;
    assert.notEqual(rows[0]!.pid, pid);
    assert.equal(db.stats().retries, 1);
    assert.ok(db.stats().reconnects >= 1);
  });

  it('fails non-idempotent work at once with a retryable error instead of running it twice', async () => {
    const db = target.open();
    const pid = await backendPid(db);
    const killer = (async () => {
      await sleep(150);
      await adminDatabase().query('SELECT pg_terminate_backend($1)', [pid]);
    })();
    await assert.rejects(
      db.query('SELECT pg_sleep(0.5)', [], { idempotent: false }),
      DatabaseUnavailableError,
    );
    await killer;
    assert.equal(db.stats().retries, 0);
  });

  it('says the database is unavailable, without the password, when nothing listens', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:topsecret-pw@127.0.0.1:1/db',
      DATABASE_DRIVER: 'pg',
      POSTGRES_CONNECT_TIMEOUT_MS: '500',
    });
    const db = new Database(config.database, quietLogger);
    try {
      await assert.rejects(db.query('SELECT 1'), (err: Error) => {
        assert.ok(err instanceof DatabaseUnavailableError);
        assert.doesNotMatch(err.message, /topsecret-pw/);
        assert.match(err.message, /safe to retry/);
        return true;
      });
      assert.equal(db.stats().retries, 1);
    } finally {
      await db.end();
    }
  });

  it('keeps at most POSTGRES_MAX_CONNECTIONS server connections under concurrent work', async () => {
    const own = await createTestDatabase();
    const db = own.open();
    const sample = async () =>
      (
        await adminDatabase().query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
          [own.name],
        )
      ).rows[0]!.n;
    const load = Promise.all(Array.from({ length: 12 }, () => db.query('SELECT pg_sleep(0.1)')));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await sleep(40);
      samples.push(await sample());
    }
    await load;
    assert.ok(Math.max(...samples) >= 1, `samples ${samples}`);
    assert.ok(Math.max(...samples) <= own.config.database.maxConnections, `samples ${samples}`);
    assert.ok(db.stats().connectionsOpened <= own.config.database.maxConnections);
  });
});

describe('container-scoped database', () => {
  const saved = { ...process.env };
  after(async () => {
    await closeDatabase();
    process.env = saved;
  });

  it('returns the same Database on every call until closed', async () => {
    const target = await createTestDatabase();
    Object.assign(process.env, target.env);
    // getConfig() caches the first configuration it reads; this test only checks identity.
    const first = getDatabase();
    assert.equal(getDatabase(), first);
    await closeDatabase();
    assert.notEqual(getDatabase(), first);
  });
});
