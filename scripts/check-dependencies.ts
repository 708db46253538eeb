/**
 * The dependency rule, run by `npm run check` and by the test suite (test/dependencies.test.ts):
 * 1. no import cycles among the modules of lib/ and functions/ (type-only imports included:
 *    a cycle of types is still a cycle a reader has to untangle);
 * 2. production code — functions/ and everything it imports — never reaches the developer
 *    tools: the CLI (lib/cli), the local stack (lib/local), the queue poller, the deployment
 *    sandbox (lib/deploy), bench/, test/ or scripts/;
 * 3. nothing in lib/ imports functions/ except those developer tools, which run the handlers;
 * 4. LightRAG's constants live in one leaf module (lib/lightrag-constants.ts) that imports nothing,
 *    and no other module defines them again;
 * 5. handlers (functions/) reach the storages only through services: no import of lib/storage/;
 * 6. queue messages are built and read in lib/queue/messages.ts only: a module that sends to a
 *    queue (imports the sender or the enqueue client) serialises no object literal itself;
 * 7. container state is composed in lib/container.ts only: no other production module reads the
 *    process configuration (getConfig()) or the container's pool (getDatabase()) itself.
 * Prints every violation and exits non-zero when there is one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

const DEV_TOOLS = [/^lib\/cli\//, /^lib\/local\//, /^lib\/queue\/poller\.ts$/, /^lib\/deploy\//];
const NEVER_IN_PRODUCTION = [
  ...DEV_TOOLS,
  /^bench\//,
  /^eval\//,
  /^test\//,
  /^scripts\//,
  /^bin\//,
];
const CONSTANTS = 'lib/lightrag-constants.ts';

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Relative imports of a module (static and dynamic), as paths from the project root. */
export function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = new Set<string>();
  const pattern =
    /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) {
    const spec = match[1] ?? match[2]!;
    found.add(relative(root, join(root, dirname(file), spec)));
  }
  return [...found];
}

export function checkDependencies(): string[] {
  const files = [...sources('lib'), ...sources('functions')];
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const problems: string[] = [];

  // 1. Cycles (depth-first search, each cycle reported once by its smallest member).
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles = new Set<string>();
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const dep of graph.get(f) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === 'open') {
        const cycle = stack.slice(stack.indexOf(dep));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        cycles.add([...cycle.slice(start), ...cycle.slice(0, start)].join(' → '));
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  for (const c of cycles) problems.push(`import cycle: ${c} → (back to the start)`);

  // 2. What production code reaches.
  const reached = new Map<string, string>();
  const walk = (f: string, from: string) => {
    if (reached.has(f)) return;
    reached.set(f, from);
    for (const dep of graph.get(f) ?? importsOf(f)) walk(dep, f);
  };
  for (const f of sources('functions')) walk(f, '(handler)');
  for (const [f, from] of reached) {
    if (NEVER_IN_PRODUCTION.some((p) => p.test(f))) {
      problems.push(`production code reaches a developer tool: ${from} imports ${f}`);
    }
  }

  // 3. lib/ → functions/ only from the developer tools.
  for (const [f, deps] of graph) {
    if (!f.startsWith('lib/') || DEV_TOOLS.some((p) => p.test(f))) continue;
    for (const dep of deps) {
      if (dep.startsWith('functions/')) problems.push(`${f} imports the handler ${dep}`);
    }
  }

  // 4. The constants module is a leaf, and its constants are defined nowhere else.
  for (const dep of graph.get(CONSTANTS) ?? []) {
    problems.push(`${CONSTANTS} must import nothing, imports ${dep}`);
  }
  const constants = [
    ...readFileSync(join(root, CONSTANTS), 'utf8').matchAll(/export const (\w+) =/g),
  ].map((m) => m[1]!);
  for (const f of files) {
    if (f === CONSTANTS) continue;
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/(?:export )?const (\w+) =/g)) {
      if (constants.includes(m[1]!))
        problems.push(`${f} defines ${m[1]} again (${CONSTANTS} has it)`);
    }
  }

  // 5. Handlers stay thin: storages through the services.
  for (const f of sources('functions'))
    for (const dep of graph.get(f) ?? [])
      if (dep.startsWith('lib/storage/'))
        problems.push(`${f} imports the storage module ${dep}; go through a service`);

  // 6. One place for queue messages.
  const MESSAGES = 'lib/queue/messages.ts';
  const SENDERS = ['lib/queue/sender.ts', 'lib/queue/enqueue.ts'];
  for (const [f, deps] of graph) {
    if (f === MESSAGES || DEV_TOOLS.some((p) => p.test(f))) continue;
    if (!SENDERS.includes(f) && !deps.some((d) => SENDERS.includes(d))) continue;
    if (/JSON\.stringify\(\s*\{/.test(readFileSync(join(root, f), 'utf8')))
      problems.push(
        `${f} sends to a queue and serialises an object itself; build messages in ${MESSAGES}`,
      );
  }

  // 7. One composition of a container's state.
  const COMPOSERS = ['lib/container.ts', 'lib/db/container.ts', 'lib/config.ts'];
  for (const f of reached.keys()) {
    if (COMPOSERS.includes(f) || !graph.has(f)) continue;
    const code = readFileSync(join(root, f), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '');
    if (/\b(getConfig|getDatabase)\(\)/.test(code))
      problems.push(
        `${f} reads getConfig()/getDatabase() itself; compose state in lib/container.ts`,
      );
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkDependencies();
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write('dependency rule: no cycles, production code reaches no developer tool\n');
}
