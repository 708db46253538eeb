/**
 * The first five minutes on an older Node: one line saying which version is needed and the
 * command that fixes it, before any TypeScript is loaded (npm's pre-hooks run the check).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nodeProblem } from '../scripts/require-node.mjs';

const SCRIPT = fileURLToPath(new URL('../scripts/require-node.mjs', import.meta.url));

describe('the Node.js version check', () => {
  it('names the version needed and the fix, only for versions that cannot run the sources', () => {
    for (const old of ['20.20.2', '18.19.0', '22.17.1']) {
      const line = nodeProblem(old);
      assert.match(
        line ?? '',
        new RegExp(`needs Node\\.js 22\\.18 or newer \\(this is ${old.replace(/\./g, '\\.')}\\)`),
      );
      assert.match(line ?? '', /export PATH="\$\(bash scripts\/ensure-node22\.sh\):\$PATH"/);
      assert.ok(!line!.includes('\n'), 'one line');
    }
    for (const ok of ['22.18.0', '22.23.3', '24.0.0']) assert.equal(nodeProblem(ok), undefined);
  });

  it('runs before every npm script but the two that run Biome alone (native, any Node)', () => {
    const { scripts } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { scripts: Record<string, string> };
    const names = Object.keys(scripts).filter((n) => !n.startsWith('pre'));
    for (const name of ['package', 'deploy', 'deploy:layers', 'start', 'test', 'bench'])
      assert.ok(names.includes(name), name);
    for (const name of names.filter((n) => n !== 'lint' && n !== 'format')) {
      assert.equal(scripts[`pre${name}`], 'node scripts/require-node.mjs', name);
    }
  });

  it("exits 1 with the line on the machine's own older Node, when it has one", async (t) => {
    const system = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync);
    if (!system) return t.skip('no other Node installed');
    const { stdout } = await promisify(execFile)(system, ['-p', 'process.versions.node']);
    if (!nodeProblem(stdout.trim()))
      return t.skip(`the system Node ${stdout.trim()} is new enough`);
    const result = await promisify(execFile)(system, [SCRIPT]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /needs Node\.js 22\.18 or newer/);
  });
});
