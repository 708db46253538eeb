/**
 * Which workspaces the caller may use, from who the caller is:
 * - JWT (`WORKSPACE_CLAIM`): the named claim of the token, or of a Lambda authorizer's context —
 *   a JSON array, or a space- or comma-separated string (API Gateway passes a JWT array claim as
 *   `"[a b]"`);
 * - IAM (`WORKSPACE_IAM_MAP`): a JSON object from principal to workspaces; a key is a user ARN
 *   or a role ARN (an assumed-role session matches its role), or an account id.
 * Undefined when neither is configured (workspaces are then bound by ALLOWED_WORKSPACES only).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiConfig } from '../config.ts';

interface AuthorizerContext {
  jwt?: { claims?: Record<string, unknown> };
  lambda?: Record<string, unknown>;
  iam?: { userArn?: string; accountId?: string };
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String).filter(Boolean);
    } catch {
      // API Gateway's "[a b]" form: not JSON, split below.
    }
  }
  return text
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

/** `arn:aws:sts::123:assumed-role/name/session` → `arn:aws:iam::123:role/name`. */
function roleArn(userArn: string): string | undefined {
  const m = /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\//.exec(userArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

export function callerWorkspaces(
  event: APIGatewayProxyEventV2,
  api: Pick<ApiConfig, 'workspaceClaim' | 'iamWorkspaces'>,
): string[] | undefined {
  if (!api.workspaceClaim && !api.iamWorkspaces) return undefined;
  const auth = (event.requestContext as { authorizer?: AuthorizerContext }).authorizer ?? {};
  const found: string[] = [];
  if (api.workspaceClaim) {
    found.push(
      ...listOf(auth.jwt?.claims?.[api.workspaceClaim] ?? auth.lambda?.[api.workspaceClaim]),
    );
  }
  if (api.iamWorkspaces && auth.iam?.userArn) {
    const keys = [auth.iam.userArn, roleArn(auth.iam.userArn), auth.iam.accountId];
    for (const key of keys) if (key) found.push(...(api.iamWorkspaces[key] ?? []));
  }
  return [...new Set(found)];
}
