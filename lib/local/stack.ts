/**
 * The whole backend on one machine, nothing else installed: embedded PGlite (persisted under a
 * data folder unless DATABASE_URL is set), fauxqs as the ingest queue and its DLQ on loopback, a
 * poller invoking the real ingest handler with true SQS events, and the HTTP API on localhost
 * with the same routes and handlers as serverless.yml.
 */
import { mkdirSync } from 'node:fs';
import type { ApiHandler } from './http-server.ts';

export interface LocalStackOptions {
  /** HTTP API port (0: any free port). */
  port?: number;
  /** SQS emulator port (0: any free port). */
  sqsPort?: number;
  /** PGlite data folder; null keeps the database in memory. Ignored when DATABASE_URL is set. */
  dataDir?: string | null;
  /** Seconds before a failed message is delivered again (Lambda waits the visibility timeout). */
  retryDelaySeconds?: number;
}

export interface LocalStack {
  apiUrl: string;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  database: string;
  stop(): Promise<void>;
}

/**
 * Starts everything in this process. Configuration comes from the environment like in Lambda;
 * the stack fills in the queue settings and the embedded database before any handler loads.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { startFauxqs } = await import('fauxqs');
  const { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } = await import(
    '@aws-sdk/client-sqs'
  );
  const sqsServer = await startFauxqs({
    port: options.sqsPort ?? 0,
    host: '127.0.0.1',
    logger: false,
  });
  const sqsEndpoint = `http://127.0.0.1:${sqsServer.port}`;
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'ingest-dlq' }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const maxReceiveCount = process.env.INGEST_MAX_RECEIVE_COUNT ?? '3';
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'ingest',
      Attributes: {
        VisibilityTimeout: '720',
        MaximumMessageSize: '1048576',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes!.QueueArn,
          maxReceiveCount: Number(maxReceiveCount),
        }),
      },
    }),
  );

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
  env.INGEST_QUEUE_URL = queue.QueueUrl!;
  env.SQS_ENDPOINT = sqsEndpoint;
  env.AWS_REGION ??= 'us-east-1';
  env.INGEST_MAX_RECEIVE_COUNT = maxReceiveCount;

  // Handlers read the environment once, on first use: load them only now.
  const [{ handler: ingest }, { handler: query }, { handler: documents }, { handler: health }] =
    await Promise.all([
      import('../../functions/ingest.ts'),
      import('../../functions/query.ts'),
      import('../../functions/documents.ts'),
      import('../../functions/health.ts'),
    ]);
  const { getConfig } = await import('../config.ts');
  const { LocalSqsPoller } = await import('../queue/poller.ts');
  const { startLocalApi } = await import('./http-server.ts');
  const { closeDatabase } = await import('../db/container.ts');
  const { createLogger } = await import('../logger.ts');
  const config = getConfig(); // Fails here, clearly, when the configuration is wrong.
  const log = createLogger(config.logLevel);

  const poller = new LocalSqsPoller({
    sqs,
    queueUrl: queue.QueueUrl!,
    handler: ingest,
    failedVisibilitySeconds: options.retryDelaySeconds ?? 5,
  });
  poller.start((err) =>
    log.warn('local poller failed to receive', { error: (err as Error).message }),
  );
  const api = await startLocalApi(
    {
      query: query as ApiHandler,
      documents: documents as ApiHandler,
      health: health as ApiHandler,
    },
    { port: options.port ?? 0 },
  );
  return {
    apiUrl: api.url,
    sqsEndpoint,
    queueUrl: queue.QueueUrl!,
    dlqUrl: dlq.QueueUrl!,
    database: external
      ? 'DATABASE_URL'
      : env.PGLITE_DATA_DIR
        ? `PGlite in ${env.PGLITE_DATA_DIR}`
        : 'PGlite in memory',
    async stop() {
      await api.close();
      await poller.stop();
      sqs.destroy();
      await sqsServer.stop();
      await closeDatabase();
    },
  };
}
