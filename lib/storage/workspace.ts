import { InvalidWorkspaceError } from '../errors.ts';

/**
 * Workspaces partition every table (LightRAG's `workspace` column). They are always sent as bind
 * parameters, and still held to a strict pattern so that a hostile name is refused up front
 * rather than stored, logged or used as a metrics label.
 */
export const WORKSPACE_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Returns the workspace unchanged when valid, or throws {@link InvalidWorkspaceError}.
 *
 * @example
 * ```ts
 * validateWorkspace('tenant_42'); // 'tenant_42'
 * validateWorkspace("x'; DROP TABLE y;--"); // throws InvalidWorkspaceError
 * ```
 */
export function validateWorkspace(workspace: unknown): string {
  if (typeof workspace !== 'string' || !WORKSPACE_PATTERN.test(workspace)) {
    throw new InvalidWorkspaceError(workspace);
  }
  return workspace;
}
