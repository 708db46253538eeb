/**
 * The whole backend on one machine, nothing else installed: embedded PGlite (persisted under a
 * data folder unless DATABASE_URL is set); fauxqs on loopback as the ingest, extraction and
 * uploads queues (with DLQs) and as the uploads bucket; pollers invoking the real ingest,
 * extract and parse handlers with true SQS events; and the HTTP API on localhost with the same
 * routes and handlers as serverless.yml. fauxqs does not send S3 event notifications, so the
 * stack sends each upload's `ObjectCreated:Put` event to the uploads queue itself, in S3's shape.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeS3ObjectCreated } from '../queue/messages.ts';
import type { ApiHandler } from './http-server.ts';
import { startLoopbackFauxqs } from './loopback.ts';

export interface LocalStackOptions {
  /** HTTP API port (0: any free port). */
  port?: number;
  /** SQS emulator port (0: any free port). */
  sqsPort?: number;
  /** PGlite data folder; null keeps the database in memory. Ignored when DATABASE_URL is set. */
  dataDir?: string | null;
  /** Seconds before a failed message is delivered again (Lambda waits the visibility timeout). */
  retryDelaySeconds?: number;
  /** Each consumer's timeout, after which its invocation is given up (serverless.yml's by default). */
  functionTimeoutMs?: Partial<Record<'ingest' | 'extract' | 'parse', number>>;
}

/** The consumers' timeouts in serverless.yml (custom.ingest/extract/parse.timeout). */
const FUNCTION_TIMEOUT_MS = { ingest: 600_000, extract: 300_000, parse: 300_000 };

export interface LocalStack {
  apiUrl: string;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  extractionQueueUrl: string;
  uploadsQueueUrl: string;
  uploadBucket: string;
  database: string;
  stop(): Promise<void>;
}

/**
 * Starts everything in this process. Configuration comes from the environment like in Lambda;
 * the stack fills in the queue settings and the embedded database before any handler loads.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const aws = await startLocalAws(options);
  const external = configureEnvironment(aws, options);
  // Handlers read the environment once, on first use: load them only now.
  const functions = await loadFunctions();
  const { getConfig } = await import('../config.ts');
  const { LocalSqsPoller } = await import('../queue/poller.ts');
  const { startLocalApi } = await import('./http-server.ts');
  const { staticSite } = await import('./static-site.ts');
  const { closeDatabase } = await import('../db/container.ts');
  const { createLogger } = await import('../logger.ts');
  const config = getConfig(); // Fails here, clearly, when the configuration is wrong.
  const log = createLogger(config.logLevel);
  await warmUp(config);

  // fauxqs 2.4.1 with persistence loses a message whose visibility is changed to 0 (its
  // "ready" update writes NULL into a NOT NULL receive count and throws half-way): the message
  // is neither in flight nor visible until a restart. A persisted stack retries after ≥ 1 s.
  const retryDelaySeconds = Math.max(aws.persisted ? 1 : 0, options.retryDelaySeconds ?? 5);
  const pollers = (
    [
      ['ingest', aws.ingestQueues.queueUrl, functions.ingest],
      ['extract', aws.extractionQueueUrl, functions.extract],
      ['parse', aws.uploadsQueueUrl, functions.parse],
    ] as const
  ).map(
    ([name, queueUrl, handler]) =>
      new LocalSqsPoller({
        sqs: aws.sqs,
        queueUrl,
        handler,
        functionName: name,
        timeoutMs: options.functionTimeoutMs?.[name] ?? FUNCTION_TIMEOUT_MS[name],
        failedVisibilitySeconds: retryDelaySeconds,
      }),
  );
  for (const poller of pollers) {
    poller.start((err) =>
      log.warn('local poller failed to receive', { error: (err as Error).message }),
    );
  }
  const api = await startLocalApi(
    {
      query: functions.query as ApiHandler,
      documents: functions.documents as ApiHandler,
      health: functions.health as ApiHandler,
    },
    {
      port: options.port ?? 0,
      stream: functions.queryStream as never,
      site: staticSite({
        ...(config.api.webui.dir ? { webuiDir: config.api.webui.dir } : {}),
        title: config.api.webui.title,
        description: config.api.webui.description,
        login: config.api.login !== undefined,
      }),
    },
  );
  const env = process.env;
  return {
    apiUrl: api.url,
    sqsEndpoint: aws.sqsEndpoint,
    queueUrl: aws.ingestQueues.queueUrl,
    dlqUrl: aws.ingestQueues.dlqUrl,
    extractionQueueUrl: aws.extractionQueueUrl,
    uploadsQueueUrl: aws.uploadsQueueUrl,
    uploadBucket: aws.uploadBucket,
    database: external
      ? 'DATABASE_URL'
      : env.PGLITE_DATA_DIR
        ? `PGlite in ${env.PGLITE_DATA_DIR}`
        : 'PGlite in memory',
    async stop() {
      await api.close();
      await Promise.all(pollers.map((p) => p.stop()));
      await aws.stop();
      await closeDatabase();
    },
  };
}

/**
 * SQS and S3 on loopback (fauxqs): the ingest, extraction and uploads queues, each with its DLQ,
 * and the uploads bucket reporting new objects to the uploads queue. Queued messages and
 * uploaded files live as long as the database does: a restarted stack (or one stopped with
 * documents still queued) carries on where it stopped. In-memory stacks (dataDir null: the
 * demo, tests) keep them in memory too.
 */
async function startLocalAws(options: LocalStackOptions) {
  const { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } = await import(
    '@aws-sdk/client-sqs'
  );
  const queueDir = options.dataDir === null ? undefined : join('.data', 'queues');
  if (queueDir) mkdirSync(queueDir, { recursive: true });
  const sqsServer = await startLoopbackFauxqs({
    port: options.sqsPort ?? 0,
    logger: false,
    messageSpies: true,
    ...(queueDir ? { dataDir: queueDir } : {}),
  });
  const sqsEndpoint = `http://127.0.0.1:${sqsServer.port}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials });
  const maxReceiveCount = process.env.INGEST_MAX_RECEIVE_COUNT ?? '3';
  /** A queue and its dead-letter queue (redrive after INGEST_MAX_RECEIVE_COUNT receives). */
  const withDlq = async (name: string, attributes: Record<string, string> = {}) => {
    const dead = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const arn = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: '720',
          ...attributes,
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: arn.Attributes!.QueueArn,
            maxReceiveCount: Number(maxReceiveCount),
          }),
        },
      }),
    );
    return { queueUrl: created.QueueUrl!, dlqUrl: dead.QueueUrl! };
  };
  const ingestQueues = await withDlq('ingest', { MaximumMessageSize: '1048576' });
  const extractionQueueUrl = (await withDlq('extraction')).queueUrl;
  const uploadsQueueUrl = (await withDlq('uploads')).queueUrl;
  const uploadBucket = 'lightrag-uploads';
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
  // Already there when the stack restarts on its persisted state.
  await s3.send(new CreateBucketCommand({ Bucket: uploadBucket })).catch((err: unknown) => {
    if (!/BucketAlready/.test(String((err as Error).name))) throw err;
  });
  const notifier = notifyUploads(sqsServer.spy, s3, sqs, uploadBucket, uploadsQueueUrl);
  return {
    sqs,
    sqsEndpoint,
    persisted: queueDir !== undefined,
    maxReceiveCount,
    ingestQueues,
    extractionQueueUrl,
    uploadsQueueUrl,
    uploadBucket,
    async stop() {
      await notifier.stop();
      s3.destroy();
      sqs.destroy();
      await sqsServer.stop();
    },
  };
}

/**
 * The environment the functions read, as serverless.yml gives it in AWS: the local queues and
 * bucket, and the embedded database unless DATABASE_URL (or POSTGRES_HOST) names one. Returns
 * whether the database is external.
 */
function configureEnvironment(
  aws: Awaited<ReturnType<typeof startLocalAws>>,
  options: LocalStackOptions,
): boolean {
  const env = process.env;
  const external = Boolean(env.DATABASE_URL || env.POSTGRES_HOST);
  if (!external) {
    env.DATABASE_DRIVER ??= 'pglite';
    const dataDir =
      options.dataDir === undefined ? (env.PGLITE_DATA_DIR ?? '.data/pglite') : options.dataDir;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      env.PGLITE_DATA_DIR = dataDir;
    } else delete env.PGLITE_DATA_DIR;
  }
  env.INGEST_QUEUE_URL = aws.ingestQueues.queueUrl;
  env.EXTRACTION_QUEUE_URL ??= aws.extractionQueueUrl;
  env.UPLOADS_QUEUE_URL = aws.uploadsQueueUrl;
  env.UPLOAD_BUCKET = aws.uploadBucket;
  env.S3_ENDPOINT = aws.sqsEndpoint;
  env.SQS_ENDPOINT = aws.sqsEndpoint;
  env.AWS_REGION ??= 'us-east-1';
  env.INGEST_MAX_RECEIVE_COUNT = aws.maxReceiveCount;
  return external;
}

/** The seven handlers of serverless.yml. */
async function loadFunctions() {
  const [
    { handler: ingest },
    { handler: extract },
    { handler: parse },
    { handler: query },
    { handler: queryStream },
    { handler: documents },
    { handler: health },
  ] = await Promise.all([
    import('../../functions/ingest.ts'),
    import('../../functions/extract.ts'),
    import('../../functions/parse.ts'),
    import('../../functions/query.ts'),
    import('../../functions/query-stream.ts'),
    import('../../functions/documents.ts'),
    import('../../functions/health.ts'),
  ]);
  return { ingest, extract, parse, query, queryStream, documents, health };
}

/**
 * Ready before the stack says it is running: the embedded database started, the schema created
 * and the tokenizer loaded now, not on the first request (which could time out).
 */
async function warmUp(config: import('../config.ts').Config): Promise<void> {
  const [{ getDatabase }, { ensureSchema }, { getTokenizer }] = await Promise.all([
    import('../db/container.ts'),
    import('../storage/schema.ts'),
    import('../tokenizer.ts'),
  ]);
  await ensureSchema(getDatabase(), config.vector);
  await getTokenizer(config.chunking.encoding);
}

type Spy = import('fauxqs').MessageSpyReader;

/**
 * Sends an S3 `ObjectCreated:Put` event notification for every object put under `uploads/`,
 * as S3 would with the bucket's notification configuration (infra/uploads.yml).
 */
function notifyUploads(
  spy: Spy,
  s3: import('@aws-sdk/client-s3').S3Client,
  sqs: import('@aws-sdk/client-sqs').SQSClient,
  bucket: string,
  queueUrl: string,
) {
  const seen = new WeakSet<object>();
  let stopping = false;
  const loop = (async () => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    while (!stopping) {
      const event = await spy
        .waitForMessage(
          (m) =>
            m.service === 's3' &&
            m.bucket === bucket &&
            m.key.startsWith('uploads/') &&
            !seen.has(m),
          'uploaded',
          500,
        )
        .catch(() => undefined);
      if (!event || event.service !== 's3' || stopping) continue;
      seen.add(event);
      const key = event.key;
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const body = encodeS3ObjectCreated(bucket, key, head.ContentLength ?? 0, head.ETag ?? '');
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop.catch(() => undefined);
    },
  };
}
