/**
 * pgvector's binary format: int16 dimensions, int16 unused, then each value as a big-endian
 * float4. Sent as a binary bind parameter it skips formatting every float as text in the client
 * and parsing it back in the server: 4 bytes a dimension instead of about 20 characters. In the
 * benchmark this made a 1,536-dimension upsert several times faster than the text form.
 */

/**
 * @example
 * ```ts
 * await db.query('INSERT INTO t (v) VALUES ($1::vector(3))', [vectorBinary([0.1, 0.2, 0.3])]);
 * ```
 */
export function vectorBinary(values: readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(4 + 4 * values.length);
  buffer.writeInt16BE(values.length, 0);
  buffer.writeInt16BE(0, 2);
  for (let i = 0; i < values.length; i++) buffer.writeFloatBE(values[i]!, 4 + 4 * i);
  return buffer;
}
