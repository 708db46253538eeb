/**
 * Shape checks for JSON bodies and messages (an object, with only the fields it may have), and
 * the loose reading of a JSON object out of an LLM reply.
 */
import { ValidationError } from './errors.ts';

/** The value as an object, or a ValidationError with `message` (arrays and null are refused). */
export function requireJsonObject(value: unknown, message: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError(message);
  return value as Record<string, unknown>;
}

/**
 * Refuses fields outside `allowed`, so a typo is an error instead of a silently ignored option.
 *
 * @example
 * ```ts
 * refuseUnknownFields({ contnet: 'x' }, new Set(['content']), 'Unknown field(s)'); // throws, naming "contnet"
 * ```
 */
export function refuseUnknownFields(
  value: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  prefix: string,
): void {
  const unknown = Object.keys(value).filter((k) => !allowed.has(k));
  if (unknown.length === 0) return;
  throw new ValidationError(
    `${prefix} ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; allowed: ${[...allowed].join(', ')}.`,
    { fields: unknown.slice(0, 20).map((k) => k.slice(0, 40)) },
  );
}

/**
 * The JSON object in a model's reply, tolerating code fences and prose around it: from the first
 * `{` to the last `}`. Undefined when there is none or it does not parse.
 */
export function parseJsonObjectLoosely(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    const parsed: unknown = JSON.parse(text.slice(start, end + 1));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
