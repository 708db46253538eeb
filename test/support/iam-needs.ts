/**
 * What each function needs from IAM, derived from what its code does, against what the packaged
 * template grants. Needs come from the AWS SDK commands each zip sent or presigned in the
 * packaging test (lib/deploy/lambda-sandbox.ts records them) mapped to IAM actions by the table
 * below, plus what Lambda itself does with the role (SQS event sources, log delivery). Grants are
 * the role's inline policies with the template's references resolved for one example account.
 */
import type { AwsCall, Template } from '../../lib/deploy/lambda-sandbox.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
const PSEUDO: Record<string, string> = {
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::StackName': 'lightrag-serverless-ci',
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * SDK command → the IAM action that authorises it (Service Authorization Reference). Batch SQS
 * calls are authorised as their single forms; Converse as InvokeModel and ConverseStream as
 * InvokeModelWithResponseStream; a presigned PutObject is authorised against the signer's role.
 */
export const COMMAND_ACTIONS: Record<string, string> = {
  'SQSClient:SendMessageCommand': 'sqs:SendMessage',
  'SQSClient:SendMessageBatchCommand': 'sqs:SendMessage',
  'S3Client:GetObjectCommand': 's3:GetObject',
  'S3Client:PutObjectCommand': 's3:PutObject',
  'BedrockRuntimeClient:InvokeModelCommand': 'bedrock:InvokeModel',
  'BedrockRuntimeClient:ConverseCommand': 'bedrock:InvokeModel',
  'BedrockRuntimeClient:ConverseStreamCommand': 'bedrock:InvokeModelWithResponseStream',
  'SecretsManagerClient:GetSecretValueCommand': 'secretsmanager:GetSecretValue',
};

/**
 * Regions a cross-region inference profile may route to (Bedrock's "Supported cross-Region
 * inference profiles"): the foundation model must be allowed in every one. The test's own list,
 * independent of the ARN patterns infra/bedrock-access.cjs writes.
 */
export const PROFILE_REGIONS: Record<string, string[]> = {
  eu: [
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-3',
  ],
  us: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
  global: ['', 'us-east-1', 'eu-west-1', 'ap-northeast-1', 'sa-east-1'],
};

export interface Need {
  function: string;
  action: string;
  resource: string;
  /** What in the code or the template needs it. */
  why: string;
}

type Value = unknown;

/** Resolves Ref, GetAtt, Sub, Join and ImportValue as CloudFormation would for {@link ACCOUNT}. */
export function resolver(template: Template) {
  const resources = template.Resources;
  const props = (id: string) => resources[id]?.Properties ?? {};
  const name = (id: string, key: string): string => {
    const given = props(id)[key];
    return given === undefined ? id : String(resolve(given));
  };
  const ref = (id: string): string => {
    if (id in PSEUDO) return PSEUDO[id]!;
    const r = resources[id];
    if (!r) throw new Error(`Ref to ${id}, which the template does not declare`);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name(id, 'QueueName')}`;
      case 'AWS::S3::Bucket':
        return name(id, 'BucketName');
      case 'AWS::Lambda::Function':
        return name(id, 'FunctionName');
      default:
        return `${id}-physical-id`;
    }
  };
  const getAtt = (id: string, attribute: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`GetAtt on ${id}, which the template does not declare`);
    if (attribute !== 'Arn') return `${id}.${attribute}`;
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name(id, 'QueueName')}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name(id, 'BucketName')}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name(id, 'LogGroupName')}:*`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name(id, 'FunctionName')}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      default:
        return `arn:aws:${r.Type}:${REGION}:${ACCOUNT}:${id}`;
    }
  };
  function resolve(value: Value): Value {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, any>;
    if ('Ref' in o) return ref(o.Ref);
    if ('Fn::GetAtt' in o) {
      const [id, attribute] = Array.isArray(o['Fn::GetAtt'])
        ? o['Fn::GetAtt']
        : String(o['Fn::GetAtt']).split('.');
      return getAtt(id, attribute);
    }
    if ('Fn::Sub' in o) {
      const [text, vars] = Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'] : [o['Fn::Sub'], {}];
      return String(text).replace(/\$\{([^}!]+)\}/g, (_, key: string) => {
        if (vars && key in vars) return String(resolve(vars[key]));
        const [id, attribute] = key.split('.');
        return attribute ? getAtt(id!, attribute) : ref(id!);
      });
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'];
      return (resolve(parts) as unknown[]).join(sep);
    }
    if ('Fn::ImportValue' in o) return `imported:${resolve(o['Fn::ImportValue'])}`;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  }
  return resolve;
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

export interface Statement {
  role: string;
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

/** Every statement of a role's inline and managed policies, resolved. */
export function roleStatements(template: Template, role: string): Statement[] {
  const resolve = resolver(template);
  const p = template.Resources[role]?.Properties;
  if (!p) throw new Error(`no role ${role}`);
  if (p.ManagedPolicyArns?.length)
    throw new Error(`${role} attaches managed policies; grants must be inline and derived`);
  return (p.Policies ?? []).flatMap((policy: any) =>
    [policy.PolicyDocument.Statement].flat().map((s: any) => ({
      role,
      effect: s.Effect,
      actions: [s.Action].flat(),
      resources: ([resolve(s.Resource)].flat() as string[]).map(String),
    })),
  );
}

/** Whether the statements allow `action` on `resource` (an explicit deny wins). */
export function allows(statements: Statement[], action: string, resource: string): boolean {
  const matches = (s: Statement) =>
    s.actions.some((a) => wildcard(a, action, true)) &&
    s.resources.some((r) => wildcard(r, resource));
  return (
    statements.some((s) => s.effect === 'Allow' && matches(s)) &&
    !statements.some((s) => s.effect === 'Deny' && matches(s))
  );
}

/** Each function's role, by the function's serverless.yml name. */
export function functionRoles(template: Template): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
    out[name] = r.Properties.Role['Fn::GetAtt'][0];
  }
  return out;
}

/** The resources a Bedrock model id is invoked through: a profile and its foundation models. */
function modelResources(modelId: string): string[] {
  const dot = modelId.indexOf('.');
  const prefix = modelId.slice(0, dot);
  if (!(prefix in PROFILE_REGIONS))
    return [`arn:aws:bedrock:${REGION}::foundation-model/${modelId}`];
  const base = modelId.slice(dot + 1);
  return [
    `arn:aws:bedrock:${REGION}:${ACCOUNT}:inference-profile/${modelId}`,
    ...PROFILE_REGIONS[prefix]!.map(
      (region) => `arn:aws:bedrock:${region}::foundation-model/${base}`,
    ),
  ];
}

/**
 * What the recorded calls need. `bindings` names the template resource behind each value the
 * test gave the functions (a local queue URL → `IngestQueue`, the test bucket → `UploadBucket`).
 */
export function needsFromCalls(
  template: Template,
  calls: AwsCall[],
  bindings: { queues: Record<string, string>; buckets: Record<string, string> },
): Need[] {
  const resolve = resolver(template);
  const arnOf = (id: string) => resolve({ 'Fn::GetAtt': [id, 'Arn'] }) as string;
  return calls.flatMap((call) => {
    const key = `${call.client}:${call.command}`;
    const action = COMMAND_ACTIONS[key];
    if (!action)
      throw new Error(`${call.function} calls ${key}: add its IAM action to COMMAND_ACTIONS`);
    const why = `${call.function}: ${call.command}`;
    const r = call.resource;
    let resources: string[];
    if (r.QueueUrl) {
      const queue = bindings.queues[r.QueueUrl];
      if (!queue) throw new Error(`${why} to ${r.QueueUrl}, a queue the test did not bind`);
      resources = [arnOf(queue)];
    } else if (r.Bucket) {
      const bucket = bindings.buckets[r.Bucket];
      if (!bucket) throw new Error(`${why} on bucket ${r.Bucket}, which the test did not bind`);
      resources = [`${arnOf(bucket)}/${r.Key}`];
    } else if (r.modelId) {
      resources = modelResources(r.modelId);
    } else if (r.SecretId) {
      resources = [`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${r.SecretId}-AbCdEf`];
    } else {
      throw new Error(`${why}: no resource recorded`);
    }
    return resources.map((resource) => ({ function: call.function, action, resource, why }));
  });
}

/** What Lambda does with each function's role: log delivery, and polling its SQS event sources. */
export function needsFromTemplate(template: Template): Need[] {
  const resolve = resolver(template);
  const needs: Need[] = [];
  const nameOf = (logicalId: string) =>
    logicalId.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') {
      const stream = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${resolve(r.Properties.FunctionName)}:log-stream:2026/12/03/[$LATEST]abc`;
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents'])
        needs.push({ function: nameOf(id), action, resource: stream, why: 'Lambda log delivery' });
    }
    if (r.Type === 'AWS::Lambda::EventSourceMapping') {
      const fn = nameOf(r.Properties.FunctionName['Fn::GetAtt'][0]);
      const queue = String(resolve(r.Properties.EventSourceArn));
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'])
        needs.push({ function: fn, action, resource: queue, why: `event source ${id}` });
    }
  }
  return needs;
}

export interface IamReport {
  /** Needs no statement of the function's role allows. */
  missing: Need[];
  /** Allowed (action, resource pattern) pairs no need of the role's functions uses. */
  unused: Array<{ role: string; action: string; resource: string }>;
}

export function compareGrants(template: Template, needs: Need[]): IamReport {
  const roles = functionRoles(template);
  const missing = needs.filter((n) => {
    const role = roles[n.function];
    if (!role) throw new Error(`no function ${n.function} in the template`);
    return !allows(roleStatements(template, role), n.action, n.resource);
  });
  const unused: IamReport['unused'] = [];
  for (const role of new Set(Object.values(roles))) {
    const functions = Object.keys(roles).filter((f) => roles[f] === role);
    const roleNeeds = needs.filter((n) => functions.includes(n.function));
    for (const s of roleStatements(template, role)) {
      if (s.effect !== 'Allow') continue;
      for (const action of s.actions)
        for (const resource of s.resources)
          if (
            !roleNeeds.some(
              (n) => wildcard(action, n.action, true) && wildcard(resource, n.resource),
            )
          )
            unused.push({ role, action, resource });
    }
  }
  return { missing, unused };
}

/** The template with one action taken out of one statement of a role (the mutation check). */
export function withoutAction(template: Template, role: string, action: string): Template {
  const copy = structuredClone(template);
  for (const policy of copy.Resources[role]!.Properties.Policies) {
    for (const s of [policy.PolicyDocument.Statement].flat() as any[]) {
      const actions = [s.Action].flat().filter((a: string) => a !== action);
      s.Action = actions.length ? actions : 'none:NoAction';
    }
  }
  return copy;
}
