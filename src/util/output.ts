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

export function err(line = ''): void {
  process.stderr.write(line + '\n');
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
