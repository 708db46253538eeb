// CI's second and third passes (the pg driver, embedded PGlite): the test files that open a
// database, where the driver matters. The rest (templates, packaging, parsers, pure units, the
// browser paths) cannot change with the driver and run once, in the Neon pass of `npm test`.
// A file opens a database when it uses createTestDatabase, startLocalStack or TEST_DATABASE_*.
// Usage: node scripts/run-driver-tests.ts   (the environment picks the driver, as for npm test)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Open a database, but only the Neon pass has anything for them to do with it. */
const NEON_ONLY = new Set([
  // Its zips carry only the Neon driver; the templates are the same on every pass.
  'test/packaging.test.ts',
  'test/packaging-login.test.ts',
  // What it proves is the browser's side of the API, not the storage driver.
  'test/browser/webui.test.ts',
]);

const files = readdirSync(join(ROOT, 'test'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
  .map((e) => relative(ROOT, join(e.parentPath, e.name)))
  .filter((file) => !NEON_ONLY.has(file))
  .filter((file) =>
    /createTestDatabase|startLocalStack|TEST_DATABASE_/.test(
      readFileSync(join(ROOT, file), 'utf8'),
    ),
  )
  .sort();
console.log(`${files.length} test files that open a database`);
const { status } = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
});
process.exit(status ?? 1);
