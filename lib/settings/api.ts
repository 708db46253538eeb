/**
 * LLM, query and HTTP API settings (part of the configuration read by `loadConfig`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvReader } from '../env.ts';
import type { LlmIdentity } from '../llm/types.ts';
import { isValidWorkspace } from '../workspace.ts';
import { type LoginConfig, readLogin } from './login.ts';
import { providerUrl } from './provider-url.ts';
import { readWorkspaceMap } from './workspace-map.ts';

/** `LLM_PROVIDER` values: an OpenAI-compatible endpoint, Bedrock's Converse API, or none (context only). */
export const LLM_PROVIDERS = ['openai', 'bedrock', 'none'] as const;
/** One of {@link LLM_PROVIDERS}. */
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

/** The chat model (`LLM_*`): provider, model, endpoint, limits, and its identity in LightRAG's cache keys. */
export interface LlmConfig {
  provider: LlmProvider;
  model?: string;
  /** OpenAI-compatible base URL, up to and including `/v1`. */
  baseUrl: string;
  /** Secret: never log it. */
  apiKey?: string;
  /** Azure OpenAI `api-version`; when set, the key is sent as `api-key`. */
  apiVersion?: string;
  temperature: number;
  maxTokens?: number;
  timeoutMs: number;
  maxRetries: number;
  bedrockRegion?: string;
  bedrockEndpoint?: string;
  /** Cache answers in LIGHTRAG_LLM_CACHE (a request may still opt out). */
  enableCache: boolean;
  /**
   * The LLM as LightRAG's cache keys name it (`LLM_BINDING`, `LLM_BINDING_HOST`, `LLM_MODEL`):
   * equal to a LightRAG server's, cached replies are shared both ways.
   */
  cacheIdentity: LlmIdentity;
}

/** Retrieval defaults and the limits a query request may ask within (`TOP_K`, `MAX_TOTAL_TOKENS`, history). */
export interface QueryConfig {
  /** Chunks retrieved when a request does not say (LightRAG's `top_k`). */
  topK: number;
  /** Largest `top_k` a request may ask for. */
  maxTopK: number;
  /** Token budget for the retrieved context sent to the LLM. */
  maxContextTokens: number;
  /** The largest token budget a request may ask for (`max_total_tokens` and the section budgets). */
  maxRequestTokens: number;
  /** Conversation turns (a user message and its answer) kept from a request's history. */
  historyTurns: number;
  /** Tokens of history kept at most (the oldest messages go first). */
  maxHistoryTokens: number;
}

/** The HTTP API: body size, CORS, which workspaces callers may use, and how a caller's workspaces are known. */
export interface ApiConfig {
  /** Largest request body accepted, in bytes (API Gateway's payload limit is 10 MB, Lambda's 6 MB). */
  maxBodyBytes: number;
  /** Origins allowed by CORS; empty disables CORS headers, `*` allows any. */
  corsAllowOrigins: string[];
  /** Workspaces callers may use; `*` allows any valid name. */
  allowedWorkspaces: string[];
  /** Header that names the workspace of a request. */
  workspaceHeader: string;
  /** Whether `GET /health` shows schema, pool, LLM and configuration (`HEALTH_DETAILS`). */
  healthDetails: boolean;
  /** The JWT claim listing the caller's workspaces (`WORKSPACE_CLAIM`). */
  workspaceClaim?: string;
  /** IAM principal → workspaces (`WORKSPACE_IAM_MAP`, JSON). */
  iamWorkspaces?: Record<string, string[]>;
  /**
   * Where the streaming route's function URL cannot check tokens itself (JWT deployments), the
   * function verifies them: the issuer (`JWT_ISSUER`, OIDC discovery) and audience (`JWT_AUDIENCE`).
   */
  jwt?: { issuer: string; audience: string };
  /** LightRAG Server's login (accounts, tokens, guest mode, API keys); undefined when off. */
  login?: LoginConfig;
  /**
   * What the WebUI shows (`WEBUI_TITLE`, `WEBUI_DESCRIPTION`), and where a LightRAG WebUI build
   * is (`WEBUI_DIR`, served by `npm start` at `/webui/`; `WEBUI_HOSTED`: on CloudFront).
   */
  webui: { title: string; description: string; dir?: string; hosted: boolean };
}

/** Reads `LLM_*` (problems are collected on `reader`, reported together by `loadConfig`). */
export function readLlm(reader: EnvReader): LlmConfig {
  const inLambda = reader.has('AWS_LAMBDA_FUNCTION_NAME');
  const provider = reader.oneOf('LLM_PROVIDER', LLM_PROVIDERS, { default: 'none' });
  const model = reader.string('LLM_MODEL', {
    pattern: /^[A-Za-z0-9._:/-]{1,200}$/,
    hint: 'use a model name such as gpt-4o-mini or eu.anthropic.claude-haiku-4-5-20251001-v1:0',
  });
  if (provider !== 'none' && !model) {
    reader.problem('LLM_MODEL', `is required with LLM_PROVIDER=${provider}.`);
  }
  const apiKey =
    reader.raw('LLM_API_KEY') ?? (provider === 'openai' ? reader.raw('OPENAI_API_KEY') : undefined);
  if (provider === 'openai' && !apiKey && inLambda) {
    reader.problem('LLM_API_KEY', 'is required with LLM_PROVIDER=openai (or set OPENAI_API_KEY).');
  }
  const baseUrl = providerUrl(
    reader,
    'LLM_BASE_URL',
    'https://api.openai.com/v1',
    'expected a URL such as https://api.openai.com/v1',
  )!;
  const apiVersion = reader.raw('LLM_API_VERSION');
  const bedrockEndpoint = providerUrl(reader, 'BEDROCK_ENDPOINT', undefined, 'expected a URL');
  return {
    provider,
    model,
    baseUrl,
    apiKey,
    apiVersion,
    temperature: reader.number('LLM_TEMPERATURE', { default: 0, min: 0, max: 2 }),
    maxTokens: reader.integer('LLM_MAX_TOKENS', { min: 1, max: 200_000 }),
    timeoutMs: reader.integer('LLM_TIMEOUT_MS', { default: 120_000, min: 100, max: 900_000 }),
    maxRetries: reader.integer('LLM_MAX_RETRIES', { default: 3, min: 0, max: 20 }),
    bedrockRegion: reader.raw('BEDROCK_REGION') ?? reader.raw('AWS_REGION'),
    bedrockEndpoint,
    enableCache: reader.boolean('ENABLE_LLM_CACHE', { default: true }),
    cacheIdentity: {
      // LightRAG's server names: openai (also any compatible endpoint), azure_openai, aws_bedrock.
      binding: nullable(
        reader.string('LLM_BINDING', {
          default: provider === 'bedrock' ? 'aws_bedrock' : apiVersion ? 'azure_openai' : 'openai',
          pattern: /^[A-Za-z0-9_.-]{1,64}$/,
          hint: 'use the LLM_BINDING of the LightRAG server that shares the database, or none',
        }),
      ),
      model: model ?? null,
      host: nullable(
        reader.string('LLM_BINDING_HOST', {
          default: provider === 'bedrock' ? (bedrockEndpoint ?? 'none') : baseUrl,
          pattern: /^\S{1,500}$/,
          hint: 'use the LLM_BINDING_HOST of the LightRAG server that shares the database, or none',
        }),
      ),
    },
  };
}

/** `none` stands for LightRAG's `None` (its library default, where no server names a binding). */
function nullable(value: string): string | null {
  return value.toLowerCase() === 'none' ? null : value;
}

/** The chat model as logs, the health check and cache rows name it: `provider:model`, or `none`. */
export function llmName(config: Pick<LlmConfig, 'provider' | 'model'>): string {
  return config.provider === 'none' ? 'none' : `${config.provider}:${config.model}`;
}

/** Reads the query defaults and limits (`TOP_K`, `MAX_TOP_K`, `MAX_TOTAL_TOKENS`, `HISTORY_TURNS`, …). */
export function readQuery(reader: EnvReader): QueryConfig {
  const maxTopK = reader.integer('MAX_TOP_K', { default: 200, min: 1, max: 1000 });
  const maxContextTokens = reader.integer('MAX_TOTAL_TOKENS', {
    default: 30_000,
    min: 100,
    max: 1_000_000,
  });
  const maxRequestTokens = reader.integer('MAX_REQUEST_TOKENS', {
    default: 120_000,
    min: 100,
    max: 1_000_000,
  });
  if (maxContextTokens > maxRequestTokens) {
    reader.problem('MAX_TOTAL_TOKENS', `must not exceed MAX_REQUEST_TOKENS (${maxRequestTokens}).`);
  }
  return {
    topK: Math.min(maxTopK, reader.integer('TOP_K', { default: 40, min: 1, max: 1000 })),
    maxTopK,
    maxContextTokens,
    maxRequestTokens,
    historyTurns: reader.integer('HISTORY_TURNS', { default: 3, min: 0, max: 100 }),
    maxHistoryTokens: reader.integer('MAX_HISTORY_TOKENS', { default: 4000, min: 0, max: 200_000 }),
  };
}

/** Reads the HTTP API settings (`HTTP_MAX_BODY_BYTES`, `CORS_ALLOW_ORIGINS`, `ALLOWED_WORKSPACES`, `WORKSPACE_CLAIM`, …). */
export function readApi(reader: EnvReader, defaultWorkspace: string): ApiConfig {
  const allowedWorkspaces = reader.has('ALLOWED_WORKSPACES')
    ? reader.list('ALLOWED_WORKSPACES')
    : [defaultWorkspace];
  for (const ws of allowedWorkspaces) {
    if (ws !== '*' && !isValidWorkspace(ws)) {
      reader.problem('ALLOWED_WORKSPACES', `${JSON.stringify(ws)} is not a valid workspace name.`);
    }
  }
  const login = readLogin(reader);
  // Deployed with auth=lightrag, API Gateway lets every request through: no login, no protection.
  if (reader.boolean('REQUIRE_LOGIN', { default: false }) && !login) {
    reader.problem(
      'REQUIRE_LOGIN',
      'is set (auth=lightrag: the functions check every request) but no login is configured: put TOKEN_SECRET and AUTH_ACCOUNTS (or LIGHTRAG_API_KEY) in the AUTH_SECRET_ID secret, or AUTH_GUEST=true to open it on purpose.',
    );
  }
  const corsAllowOrigins = reader.list('CORS_ALLOW_ORIGINS');
  for (const origin of corsAllowOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      reader.problem(
        'CORS_ALLOW_ORIGINS',
        `${JSON.stringify(origin)} is not an origin such as https://app.example.com.`,
      );
    }
  }
  return {
    maxBodyBytes: reader.integer('HTTP_MAX_BODY_BYTES', {
      default: 6 * 1024 * 1024,
      min: 1024,
      max: 10 * 1024 * 1024,
    }),
    corsAllowOrigins,
    allowedWorkspaces,
    workspaceHeader: reader
      .string('WORKSPACE_HEADER', {
        default: 'x-workspace',
        pattern: /^[A-Za-z0-9-]{1,64}$/,
        hint: 'a header name',
      })
      .toLowerCase(),
    healthDetails: reader.boolean('HEALTH_DETAILS', { default: false }),
    // Login tokens carry their grants (AUTH_WORKSPACES) under this claim, `workspaces` by default.
    workspaceClaim: reader.string('WORKSPACE_CLAIM', {
      pattern: /^[\w:./-]{1,128}$/,
      hint: 'a claim name such as workspaces or custom:workspaces',
      ...(login?.workspaces ? { default: 'workspaces' } : {}),
    }),
    iamWorkspaces: readIamWorkspaces(reader),
    jwt: readJwt(reader),
    ...(login ? { login } : {}),
    webui: {
      title: reader.string('WEBUI_TITLE', {
        default: 'LightRAG Serverless',
        pattern: /^.{1,200}$/,
        hint: 'a short title',
      }),
      description: reader.string('WEBUI_DESCRIPTION', {
        default: 'LightRAG on AWS Lambda, SQS and PostgreSQL',
        pattern: /^.{1,1000}$/,
        hint: 'a description of at most 1,000 characters',
      }),
      ...readWebuiDir(reader),
      // Deployed with webui=cloudfront: the WebUI is on the distribution (/health says so).
      hosted: reader.boolean('WEBUI_HOSTED', { default: false }),
    },
  };
}

/** `WEBUI_DIR`: a folder with the WebUI build's index.html (checked now, not at first request). */
function readWebuiDir(reader: EnvReader): { dir?: string } {
  const dir = reader.raw('WEBUI_DIR');
  if (dir === undefined) return {};
  if (!existsSync(join(dir, 'index.html'))) {
    reader.problem(
      'WEBUI_DIR',
      `${JSON.stringify(dir)} has no index.html; point it at a LightRAG WebUI build (LightRAG's Python package ships one as lightrag/api/webui/).`,
    );
    return {};
  }
  return { dir };
}

function readJwt(reader: EnvReader): ApiConfig['jwt'] {
  const issuer = reader.string('JWT_ISSUER', {
    pattern: /^https?:\/\/\S+$/,
    hint: 'the token issuer URL, e.g. https://cognito-idp.eu-west-1.amazonaws.com/POOL_ID',
  });
  const audience = reader.string('JWT_AUDIENCE', { pattern: /^\S{1,512}$/, hint: 'an audience' });
  if (issuer && !audience) reader.problem('JWT_AUDIENCE', 'is required with JWT_ISSUER.');
  if (
    issuer &&
    issuer.startsWith('http://') &&
    !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(issuer)
  ) {
    reader.problem('JWT_ISSUER', 'must be https:// (plain http only on this machine).');
  }
  return issuer && audience ? { issuer, audience } : undefined;
}

function readIamWorkspaces(reader: EnvReader): Record<string, string[]> | undefined {
  return readWorkspaceMap(
    reader,
    'WORKSPACE_IAM_MAP',
    'principal ARN (or account id)',
    '{"arn:aws:iam::123456789012:role/team-a": ["team_a"]}',
  );
}
