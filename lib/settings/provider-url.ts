/**
 * Provider endpoints (`LLM_BASE_URL`, `EMBEDDING_BASE_URL`, `BEDROCK_ENDPOINT`): HTTPS, since
 * the API key travels with every request; plain `http://` only to this machine (a local model
 * server, a test double) or with `ALLOW_INSECURE_PROVIDER_URLS=true`.
 */
import type { EnvReader } from '../env.ts';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Reads the provider URL `name` (or `fallback`), without its trailing slashes; refuses one that is
 * not a URL, and plain `http://` to another host unless ALLOW_INSECURE_PROVIDER_URLS is true.
 */
export function providerUrl(
  reader: EnvReader,
  name: string,
  fallback: string | undefined,
  hint: string,
): string | undefined {
  const value = reader.string(name, {
    ...(fallback === undefined ? {} : { default: fallback }),
    pattern: /^https?:\/\/\S+$/,
    hint,
  });
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    reader.problem(name, `${JSON.stringify(value)} is not a URL; ${hint}.`);
    return fallback;
  }
  if (
    url.protocol === 'http:' &&
    !LOOPBACK.has(url.hostname) &&
    !reader.boolean('ALLOW_INSECURE_PROVIDER_URLS', { default: false })
  ) {
    reader.problem(
      name,
      `uses plain http:// to ${url.hostname}, which would send the API key unencrypted; use https:// (or set ALLOW_INSECURE_PROVIDER_URLS=true for a trusted network).`,
    );
  }
  return value.replace(/\/+$/, '');
}
