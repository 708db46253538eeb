/** Shape checks for JSON bodies and messages: an object, with only the fields it may have. */
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
