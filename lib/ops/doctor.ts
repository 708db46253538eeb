/**
 * What is wrong, found the way an operator would look: every check of `lightrag-serverless
 * doctor`, each finding with the fix. Read-only: nothing is created or changed (init-db does
 * that). Checks that need an earlier one (the schema needs the database) are skipped with the
 * reason when it failed.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type Config, loadConfig } from '../config.ts';
import { Database } from '../db/database.ts';
import { createEmbedder } from '../embedding/index.ts';
import { ConfigError } from '../errors.ts';
import { createLlm } from '../llm/index.ts';
import { createLogger } from '../logger.ts';
import { createSqsClient } from '../queue/sqs.ts';
import { dueByWorkspace } from '../storage/graph-upkeep.ts';
import { inspectSchema } from '../storage/schema.ts';
import { s3Client } from '../uploads/s3.ts';

/** How a check of `doctor` came out. */
export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

/** One check of `doctor`: what was found, and what to do about it. */
export interface Finding {
  check: string;
  verdict: Verdict;
  detail: string;
  /** What to do about it (absent when all is well). */
  fix?: string;
  ms?: number;
}

/** What pgvector's version means for this backend. */
export function pgvectorFinding(version: string | null): Finding {
  if (!version) {
    return {
      check: 'pgvector',
      verdict: 'fail',
      detail: 'the vector extension is not installed in this database',
      fix: 'run `lightrag-serverless init-db` (CREATE EXTENSION vector); on Neon it is available, elsewhere install pgvector first',
    };
  }
  const [major = 0, minor = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  if (major === 0 && minor < 8) {
    return {
      check: 'pgvector',
      verdict: 'warn',
      detail: `pgvector ${version}: no iterative index scans, so a filtered search in a small workspace of a shared table falls back to an exact scan (slower as tables grow)`,
      fix: 'upgrade to pgvector ≥ 0.8 (ALTER EXTENSION vector UPDATE after installing it)',
    };
  }
  return {
    check: 'pgvector',
    verdict: 'ok',
    detail: `pgvector ${version} (iterative index scans)`,
  };
}

/**
 * Runs every check against `env` (the environment a function would see).
 *
 * @example
 * ```ts
 * const findings = await runDoctor(process.env);
 * findings.some((f) => f.verdict === 'fail'); // → exit 1
 * ```
 */
export async function runDoctor(
  env: Record<string, string | undefined>,
  options: { sqs?: SQSClient; skipProviders?: boolean } = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  let config: Config;
  try {
    config = loadConfig(env);
    findings.push({ check: 'configuration', verdict: 'ok', detail: 'every variable valid' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    findings.push({
      check: 'configuration',
      verdict: 'fail',
      detail: err.problems.map((p) => `${p.variable}: ${p.problem}`).join('; '),
      fix: 'set or fix these variables (docs/configuration.md); nothing else was checked',
    });
    return findings;
  }
  const logger = createLogger('silent');
  const db = new Database(config.database, logger);
  try {
    const reachable = await timed(() =>
      db.query<{ v: string; n: string }>(
        "SELECT version() AS v, current_setting('server_version_num') AS n",
      ),
    );
    if (reachable.error) {
      findings.push({
        check: 'database',
        verdict: 'fail',
        detail: `not reachable through the ${config.database.driver} driver: ${reachable.error.message}`,
        fix:
          config.database.driver === 'neon' && !/\.neon\.(tech|build)$/.test(hostOf(config))
            ? 'the neon driver speaks WebSockets, which only Neon (or a bridge, NEON_WS_PROXY) answers: set DATABASE_DRIVER=pg for this server'
            : 'check DATABASE_URL (Neon: the -pooler host, sslmode=require) and that the server accepts connections from here',
      });
    } else {
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) latencies.push((await timed(() => db.query('SELECT 1'))).ms);
      latencies.sort((a, b) => a - b);
      const row = reachable.value!.rows[0]!;
      const major = Math.floor(Number(row.n) / 10000);
      findings.push({
        check: 'database',
        verdict: major >= 13 ? 'ok' : 'warn',
        detail: `PostgreSQL ${major} reachable through the ${config.database.driver} driver, round trip ${latencies[1]!.toFixed(1)} ms (median of 3)`,
        ...(major >= 13 ? {} : { fix: 'PostgreSQL 13 or newer is supported' }),
      });
      await schemaFindings(db, config, findings);
    }
  } finally {
    await db.end().catch(() => undefined);
  }
  if (!options.skipProviders) await providerFindings(config, findings);
  await queueFindings(config, findings, options.sqs);
  await bucketFindings(config, findings);
  return findings;
}

function hostOf(config: Config): string {
  try {
    return new URL(config.database.connectionString ?? '').hostname;
  } catch {
    return '';
  }
}

async function schemaFindings(db: Database, config: Config, findings: Finding[]): Promise<void> {
  try {
    const schema = await inspectSchema(db, config.vector);
    findings.push(pgvectorFinding(schema.pgvectorVersion));
    const missing = schema.missing.filter((m) => m !== 'extension vector');
    findings.push(
      missing.length === 0
        ? {
            check: 'schema',
            verdict: 'ok',
            detail: `complete for ${config.vector.dimension}-dimension vectors, LightRAG 1.5 layout`,
          }
        : {
            check: 'schema',
            verdict: 'warn',
            detail: `missing: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? `, … (${missing.length})` : ''}`,
            fix: 'run `lightrag-serverless init-db` (the first cold start would also create it)',
          },
    );
    if (missing.length === 0) findings.push(upkeepFinding(await dueByWorkspace(db)));
  } catch (err) {
    findings.push({
      check: 'schema',
      verdict: 'fail',
      detail: (err as Error).message,
      fix: 'match EMBEDDING_DIM (and EMBEDDING_MODEL) to the tables, as the message says',
    });
  }
}

/** Graph elements left due longer than this mean nothing is sweeping them (no ingest traffic). */
const UPKEEP_STALE_SECONDS = 600;

/** Contended summaries and vectors still behind, per workspace (lib/graph/upkeep.ts). */
export function upkeepFinding(
  due: ReadonlyArray<{ workspace: string; due: number; oldestSeconds: number }>,
): Finding {
  if (due.length === 0)
    return { check: 'graph upkeep', verdict: 'ok', detail: 'no summary or vector is behind' };
  const total = due.reduce((n, w) => n + w.due, 0);
  const oldest = Math.max(...due.map((w) => w.oldestSeconds));
  const detail = `${total} graph element(s) due in ${due.map((w) => `${w.workspace} (${w.due})`).join(', ')}, the oldest for ${oldest} s`;
  return oldest < UPKEEP_STALE_SECONDS
    ? { check: 'graph upkeep', verdict: 'ok', detail: `${detail} (ingest is catching up)` }
    : {
        check: 'graph upkeep',
        verdict: 'warn',
        detail,
        fix: 'run `lightrag-serverless upkeep` (ingest brings them up to date after each document; with no documents arriving nothing does)',
      };
}

async function providerFindings(config: Config, findings: Finding[]): Promise<void> {
  const embedder = createEmbedder(config);
  const embedded = await timed(() => embedder.embed(['lightrag-serverless doctor']));
  if (embedded.error) {
    findings.push({
      check: 'embedding',
      verdict: 'fail',
      detail: `${config.embedding.provider}: ${embedded.error.message}`,
      fix: 'check EMBEDDING_PROVIDER, EMBEDDING_MODEL, its key (EMBEDDING_API_KEY / OPENAI_API_KEY or the Bedrock role) and EMBEDDING_BASE_URL',
    });
  } else {
    const dim = embedded.value![0]!.length;
    findings.push(
      dim === config.vector.dimension
        ? {
            check: 'embedding',
            verdict: 'ok',
            detail: `${config.embedding.provider} returned ${dim} dimensions`,
            ms: embedded.ms,
          }
        : {
            check: 'embedding',
            verdict: 'fail',
            detail: `${config.embedding.provider} returned ${dim} dimensions, EMBEDDING_DIM is ${config.vector.dimension}`,
            fix: `set EMBEDDING_DIM=${dim}, or choose the model the tables were built for`,
          },
    );
  }
  const llm = createLlm({ ...config.llm, maxRetries: 0 });
  if (!llm) {
    findings.push({
      check: 'llm',
      verdict: 'warn',
      detail: 'LLM_PROVIDER=none: no answers and no knowledge graph',
      fix: 'set LLM_PROVIDER and LLM_MODEL',
    });
    return;
  }
  const answered = await timed(() =>
    llm.complete([{ role: 'user', content: 'Reply with the single word OK.' }]),
  );
  findings.push(
    answered.error
      ? {
          check: 'llm',
          verdict: 'fail',
          detail: answered.error.message,
          fix: 'check LLM_PROVIDER, LLM_MODEL, LLM_API_KEY (or the Bedrock role and model access) and LLM_BASE_URL',
        }
      : { check: 'llm', verdict: 'ok', detail: `${llm.name} answered`, ms: answered.ms },
  );
}

/** The queues a deployment uses, by the variable that names each and the function it feeds. */
const QUEUES = [
  { variable: 'INGEST_QUEUE_URL', label: 'ingest', key: 'queueUrl' },
  { variable: 'EXTRACTION_QUEUE_URL', label: 'extraction', key: 'extractionQueueUrl' },
  { variable: 'UPLOADS_QUEUE_URL', label: 'uploads', key: 'uploadsQueueUrl' },
] as const;

/** Depth and dead letters of every configured queue (ingest, extraction, uploads). */
async function queueFindings(
  config: Config,
  findings: Finding[],
  given?: SQSClient,
): Promise<void> {
  const configured = QUEUES.filter((q) => config.queue[q.key]);
  if (!config.queue.queueUrl) {
    findings.push({
      check: 'queue',
      verdict: 'skip',
      detail: 'INGEST_QUEUE_URL not set (documents are ingested in-process)',
    });
  }
  if (configured.length === 0) return;
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const sqs = given ?? (await createSqsClient(config.queue));
  const depth = async (url: string) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      dlqArn: Attributes.RedrivePolicy
        ? (JSON.parse(Attributes.RedrivePolicy).deadLetterTargetArn as string)
        : undefined,
    };
  };
  for (const { variable, label, key } of configured) {
    const queueUrl = config.queue[key]!;
    // The ingest queue keeps the check names it always had ('queue', 'dlq').
    const suffix = label === 'ingest' ? '' : `:${label}`;
    try {
      const q = await depth(queueUrl);
      findings.push({
        check: `queue${suffix}`,
        verdict: 'ok',
        detail: `${label} queue: ${q.visible} waiting, ${q.inFlight} in flight`,
      });
      if (!q.dlqArn) {
        findings.push({
          check: `dlq${suffix}`,
          verdict: 'warn',
          detail: `the ${label} queue has no redrive policy`,
          fix: 'deploy infra/queues.yml (a DLQ after 3 receives)',
        });
        continue;
      }
      const name = q.dlqArn.split(':').pop()!;
      const d = await depth(queueUrl.replace(/[^/]+$/, name));
      findings.push(
        d.visible + d.inFlight === 0
          ? { check: `dlq${suffix}`, verdict: 'ok', detail: `${label} dead-letter queue empty` }
          : {
              check: `dlq${suffix}`,
              verdict: 'warn',
              detail: `${d.visible + d.inFlight} message(s) in the dead-letter queue ${name}`,
              fix: `read them (docs/operations.md), fix the cause, then redrive to the ${label} queue`,
            },
      );
    } catch (err) {
      findings.push({
        check: `queue${suffix}`,
        verdict: 'fail',
        detail: `${label} queue not reachable: ${(err as Error).message}`,
        fix: `check ${variable}, AWS_REGION and the credentials (sqs:GetQueueAttributes)`,
      });
    }
  }
}

/** The uploads bucket answers (HeadBucket) when uploads are configured. */
async function bucketFindings(config: Config, findings: Finding[]): Promise<void> {
  const bucket = config.uploads.bucket;
  if (!bucket) return;
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Client(config.uploads);
  const head = await timed(() => s3.send(new HeadBucketCommand({ Bucket: bucket })));
  findings.push(
    head.error
      ? {
          check: 'bucket',
          verdict: 'fail',
          detail:
            `uploads bucket ${bucket} not reachable: ${head.error.name} ${head.error.message}`.trim(),
          fix: 'check UPLOAD_BUCKET, AWS_REGION and the credentials (s3:ListBucket on the bucket)',
          ms: head.ms,
        }
      : {
          check: 'bucket',
          verdict: 'ok',
          detail: `uploads bucket ${bucket} answered`,
          ms: head.ms,
        },
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: Math.round(performance.now() - started), value };
  } catch (err) {
    return { ms: Math.round(performance.now() - started), error: err as Error };
  }
}
