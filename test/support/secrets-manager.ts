/**
 * AWS Secrets Manager's GetSecretValue on loopback (the awsJson1_1 protocol the SDK speaks), for
 * the functions that fetch the database URL at cold start. Secrets can be changed (rotation) or
 * removed while it runs; every request is recorded.
 */
import { createServer, type Server } from 'node:http';

export interface FakeSecretsManager {
  /** `AWS_ENDPOINT_URL_SECRETS_MANAGER` for the SDK. */
  endpoint: string;
  secrets: Map<string, string>;
  /** SecretId of every GetSecretValue, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeSecretsManager(
  secrets: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const state = { secrets: new Map(Object.entries(secrets)), requests: [] as string[] };
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const target = String(req.headers['x-amz-target'] ?? '');
    const reply = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    if (target !== 'secretsmanager.GetSecretValue') {
      reply(
        400,
        { __type: 'UnknownOperationException', message: target },
        'UnknownOperationException',
      );
      return;
    }
    const { SecretId } = JSON.parse(raw || '{}') as { SecretId?: string };
    state.requests.push(String(SecretId));
    const value = state.secrets.get(String(SecretId));
    if (value === undefined) {
      reply(
        400,
        {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        },
        'ResourceNotFoundException',
      );
      return;
    }
    reply(200, {
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SecretId}-AbCdEf`,
      Name: SecretId,
      SecretString: value,
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
