/**
 * Lay out a deployed script and the workspace scripts it imports relatively (TypeScript
 * `./x`, `../x`, `/f/x`; Python `from f.folder.x import ...`) in the job's folder as the
 * workspace tree, so the executor runs it exactly as preview runs local files. Imports
 * resolve to the newest deployed version of each path at run time, among the paths the job's
 * owner may read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Sql } from './db/db.js';
import type { JobRecord } from '../runner/types.js';
import { headAt } from './scripts.js';

const TS = new Set(['bun', 'deno', 'nativets', 'bunnative']);

export async function materialize(q: Sql, job: JobRecord, jobDir: string, canRead: (path: string) => Promise<boolean> = async () => true): Promise<Partial<JobRecord> | undefined> {
  const isTs = TS.has(job.language);
  if (!isTs && job.language !== 'python3') return undefined;
  const ext = isTs ? '.ts' : '.py';
  const { tsRelativeImports } = await import('../metadata/parsers/typescript.js');
  const { pythonRelativeImports } = await import('../metadata/parsers/python.js');
  const importsOf = (code: string, path: string) => (isTs ? tsRelativeImports(code, path) : pythonRelativeImports(code, path));
  const root = join(jobDir, 'ws');
  const write = (path: string, content: string) => {
    const file = join(root, `${path}${ext}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };
  const file = write(job.path, job.content);
  const seen = new Set([job.path]);
  const queue = importsOf(job.content, job.path);
  while (queue.length) {
    const path = queue.shift()!;
    if (seen.has(path) || seen.size > 500) continue;
    seen.add(path);
    // An import of what the job's owner may not read stays missing, exactly as one that does not exist.
    if (!(await canRead(path))) continue;
    const row = await headAt(q, job.workspace, path);
    if (!row || (TS.has(row.language) ? !isTs : row.language !== job.language)) continue;
    write(path, row.content);
    queue.push(...importsOf(row.content, path));
  }
  return { file, root };
}
