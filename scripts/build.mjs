// Bundles the CLI into dist/ so `wmill` starts without resolving hundreds of modules.
// Heavy parsers (typescript) stay external and are loaded lazily only when needed.
//
// Two builds:
// 1. `script preview` (start-up time matters, see bench/preview.mjs): dist/preview-early-*.mjs
//    (start the job's interpreter, src/preview/early.ts) and dist/preview.mjs (the CLI with
//    the preview command, engine and executors), each one self-contained file: every module
//    file loaded costs ~1 ms. What the usual preview does not need (other commands, zod, the
//    yaml package, schema inference, ...) is not in them: those dynamic imports load the
//    entries the main build writes under dist/lazy/. errors.ts also comes from there, so that
//    the error classes are the same ones on both sides (`instanceof WmillError`).
// 2. Everything else: dist/cli.mjs with code splitting, plus the dist/lazy/ entries.
import { build } from 'esbuild';
import { existsSync, readFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const common = {
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // Native or large, loaded only by the jobs that need them (DuckDB, MySQL).
  external: ['typescript', '@electric-sql/pglite', '@duckdb/node-api', 'mysql2'],
  define: { __WMILL_VERSION__: JSON.stringify(pkg.version), __WMILL_COMPAT_CLI__: JSON.stringify(pkg.devDependencies['windmill-cli']) },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // debug (under simple-git) asks for supports-color inside a try: an empty stand-in (no colours
  // in git's debug output) instead of a run-time package that is not installed
  plugins: [{ name: 'no-supports-color', setup(b) { b.onResolve({ filter: /^supports-color$/ }, () => ({ path: 'supports-color', namespace: 'empty' })); b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' })); } }],
  logLevel: 'warning',
};

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

// What the usual preview does not need, loaded with dynamic imports (src/ paths): left out of
// the preview bundle, loaded from the main build. Everything else is bundled, so that no module
// exists twice in one process unless listed here (these share no state with the bundle).
const PREVIEW_LAZY = new Set([
  'workspace/config.ts', // zod; only when wmill.yaml is outside the quick reader (config-fast.ts)
  'util/yaml.ts',
  'metadata/lockfile.ts',
  'metadata/parsers/index.ts', // schema inference when the metadata is not current
  'metadata/schema.ts',
  'runner/executors/postgresql.ts', // pg
  'runner/executors/mysql.ts', // mysql2
  'runner/executors/duckdb.ts', // @duckdb/node-api
  'runner/executors/powershell.ts',
  // Flows and workflow tasks (zod's OpenFlow schema, yaml, minimatch): only when a flow or a
  // workflow's task needs them; a plain script's preview does not parse them at start-up.
  'runner/flow/handler.ts',
  'runner/wac/local-tasks.ts',
]);
const previewLazy = (rel) => PREVIEW_LAZY.has(rel) || (rel.startsWith('commands/') && rel !== 'commands/preview.ts');
// One instance for both builds (`instanceof WmillError` where errors are rendered).
const SHARED = new Set(['errors.ts']);

/** src/ modules the preview build leaves to the main build: entry name → source file. */
const lazy = new Map();
/** Modules the preview bundle has anyway (statically imported): never left out. */
const bundled = new Set();
const lazyImports = {
  name: 'lazy-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (a) => {
      if (!a.importer.startsWith(SRC)) return undefined;
      const ts = resolve(a.resolveDir, a.path.replace(/\.js$/, '.ts'));
      if (!existsSync(ts)) return undefined;
      const rel = relative(SRC, ts).split(sep).join('/');
      if (!SHARED.has(rel) && !(a.kind === 'dynamic-import' && previewLazy(rel) && !bundled.has(rel))) return undefined;
      const name = `lazy/${rel.replace(/\.ts$/, '')}`;
      lazy.set(name, `src/${rel}`);
      return { path: `./${name}.mjs`, external: true };
    });
  },
};

const previewOptions = {
  ...common,
  entryPoints: {
    preview: 'src/cli.ts',
    'preview-early-python': 'src/preview/early-python.ts',
    'preview-early-typescript': 'src/preview/early-typescript.ts',
  },
  splitting: false,
  metafile: true,
  plugins: [...common.plugins, lazyImports],
};
for (;;) {
  lazy.clear();
  const { metafile } = await build({ ...previewOptions, write: false });
  const inputs = Object.keys(metafile.inputs).map((f) => relative(SRC, resolve(f)).split(sep).join('/'));
  const more = inputs.filter((rel) => previewLazy(rel) && !bundled.has(rel));
  if (more.length === 0) break;
  for (const rel of more) bundled.add(rel);
}
lazy.clear();
const preview = await build({ ...previewOptions, write: false });

const main = await build({
  ...common,
  // parse-worker: the worker thread generate-metadata parses TypeScript in (many stale scripts)
  entryPoints: { cli: 'src/cli.ts', 'parse-worker': 'src/metadata/parsers/parse-worker.ts', ...Object.fromEntries(lazy) },
  splitting: true,
  write: false,
});

// dist/pglite-seed.tar.gz: an initialised, empty PGlite cluster. The embedded server and every
// in-memory database start from it instead of running initdb in the process (measured with
// bench/serve.mjs: initdb made a fresh start take seconds and peak at ~800 MB; loading the seed
// costs about what a restart does). Made once per PGlite version and kept under
// node_modules/.cache/wmill/ (nothing here changes it between builds).
const pgliteVersion = JSON.parse(readFileSync(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')).version;
const seedCache = fileURLToPath(new URL(`../node_modules/.cache/wmill/pglite-seed-${pgliteVersion}.tar.gz`, import.meta.url));
if (!existsSync(seedCache)) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  const blob = await db.dumpDataDir('gzip');
  await db.close();
  mkdirSync(dirname(seedCache), { recursive: true });
  const tmp = `${seedCache}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
  renameSync(tmp, seedCache);
}
const seed = readFileSync(seedCache);

// 3. The web UI's client bundle (wmill serve's pages; CodeMirror): for the browser, never
// imported by the CLI. Served as /ui/app.js (src/server/ui/index.ts).
const ui = await build({
  entryPoints: { 'ui/app': 'src/server/ui/client/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.js' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});

// Built in memory, written at once: dist/ is incomplete for as short a time as possible (the
// CLI may be running from it meanwhile).
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
for (const f of [...preview.outputFiles, ...main.outputFiles, ...ui.outputFiles, { path: fileURLToPath(new URL('../dist/pglite-seed.tar.gz', import.meta.url)), contents: seed }]) {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.contents);
}
