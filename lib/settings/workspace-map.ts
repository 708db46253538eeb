/** Workspace grants read from a JSON variable (`WORKSPACE_IAM_MAP`, `AUTH_WORKSPACES`). */
import type { EnvReader } from '../env.ts';
import { isValidWorkspace } from '../workspace.ts';

/**
 * A JSON object from a caller (principal, user name) to the workspaces it is granted
 * (`WORKSPACE_IAM_MAP`, `AUTH_WORKSPACES`); a problem naming the variable when it is not one.
 */
export function readWorkspaceMap(
  reader: EnvReader,
  variable: string,
  keys: string,
  example: string,
): Record<string, string[]> | undefined {
  const text = reader.raw(variable);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const valid =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every(
      (v) => Array.isArray(v) && v.every((w) => typeof w === 'string' && isValidWorkspace(w)),
    );
  if (!valid) {
    reader.problem(
      variable,
      `must be a JSON object from ${keys} to an array of workspace names, e.g. ${example}.`,
    );
    return undefined;
  }
  return parsed as Record<string, string[]>;
}
