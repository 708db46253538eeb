/**
 * `webui deploy DIR --bucket NAME`: uploads a LightRAG WebUI build to the bucket of
 * `--param webui=cloudfront` (stack output `WebuiBucketName`), under `webui/`, as the
 * distribution serves it: each file with its content type and cache rule, `index.html` with
 * `window.__LIGHTRAG_CONFIG__` injected and uploaded last (a browser never gets an index naming
 * assets that are not there yet), and Swagger UI's two files under `webui/docs/` for `GET /docs`.
 * Files of earlier builds stay: a page still open keeps loading.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { s3Client } from '../uploads/s3.ts';
import { cacheControlOf, contentTypeOf, injectRuntimeConfig } from '../webui/files.ts';
import type { CliIo } from './context.ts';

/** A build has a few hundred files; more, or a huge one, is not a WebUI build. */
const MAX_FILES = 5_000;
const MAX_FILE_BYTES = 50 * 1024 * 1024;

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue; // Symlinks and the rest stay out of the bucket.
    found.push(join(entry.parentPath, entry.name));
    if (found.length > MAX_FILES)
      throw new Error(`${dir} has more than ${MAX_FILES} files; is it a WebUI build?`);
  }
  return found;
}

export async function webuiCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      bucket: { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
    },
  });
  const [action, dir] = positionals;
  const bucket = values.bucket ?? io.env.WEBUI_BUCKET;
  if (action !== 'deploy' || !dir || positionals.length > 2) {
    io.err('Usage: lightrag-serverless webui deploy DIR --bucket NAME [--region R]');
    return 2;
  }
  if (!bucket) {
    io.err(
      'Give the bucket: --bucket NAME (or WEBUI_BUCKET), the stack output WebuiBucketName of a deploy with --param="webui=cloudfront":\n  aws cloudformation describe-stacks --stack-name lightrag-serverless-STAGE --query "Stacks[0].Outputs[?OutputKey==\'WebuiBucketName\'].OutputValue" --output text',
    );
    return 2;
  }
  const index = join(dir, 'index.html');
  if (!(await stat(index).catch(() => undefined))?.isFile()) {
    io.err(
      `${dir} has no index.html; give a LightRAG WebUI build (its Python package ships one as lightrag/api/webui/).`,
    );
    return 2;
  }
  const files = (await filesUnder(dir)).filter((f) => f !== index);
  const endpoint = values.endpoint ?? io.env.S3_ENDPOINT;
  const s3 = await s3Client({
    region: values.region ?? io.env.AWS_REGION ?? 'eu-west-1',
    ...(endpoint ? { endpoint } : {}),
  });
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const put = async (path: string, body: Buffer | string) => {
    const key = `webui/${relative(dir, path).split(sep).join('/')}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentTypeOf(path),
        CacheControl: path === index ? 'no-cache' : cacheControlOf(key),
      }),
    );
  };
  let bytes = 0;
  for (const file of files) {
    const body = await readFile(file);
    if (body.length > MAX_FILE_BYTES)
      throw new Error(`${file} is over ${MAX_FILE_BYTES} bytes; is it part of a WebUI build?`);
    bytes += body.length;
    await put(file, body);
  }
  // Swagger UI for GET /docs (the health function's page loads it from /webui/docs).
  const swagger = (
    createRequire(import.meta.url)('swagger-ui-dist') as {
      getAbsoluteFSPath(): string;
    }
  ).getAbsoluteFSPath();
  for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    const body = await readFile(join(swagger, asset));
    bytes += body.length;
    await put(join(dir, 'docs', asset), body);
  }
  await put(index, injectRuntimeConfig(await readFile(index, 'utf8')));
  io.out(
    `Uploaded ${files.length + 3} files (${(bytes / 1024).toFixed(0)} KiB) to s3://${bucket}/webui/; the WebUI is at the stack output WebuiUrl.`,
  );
  return 0;
}
