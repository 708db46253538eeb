import { InvalidWorkspaceError, ValidationError } from './errors.ts';

/**
 * Workspaces partition every table (LightRAG's `workspace` column) and are always bind
 * parameters. The rule is LightRAG 1.5's (LIGHTRAG-1.5.md §6): anything but `/`, `\`, `.` and
 * `..`, within the column's 255 characters — so `team.v1` or a Unicode name LightRAG stores is
 * served here too. Beyond LightRAG, control characters (NUL cannot be stored; the others would
 * reach logs and headers) and lone surrogates (not UTF-8) are refused.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused on purpose.
const FORBIDDEN = /[/\\\u0000-\u001f\u007f]/;

/** Workspaces written into DDL (partial index predicates), where no bind parameter exists. */
export const WORKSPACE_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/** Whether LightRAG's rule (plus the refusals above) accepts `workspace`. */
export function isValidWorkspace(workspace: unknown): workspace is string {
  return (
    typeof workspace === 'string' &&
    workspace.length > 0 &&
    [...workspace].length <= 255 &&
    workspace !== '.' &&
    workspace !== '..' &&
    !FORBIDDEN.test(workspace) &&
    workspace.isWellFormed()
  );
}

/**
 * Returns the workspace unchanged when valid, or throws {@link InvalidWorkspaceError}.
 *
 * @example
 * ```ts
 * validateWorkspace('team.v1'); // 'team.v1'
 * validateWorkspace('../etc'); // throws InvalidWorkspaceError
 * ```
 */
export function validateWorkspace(workspace: unknown): string {
  if (!isValidWorkspace(workspace)) throw new InvalidWorkspaceError(workspace);
  return workspace;
}

/** Whether the allow-list (`ALLOWED_WORKSPACES`; `*` for any) admits `workspace`. */
export function isAllowedWorkspace(allowed: readonly string[], workspace: string): boolean {
  return allowed.includes('*') || allowed.includes(workspace);
}

/**
 * The API's allow-list holds for the queues too: a message for another workspace is refused (it
 * goes to the DLQ after the redrive count), never written where the API cannot read it.
 *
 * @example
 * ```ts
 * requireQueuedWorkspace(config.api.allowedWorkspaces, 'team_b', 'the message was not processed');
 * ```
 */
export function requireQueuedWorkspace(
  allowed: readonly string[],
  workspace: string,
  consequence: string,
): void {
  if (!isAllowedWorkspace(allowed, workspace)) {
    throw new ValidationError(
      `Workspace ${JSON.stringify(workspace)} is not in ALLOWED_WORKSPACES; ${consequence}.`,
      { workspace },
    );
  }
}
