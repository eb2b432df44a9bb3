import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** True while `pid` runs; a zombie (exited, waiting to be reaped) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until `file` holds at least `n` pid lines (written by a job), and return them. */
export async function waitForLines(file: string, n: number): Promise<number[]> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) {
      const pids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
      if (pids.length >= n) return pids;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} never got ${n} lines`);
}

/**
 * The process group of the process that holds `file` open, as the host sees it (a sandboxed job's
 * own `$$` is its PID namespace's): 0 when none does.
 */
export function holderGroup(file: string): number {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readdirSync(`/proc/${p}/fd`).some((fd) => readlinkSync(`/proc/${p}/fd/${fd}`) === file)) continue;
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return 0;
}
