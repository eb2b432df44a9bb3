#!/usr/bin/env node
// Entry point. `--version` is answered before anything else is loaded, so it stays as fast as `node -e 0`.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import('../dist/cli.mjs');
  process.exitCode = await main(process.argv);
}
