/**
 * pgvector's text form, compact. pgvector stores float4, and 9 significant digits round-trip any
 * float4 exactly, so the 17 digits JavaScript prints for a double are wasted bytes on the wire
 * and wasted parsing in the server (about 40 % of a 1,536-dimension vector's text).
 */

/**
 * `[0.0123456791,-0.5,…]` for a vector already checked to hold finite numbers.
 *
 * @example
 * ```ts
 * vectorLiteral([0.1, -2, 1 / 3]); // '[0.100000001,-2,0.333333343]'
 * ```
 */
export function vectorLiteral(values: readonly number[]): string {
  let text = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) text += ',';
    text += float4Text(values[i]!);
  }
  return `${text}]`;
}

function float4Text(value: number): string {
  const single = Math.fround(value);
  if (Object.is(single, -0)) return '-0';
  if (Number.isInteger(single) && Math.abs(single) < 1e9) return String(single);
  return String(Number(single.toPrecision(9)));
}
