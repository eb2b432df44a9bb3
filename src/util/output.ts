/** Terminal output helpers: colour only on a TTY and without NO_COLOR; progress goes to stderr. */
const useColor = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

const wrap = (code: number, stream: NodeJS.WriteStream) => (s: string) => (useColor(stream) ? `\x1b[${code}m${s}\x1b[0m` : s);

export const color = {
  red: (s: string, stream = process.stderr) => wrap(31, stream)(s),
  green: (s: string, stream = process.stderr) => wrap(32, stream)(s),
  yellow: (s: string, stream = process.stderr) => wrap(33, stream)(s),
  dim: (s: string, stream = process.stderr) => wrap(2, stream)(s),
};

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

let verbosity: 'normal' | 'quiet' | 'debug' = 'normal';

/** --quiet (progress and information lines dropped) or --debug/--verbose (debug lines shown). */
export function setVerbosity(v: typeof verbosity): void {
  verbosity = v;
}

/** A line on stderr: progress or information (dropped by --quiet), or a warning/error (always). */
export function err(line = ''): void {
  if (verbosity === 'quiet' && !/^(\x1b\[[0-9;]*m)?(warning|error|refused)\b/i.test(line)) return;
  process.stderr.write(line + '\n');
}

export const isVerbose = (): boolean => verbosity === 'debug' || process.env.WMILL_DEBUG === '1';

/** A debug line on stderr, only with --debug/--verbose (or WMILL_DEBUG=1). */
export function debug(line: string): void {
  if (verbosity === 'debug' || process.env.WMILL_DEBUG === '1') process.stderr.write(`[debug] ${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function isInteractive(): boolean {
  return !!process.stdin.isTTY && !!process.stdout.isTTY && process.env.CI !== 'true';
}

/** Ask a yes/no question on a TTY. Never called off a TTY. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    return a === 'y' || a === 'yes';
  } finally {
    rl.close();
  }
}

let progressShown = false;

/**
 * Progress of a long run: one line rewritten in place on a terminal; nothing off a terminal
 * (CI logs get the summary the command prints at the end instead). --quiet drops it.
 */
export function progress(line: string): void {
  if (verbosity === 'quiet' || !process.stderr.isTTY) return;
  const width = Math.max(20, (process.stderr.columns ?? 80) - 1);
  process.stderr.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  progressShown = true;
}

/** Clear the progress line (before printing anything else). */
export function progressEnd(): void {
  if (!progressShown) return;
  process.stderr.write('\r\x1b[K');
  progressShown = false;
}
