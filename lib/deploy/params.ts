/**
 * The deploy parameters (`--param="name=value"`, serverless.yml `params`) checked before osls
 * sees them: osls's own errors name a CloudFormation property, not the parameter (a JWT
 * authorizer without an issuer fails as "issuerUrl: unsupported string format"). Every problem is
 * reported at once, and unknown names (typos) are problems too.
 *
 * @example
 * ```ts
 * const { params, problems } = checkDeployParams(['--param=auth=jwt']);
 * // problems: ['jwtIssuer: auth=jwt needs the issuer URL of your identity provider, …']
 * ```
 */

/** The parameters serverless.yml declares, with their defaults (mirrors its `params.default`). */
export const DEPLOY_PARAMS: Record<string, string> = {
  auth: 'iam',
  jwtIssuer: '',
  jwtAudience: '',
  corsMode: 'none',
  corsOrigins: 'https://app.example.com',
  databaseSecret: 'lightrag-serverless/{stage}/database-url',
  authSecret: 'lightrag-serverless/{stage}/auth',
  webui: 'none',
  connectionBudget: '93',
  ingestConcurrency: '16',
  apiConcurrency: '10',
  reserveConcurrency: 'false',
  uploadRetentionDays: '30',
  alarmEmail: '',
};

/** Splits `--param=k=v` and `--param k=v` out of argv; the other arguments pass through. */
export function splitParams(argv: readonly string[]): { params: string[]; rest: string[] } {
  const params: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--param=')) params.push(arg.slice('--param='.length));
    else if (arg === '--param' && i + 1 < argv.length) params.push(argv[++i]!);
    else rest.push(arg);
  }
  return { params, rest };
}

const integer = (value: string, min: number, max: number) =>
  /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max;

/**
 * The stage names the stack, its functions and its bucket
 * (`lightrag-serverless-{stage}-uploads-{account}`): S3 wants lower case, and the bucket name
 * at most 63 characters.
 */
export function checkStage(stage: string): string[] {
  return /^[a-z0-9][a-z0-9-]{0,21}$/.test(stage)
    ? []
    : [
        `stage: "${stage}" must be 1-22 lower-case letters, digits or hyphens (it names the uploads bucket, which S3 wants lower case and at most 63 characters).`,
      ];
}

export function checkDeployParams(argv: readonly string[]): {
  params: Record<string, string>;
  problems: string[];
} {
  const problems: string[] = [];
  const given: Record<string, string> = {};
  for (const pair of splitParams(argv).params) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : pair;
    if (!(name in DEPLOY_PARAMS)) {
      problems.push(
        `${name}: not a parameter of this service (known: ${Object.keys(DEPLOY_PARAMS).join(', ')}).`,
      );
      continue;
    }
    if (eq <= 0) {
      problems.push(`${name}: give a value, --param="${name}=…".`);
      continue;
    }
    given[name] = pair.slice(eq + 1);
  }
  const p = { ...DEPLOY_PARAMS, ...given };
  const httpsUrl = (v: string) => {
    try {
      return new URL(v).protocol === 'https:';
    } catch {
      return false;
    }
  };
  if (!['iam', 'jwt', 'lightrag'].includes(p.auth!))
    problems.push(`auth: "${p.auth}" is not iam, jwt or lightrag.`);
  if (p.auth === 'jwt') {
    if (!p.jwtIssuer)
      problems.push(
        'jwtIssuer: auth=jwt needs the issuer URL of your identity provider, --param="jwtIssuer=https://…" (the `iss` of its tokens).',
      );
    else if (!httpsUrl(p.jwtIssuer))
      problems.push(
        `jwtIssuer: "${p.jwtIssuer}" is not an https:// URL (API Gateway requires one).`,
      );
    if (!p.jwtAudience)
      problems.push(
        'jwtAudience: auth=jwt needs the audience your tokens carry, --param="jwtAudience=…" (their `aud` or client id).',
      );
  }
  if (!['none', 'cloudfront'].includes(p.webui!))
    problems.push(`webui: "${p.webui}" is not none or cloudfront.`);
  else if (p.webui === 'cloudfront' && p.auth !== 'lightrag')
    problems.push(
      'webui: cloudfront needs --param="auth=lightrag": a browser signs no SigV4 and the WebUI sends only LightRAG\'s own tokens.',
    );
  if (!['none', 'origins'].includes(p.corsMode!))
    problems.push(`corsMode: "${p.corsMode}" is not none or origins.`);
  if (p.corsMode === 'origins' && !p.corsOrigins!.split(',').every(httpsUrl))
    problems.push(`corsOrigins: "${p.corsOrigins}" must be https:// origins, comma-separated.`);
  for (const name of ['databaseSecret', 'authSecret']) {
    const value = p[name]!;
    if (value.startsWith('arn:') || !/^[\w/+=.@{}-]{1,512}$/.test(value))
      problems.push(
        `${name}: "${value}" must be the secret's name (letters, digits, /_+=.@-), not its ARN: the functions' role is granted that name.`,
      );
  }
  if (!integer(p.connectionBudget!, 1, 10_000))
    problems.push(
      `connectionBudget: "${p.connectionBudget}" is not a whole number of connections (1-10000).`,
    );
  // An SQS event source's maximumConcurrency is 2 to 1000.
  if (!integer(p.ingestConcurrency!, 2, 1000))
    problems.push(
      `ingestConcurrency: "${p.ingestConcurrency}" must be 2-1000 (SQS event source maximum concurrency).`,
    );
  if (!integer(p.apiConcurrency!, 1, 1000))
    problems.push(`apiConcurrency: "${p.apiConcurrency}" must be 1-1000.`);
  if (!['true', 'false'].includes(p.reserveConcurrency!))
    problems.push(`reserveConcurrency: "${p.reserveConcurrency}" is not true or false.`);
  if (!integer(p.uploadRetentionDays!, 1, 3650))
    problems.push(`uploadRetentionDays: "${p.uploadRetentionDays}" must be 1-3650 days.`);
  if (p.alarmEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p.alarmEmail))
    problems.push(`alarmEmail: "${p.alarmEmail}" is not an email address.`);
  return { params: given, problems };
}
