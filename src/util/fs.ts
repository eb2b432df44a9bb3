import { mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const TMP_TAG = randomBytes(4).toString('hex');
let tmpSeq = 0;

/** Write a file atomically: a temp file in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // A per-process random tag and a counter: unique without a random draw per file.
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${TMP_TAG}-${++tmpSeq}`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** `writeFileAtomic` on the thread pool, for `WriteQueue`. */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${TMP_TAG}-${++tmpSeq}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Runs chains of file writes a few at a time. A chain's steps run in order (a lock file before the
 * metadata that points at it); chains run concurrently. Measured on the 2-core machine: creating
 * 1,000 files (temp + rename, 20 folders) takes ~0.85 s one after the other and ~0.55 s with 16 in
 * flight, because creating a file waits on the file system, not on the CPU.
 * `drain()` waits for all and throws the first failure.
 */
export class WriteQueue {
  private readonly inflight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit = 16) {}

  async add(steps: Array<() => Promise<void>>): Promise<void> {
    if (steps.length === 0) return;
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    const run = (async () => {
      for (const step of steps) await step();
    })()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.inflight.delete(run));
    this.inflight.add(run);
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all(this.inflight);
    if (this.failure) throw this.failure.error;
  }
}

/** Read a text file as UTF-8 with a UTF-8 BOM stripped (as the reference does). */
export function readText(path: string): string {
  const buf = readFileSync(path);
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    throw new Error(`${path}: UTF-16/32 encoded files are not supported; save it as UTF-8`);
  }
  const s = buf.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export function readTextOrNull(path: string): string | null {
  try {
    return readText(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}
