// The Bedrock models the functions call and the IAM grants for exactly those models, resolved by
// serverless.yml (`${file(infra/bedrock-access.cjs):…}`) from the deploy environment
// (LLM_PROVIDER, LLM_MODEL, EMBEDDING_PROVIDER, EMBEDDING_MODEL) and the stage's region.
// CommonJS because osls loads variable files with require().
'use strict';

/**
 * The default chat model: Claude Haiku 4.5 (Active on Bedrock since Oct 2025; chosen Dec 2026 when
 * Claude 3.5 Haiku reached end of life). Bedrock serves it only through cross-region inference
 * profiles, so the default is the profile of the deploy region's geography. Revisit when Bedrock's
 * model lifecycle page marks it Legacy (AWS announces end of life at least six months ahead).
 */
const DEFAULT_LLM_BASE = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';

/**
 * Cross-region inference profile prefixes and the regions (as IAM ARN patterns) their requests
 * may be routed to: the foundation model must be granted in each.
 */
const PROFILE_DESTINATIONS = {
  us: 'us-*',
  'us-gov': 'us-gov-*',
  eu: 'eu-*',
  apac: 'ap-*',
  jp: 'ap-northeast-*',
  au: 'ap-southeast-*',
  ca: 'ca-*',
  // Global profiles route to every commercial region; their model ARN has an empty region.
  global: '*',
};

/** The inference profile prefix for a deploy region's geography. */
function geographyOf(region) {
  if (region.startsWith('us-gov-')) return 'us-gov';
  if (region.startsWith('us-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return 'global';
}

/** `eu.anthropic.…` → { prefix: 'eu', base: 'anthropic.…' }; a foundation model has no prefix. */
function splitProfile(modelId) {
  const dot = modelId.indexOf('.');
  const prefix = dot > 0 ? modelId.slice(0, dot) : '';
  return prefix in PROFILE_DESTINATIONS
    ? { prefix, base: modelId.slice(dot + 1) }
    : { prefix: undefined, base: modelId };
}

/** The ARNs InvokeModel must be allowed on to call `modelId` from the stack's region. */
function modelArns(modelId) {
  const { prefix, base } = splitProfile(modelId);
  if (!prefix) {
    return [{ 'Fn::Sub': `arn:\${AWS::Partition}:bedrock:\${AWS::Region}::foundation-model/${base}` }];
  }
  return [
    {
      'Fn::Sub': `arn:\${AWS::Partition}:bedrock:\${AWS::Region}:\${AWS::AccountId}:inference-profile/${modelId}`,
    },
    {
      'Fn::Sub': `arn:\${AWS::Partition}:bedrock:${PROFILE_DESTINATIONS[prefix]}::foundation-model/${base}`,
    },
  ];
}

function settings(region, env) {
  const llmProvider = env.LLM_PROVIDER || 'bedrock';
  const embeddingProvider = env.EMBEDDING_PROVIDER || 'bedrock';
  const llmModel = env.LLM_MODEL || `${geographyOf(region)}.${DEFAULT_LLM_BASE}`;
  const embeddingModel = env.EMBEDDING_MODEL || DEFAULT_EMBEDDING_MODEL;
  const llm = llmProvider === 'bedrock' ? modelArns(llmModel) : [];
  const embedding = embeddingProvider === 'bedrock' ? modelArns(embeddingModel) : [];
  /** One inline policy; a function that calls no Bedrock model gets an explicit deny instead. */
  const policy = (name, statements) => ({
    PolicyName: name,
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: statements.length
        ? statements
        : [{ Effect: 'Deny', Action: 'bedrock:InvokeModel*', Resource: '*' }],
    },
  });
  const invoke = (resources) =>
    resources.length ? [{ Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: resources }] : [];
  return {
    llmModel,
    embeddingModel,
    policies: {
      // Ingest and extract: embeddings and extraction/summary answers (Converse is authorised as
      // InvokeModel).
      ingest: policy('bedrock-models', invoke([...embedding, ...llm])),
      // Query: query embeddings, answers, and streamed answers (ConverseStream is authorised as
      // InvokeModelWithResponseStream).
      query: policy('bedrock-models', [
        ...invoke([...embedding, ...llm]),
        ...(llm.length
          ? [{ Effect: 'Allow', Action: 'bedrock:InvokeModelWithResponseStream', Resource: llm }]
          : []),
      ]),
      // Documents: a deletion re-embeds and re-summarises what the document shared with others.
      documents: policy('bedrock-models', invoke([...embedding, ...llm])),
    },
  };
}

module.exports = async ({ options } = {}) =>
  settings((options && options.region) || 'eu-west-1', process.env);
module.exports.settings = settings;
module.exports.PROFILE_DESTINATIONS = PROFILE_DESTINATIONS;
