/**
 * Runs the packaged functions the way Lambda runs them, for the packaging test and the cold-start
 * benchmark: `osls package` offline, then each function's zip unpacked alone into a fresh folder
 * (its /var/task), with nothing mounted at /opt but the layers the packaged CloudFormation
 * template attaches to that function, and the runtime's AWS SDK as the only other package.
 * /opt is replaced in a private mount namespace (`unshare --mount`, root only), so the code's real
 * `/opt/nodejs/node_modules/...` paths are exercised, and the machine's /opt is untouched.
 *
 * @example
 * ```ts
 * const pkg = await packageService('/tmp/pkg');
 * const query = await startContainer(pkg.functions.query!, { env });
 * const { result } = await query.invoke(apiGatewayEvent);
 * await query.close();
 * ```
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = fileURLToPath(new URL('./container-runner.ts', import.meta.url));
/** The layers stack (infra/layers) exports `lightrag-serverless-{stage}-{layer}-layer`. */
const LAYER_EXPORT = /^lightrag-serverless-[\w-]+?-(\w+)-layer$/;

/** The template's resources of one CloudFormation type, as `[logicalId, resource]` pairs. */
export function resourcesOfType(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  Outputs?: Record<string, any>;
  Conditions?: Record<string, unknown>;
};

/** One function as the packaged template deploys it. */
export interface DeployedFunction {
  name: string;
  /** `functions/query.handler` */
  handler: string;
  zip: string;
  /** Folders whose contents Lambda would mount at /opt (the layers' zip contents). */
  layerDirs: string[];
  timeoutSeconds: number;
  memoryMb: number;
}

export interface PackagedService {
  outDir: string;
  template: Template;
  functions: Record<string, DeployedFunction>;
}

/**
 * Builds the layers and packages serverless.yml offline into `outDir` (no AWS credentials).
 * `params` are osls `--param=k=v` flags.
 */
export async function packageService(
  outDir: string,
  options: { stage?: string; params?: string[] } = {},
): Promise<PackagedService> {
  const stage = options.stage ?? 'ci';
  await run('bash', [join(ROOT, 'scripts/build-layers.sh')], { cwd: ROOT });
  await run(
    join(ROOT, 'node_modules/.bin/osls'),
    [
      'package',
      '--region',
      'eu-west-1',
      '--stage',
      stage,
      '--package',
      outDir,
      ...(options.params ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}`,
        HOME: process.env.HOME ?? '/root',
      },
      timeout: 180_000,
    },
  );
  const template = JSON.parse(
    readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { outDir, template, functions: deployedFunctions(template, outDir) };
}

/** Every Lambda function of a packaged template, keyed by its serverless.yml name. */
export function deployedFunctions(
  template: Template,
  outDir: string,
): Record<string, DeployedFunction> {
  const layersStack = readFileSync(join(ROOT, 'infra/layers/serverless.yml'), 'utf8');
  const out: Record<string, DeployedFunction> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const p = resource.Properties;
    const name = id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
    const layerDirs = ((p.Layers ?? []) as unknown[]).map((layer) => {
      const exported = (layer as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
      const match = typeof exported === 'string' ? LAYER_EXPORT.exec(exported) : null;
      if (!match) throw new Error(`${name}: unrecognised layer reference ${JSON.stringify(layer)}`);
      // The layers stack zips .build/layers/{name}; check it really declares that folder.
      if (!layersStack.includes(`path: ../../.build/layers/${match[1]}`))
        throw new Error(`infra/layers/serverless.yml declares no layer ${match[1]}`);
      return join(ROOT, '.build/layers', match[1]!);
    });
    out[name] = {
      name,
      handler: p.Handler,
      zip: join(outDir, basename(p.Code.S3Key)),
      layerDirs,
      timeoutSeconds: p.Timeout,
      memoryMb: p.MemorySize,
    };
  }
  return out;
}

export interface InvocationResult {
  ok: boolean;
  result?: any;
  error?: { name?: string; message: string; code?: string; stack?: string };
  /** Handler time. */
  ms: number;
  /** Resident set size of the container after the invocation, bytes. */
  rss: number;
  /**
   * A response-streaming handler's output as Lambda receives it, piece by piece with the time
   * each was written (ms after the invocation began); the prelude is still in the bytes.
   */
  streamed?: Array<{ data: Buffer; ms: number }>;
}

/** One AWS SDK command a function sent or presigned, and the resource its input named. */
export interface AwsCall {
  function: string;
  /** `SQSClient` */
  client: string;
  /** `SendMessageBatchCommand` */
  command: string;
  /** QueueUrl, Bucket, Key, modelId or SecretId, as the input gave them. */
  resource: Record<string, string>;
}

/** One running container of a function: invocations are served in order, warm after the first. */
export interface Container {
  /** Module initialisation: time to import the handler, and RSS after it. */
  init: { ms: number; rss: number };
  invoke(event: unknown, remainingMs?: number): Promise<InvocationResult>;
  /** What the function wrote to stdout and stderr so far (its logs). */
  logs(): string;
  /** The AWS SDK commands it sent or presigned so far (with `recordAwsCalls`). */
  awsCalls(): AwsCall[];
  close(): Promise<void>;
}

/**
 * Starts a container of `fn`: a new Node process in the unpacked zip with only its layers at
 * /opt. `env` is the function's environment (the template's values are CloudFormation references,
 * so the caller supplies real ones).
 */
export async function startContainer(
  fn: DeployedFunction,
  options: { env: Record<string, string>; recordAwsCalls?: boolean },
): Promise<Container> {
  const root = mkdtempSync(join(tmpdir(), `lrs-lambda-${fn.name}-`));
  const task = join(root, 'var/task');
  const opt = join(root, 'opt');
  mkdirSync(task, { recursive: true });
  mkdirSync(opt);
  await run('unzip', ['-q', fn.zip, '-d', task]);
  // Lambda extracts every layer into /opt, later layers over earlier ones.
  for (const dir of fn.layerDirs) {
    if (!existsSync(dir))
      throw new Error(`layer folder ${dir} is missing: run scripts/build-layers.sh`);
    await run('cp', ['-R', `${dir}/.`, opt]);
  }
  // The runtime's AWS SDK v3, the one package the bundles leave to Lambda.
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules/@aws-sdk'), join(root, 'node_modules/@aws-sdk'));

  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$1" /opt && shift && exec "$@"',
      'sh',
      opt,
      process.execPath,
      RUNNER,
      fn.handler,
    ],
    {
      cwd: task,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        ...options.env,
        ...(options.recordAwsCalls ? { AWS_CALLS_RECORDED: '1' } : {}),
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        LAMBDA_TASK_ROOT: task,
      },
    },
  );
  let logs = '';
  child.stdout!.on('data', (d) => (logs += d));
  child.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const lines = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream })[
    Symbol.asyncIterator
  ]();
  const awsCalls: AwsCall[] = [];
  const nextMessage = async (): Promise<any> => {
    for (;;) {
      const line = await Promise.race([lines.next(), exited.then(() => ({ done: true }) as const)]);
      if (line.done) {
        throw new Error(
          `The ${fn.name} container exited (is \`unshare --mount\` allowed? it needs root).\n${logs}`,
        );
      }
      const message = JSON.parse(line.value as string);
      if (message.type !== 'aws-call') return message;
      awsCalls.push({
        function: fn.name,
        client: message.client,
        command: message.command,
        resource: message.resource,
      });
    }
  };
  const init = await nextMessage();
  if (init.error) {
    child.kill();
    throw new Error(`${fn.name} failed to initialise: ${init.error.message}\n${logs}`);
  }
  let queue = Promise.resolve();
  return {
    init: { ms: init.ms, rss: init.rss },
    invoke(event, remainingMs = fn.timeoutSeconds * 1000) {
      const done = queue.then(async () => {
        child.stdin!.write(`${JSON.stringify({ event, remainingMs })}\n`);
        const streamed: Array<{ data: Buffer; ms: number }> = [];
        for (;;) {
          const { type, ...message } = await nextMessage();
          if (type === 'chunk') {
            streamed.push({ data: Buffer.from(message.data, 'base64'), ms: message.ms });
            continue;
          }
          return { ...(message as InvocationResult), ...(message.streamed ? { streamed } : {}) };
        }
      });
      queue = done.then(
        () => undefined,
        () => undefined,
      );
      return done;
    },
    logs: () => logs,
    awsCalls: () => [...awsCalls],
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** An SQS record as the event source mapping delivers it (first receive). */
export function sqsRecord(messageId: string, body: string) {
  return {
    messageId,
    receiptHandle: `r-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q',
    awsRegion: 'eu-west-1',
  };
}
