/**
 * `npm run lint` after `npm run package` (issue 25 #8): build output in nested folders
 * (infra/layers/.serverless/, .esbuild/) is not linted, so packaging never breaks the lint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIOME = fileURLToPath(new URL('../node_modules/@biomejs/biome/bin/biome', import.meta.url));

describe('lint scope', () => {
  it('ignores packaged output in nested build folders', async () => {
    const dirs = ['infra/layers/.serverless', 'infra/layers/.esbuild/.build'];
    try {
      for (const dir of dirs) {
        mkdirSync(`${ROOT}/${dir}`, { recursive: true });
        // Minified output, as the packager writes it: nothing Biome would accept.
        writeFileSync(`${ROOT}/${dir}/bundle.js`, 'var a=1;var  b  =  2;debugger;\n');
        writeFileSync(`${ROOT}/${dir}/stack.json`, '{"a":1,  "b" :2}');
      }
      const result = await promisify(execFile)(process.execPath, [BIOME, 'check', '.'], {
        cwd: ROOT,
      }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({
          code: err.code,
          out: err.stdout + err.stderr,
        }),
      );
      assert.equal(result.code, 0, result.out);
      assert.doesNotMatch(result.out, /bundle\.js|stack\.json/);
    } finally {
      rmSync(`${ROOT}/infra/layers/.serverless`, { recursive: true, force: true });
      rmSync(`${ROOT}/infra/layers/.esbuild`, { recursive: true, force: true });
    }
  });
});
