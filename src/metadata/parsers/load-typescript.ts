/**
 * Loads the TypeScript compiler (typescript.js, ~9 MB of CommonJS) as cheaply as Node 20 allows.
 *
 * Measured on the 2-core machine (node 20.20, typescript 5.9), time to a usable `ts` object:
 * - `await import('typescript')`: ~630 ms. The ESM loader detects the module format, runs the
 *   CJS lexer over the whole file to find its named exports, then compiles it.
 * - `require('typescript')`: ~240 ms (no format detection, no lexer; V8 compiles the file).
 * - the same, compiled with V8's code cache (`vm.Script` + `cachedData`): ~85 ms on every run
 *   after the first. Node 22's `module.enableCompileCache()` does this for every module; Node 20
 *   has no such switch, so it is done here for the one module that costs.
 *
 * The cache is one file per TypeScript version, Node version and architecture in the user's
 * cache folder (`$WMILL_CACHE_DIR`, else `$XDG_CACHE_HOME/wmill`, else `~/.cache/wmill`),
 * written once (atomically, 0600) at process exit so that it holds the functions this run
 * compiled, not only the eager ones. V8 checks it against the source and its own version and
 * rejects a stale or foreign one (then the file is compiled as usual and the cache rewritten).
 * Any failure to read or write the cache is silent: it only costs time. `WMILL_CACHE_DIR=off`
 * turns it off.
 */
import { createRequire } from 'node:module';
import Module from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import type * as TS from 'typescript';
import { writeFileAtomic } from '../../util/fs.js';
import { userCacheDir } from '../../util/cache-dir.js';

export function loadTypescript(): typeof TS {
  const req = createRequire(import.meta.url);
  const file = req.resolve('typescript');
  const dir = userCacheDir();
  if (!dir) return req('typescript') as typeof TS;
  let version = 'x';
  try {
    version = (JSON.parse(readFileSync(join(dirname(file), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* the cache key falls back to the node version only; V8 still checks the source */
  }
  const cacheFile = join(dir, `typescript-${version}-node${process.version}-${process.arch}.v8cache`);
  let cached: Buffer | undefined;
  try {
    cached = readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
  const source = readFileSync(file, 'utf8');
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached });
  const mod = { exports: {} as unknown };
  const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  if (!cached || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileAtomic(cacheFile, script.createCachedData());
      } catch {
        /* no cache: only slower */
      }
    });
  }
  return mod.exports as typeof TS;
}
