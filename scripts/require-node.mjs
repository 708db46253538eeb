#!/usr/bin/env node
// The Node.js this project needs, checked before any TypeScript file is loaded: Node runs the
// sources natively from 22.18 (type stripping), and on an older Node it would die with
// ERR_UNKNOWN_FILE_EXTENSION instead. Plain JavaScript, so any Node can run it (npm's pre-hooks
// call it before start, test, demo, bench, eval and cli).

/** One line naming the version needed and the command that fixes it, or undefined. */
export function nodeProblem(version) {
  const [major, minor] = version.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) return undefined;
  return (
    `lightrag-serverless needs Node.js 22.18 or newer (this is ${version}). ` +
    'Fix: export PATH="$(bash scripts/ensure-node22.sh):$PATH"   (fetches Node 22 from the npm registry; or: nvm install 22)'
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problem = nodeProblem(process.versions.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
