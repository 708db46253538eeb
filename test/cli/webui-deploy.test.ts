/**
 * `webui deploy DIR --bucket NAME` against the S3 emulator: every file of the build under
 * `webui/` with its content type and cache rule, index.html with the runtime config injected and
 * not cached, and clear refusals (no bucket, no index.html).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runCli } from '../../lib/cli/main.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

const BUILD = fileURLToPath(new URL('../fixtures/webui', import.meta.url));

describe('lightrag-serverless webui deploy', () => {
  let aws: TestQueues;
  let s3: S3Client;
  before(async () => {
    aws = await startTestQueues({ name: 'webui-deploy' });
    s3 = new S3Client({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'webui-bucket' }));
  });
  after(async () => {
    s3.destroy();
    await aws.stop();
  });

  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: { AWS_REGION: 'us-east-1' },
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
    };
    const code = await runCli(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const get = async (key: string) => {
    const o = await s3.send(new GetObjectCommand({ Bucket: 'webui-bucket', Key: key }));
    return { type: o.ContentType, cache: o.CacheControl, body: await o.Body!.transformToString() };
  };

  it('uploads the build under webui/ as CloudFront serves it', async () => {
    const res = await cli([
      'webui',
      'deploy',
      BUILD,
      '--bucket',
      'webui-bucket',
      '--endpoint',
      aws.endpoint,
    ]);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^Uploaded 4 files .* to s3:\/\/webui-bucket\/webui\//);
    const swagger = await get('webui/docs/swagger-ui-bundle.js');
    assert.equal(swagger.type, 'text/javascript; charset=utf-8');
    const index = await get('webui/index.html');
    assert.equal(index.type, 'text/html; charset=utf-8');
    assert.equal(index.cache, 'no-cache');
    assert.match(
      index.body,
      /<script>window\.__LIGHTRAG_CONFIG__=\{"apiPrefix":"","webuiPrefix":"\/webui\/"\};<\/script>/,
    );
    assert.ok(!index.body.includes('__LIGHTRAG_RUNTIME_CONFIG__'));
    const app = await get('webui/assets/app.js');
    assert.equal(app.type, 'text/javascript; charset=utf-8');
    assert.equal(app.cache, 'no-cache', 'no content hash in its name: revalidated');
  });

  it('refuses clearly without a bucket or a build', async () => {
    const noBucket = await cli(['webui', 'deploy', BUILD]);
    assert.equal(noBucket.code, 2);
    assert.match(noBucket.err, /--bucket NAME .* WebuiBucketName/);
    const noBuild = await cli(['webui', 'deploy', '/tmp', '--bucket', 'webui-bucket']);
    assert.equal(noBuild.code, 2);
    assert.match(noBuild.err, /has no index\.html/);
    assert.equal((await cli(['webui', 'upload', BUILD])).code, 2);
  });
});
