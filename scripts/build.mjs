// Bundles the CLI into dist/ so `wmill` starts without resolving hundreds of modules.
// Heavy parsers (typescript) stay external and are loaded lazily only when needed.
import { build } from 'esbuild';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external: ['typescript'],
  define: { __WMILL_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
