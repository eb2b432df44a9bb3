#!/usr/bin/env node
// Entry point. `--version` is answered before anything else is loaded, so it stays as fast as `node -e 0`.
const argv = process.argv.slice(2);
const versionArgs = argv.filter((a) => a !== '--json');
if (versionArgs.length === 1 && argv.length <= 2 && ['--version', '-V', 'version'].includes(versionArgs[0])) {
  // `wmill 0.1.0 (compatible with windmill-cli 1.819.0)`: the reference versions are the exact
  // pins the tests run against (package.json). `--json`: the same as an object.
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const compatibleWith = { 'windmill-cli': pkg.devDependencies?.['windmill-cli'], 'windmill-client': pkg.dependencies?.['windmill-client'] };
  process.stdout.write(
    argv.includes('--json')
      ? `${JSON.stringify({ name: pkg.name, version: pkg.version, compatibleWith, node: process.version })}\n`
      : `${pkg.name} ${pkg.version} (compatible with windmill-cli ${compatibleWith['windmill-cli']})\n`,
  );
} else if (argv[0] === 'script' && argv[1] === 'preview') {
  // `script preview` has its own bundle (dist/preview.mjs: the command, engine and executors in
  // one file, see scripts/build.mjs). For TypeScript and Python the job's interpreter is started
  // first, so that its start-up overlaps loading and running wmill (src/preview/early.ts); one
  // left unused is killed. WMILL_DEBUG_TIMING=1: where the time goes (ms since process start).
  const mark = process.env.WMILL_DEBUG_TIMING ? (l) => process.stderr.write(`[timing] ${l} ${performance.now().toFixed(1)}ms\n`) : () => {};
  mark('bin start');
  let early;
  const ext = argv.find((a) => /\.(py|ts)$/.test(a))?.slice(-3);
  if (ext) {
    try {
      early = await import(ext === '.py' ? '../dist/preview-early-python.mjs' : '../dist/preview-early-typescript.mjs');
      early.start(argv.slice(2));
    } catch {
      early = undefined;
    }
  }
  const { main } = await import('../dist/preview.mjs');
  mark('cli loaded');
  process.exitCode = await main(process.argv);
  early?.discardEarly();
} else {
  const { main } = await import('../dist/cli.mjs');
  process.exitCode = await main(process.argv);
  // Done: exit now instead of waiting for idle keep-alive connections (fetch) to time out, once
  // what was written to stdout/stderr is flushed.
  const drained = (s) => (s.writableLength ? new Promise((r) => s.once('drain', r)) : undefined);
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit();
}
