/** Field checks shared by the storages; each failure is a ValidationError naming record and field. */
import { ValidationError } from '../errors.ts';

export function requireString(
  record: { id: string },
  field: string,
  options: { maxLength?: number } = {},
): void {
  const value = (record as unknown as Record<string, unknown>)[field];
  if (typeof value !== 'string') {
    throw new ValidationError(
      `Record ${record.id}: ${field} must be a string, got ${typeOf(value)}.`,
      {
        id: record.id,
        field,
      },
    );
  }
  if (options.maxLength !== undefined && value.length > options.maxLength) {
    throw new ValidationError(
      `Record ${record.id}: ${field} is limited to ${options.maxLength} characters.`,
      {
        id: record.id,
        field,
      },
    );
  }
}

export function optionalString(
  record: { id: string },
  field: string,
  options: { maxLength?: number } = {},
): void {
  const value = (record as unknown as Record<string, unknown>)[field];
  if (value !== undefined && value !== null) requireString(record, field, options);
}

export function requireInteger(record: { id: string }, field: string): void {
  const value = (record as unknown as Record<string, unknown>)[field];
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2_147_483_647) {
    throw new ValidationError(
      `Record ${record.id}: ${field} must be a non-negative integer, got ${typeOf(value)}.`,
      {
        id: record.id,
        field,
      },
    );
  }
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? `number ${value}` : typeof value;
}
