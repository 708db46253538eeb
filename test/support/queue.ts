/**
 * A real SQS-protocol emulator (fauxqs) on loopback with an ingest queue and its dead-letter
 * queue (redrive after `maxReceiveCount` receives), reached through `@aws-sdk/client-sqs`.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startLoopbackFauxqs } from '../../lib/local/loopback.ts';

export interface TestQueues {
  endpoint: string;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** Messages visible + in flight. */
  depth(url: string): Promise<number>;
  /** Receives everything on the DLQ (without deleting) and returns the bodies. */
  dlqBodies(): Promise<string[]>;
  purge(): Promise<void>;
  stop(): Promise<void>;
}

/** Messages on a queue, visible and in flight (what "drained" waits for). */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

export async function startTestQueues(
  options: { maxReceiveCount?: number; name?: string } = {},
): Promise<TestQueues> {
  const server = await startLoopbackFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const name = options.name ?? 'ingest';
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '30',
        MaximumMessageSize: '1048576',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 3,
        }),
      },
    }),
  );
  const depth = (url: string) => queueDepth(sqs, url);
  return {
    endpoint,
    sqs,
    queueUrl: queue.QueueUrl!,
    dlqUrl: dlq.QueueUrl!,
    depth,
    async dlqBodies() {
      const bodies: string[] = [];
      for (;;) {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq.QueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 30,
            WaitTimeSeconds: 0,
          }),
        );
        if (!Messages?.length) return bodies;
        bodies.push(...Messages.map((m) => m.Body ?? ''));
      }
    },
    async purge() {
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queue.QueueUrl }));
      await sqs.send(new PurgeQueueCommand({ QueueUrl: dlq.QueueUrl }));
    },
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}
