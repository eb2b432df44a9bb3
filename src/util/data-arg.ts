/**
 * The `-d, --data` argument shared by `script preview` and `script run`: a JSON object of job
 * arguments given inline, as `@file` (relative to the working directory) or `@-` (stdin).
 * Anything else (bad JSON, a missing file, a non-object) is a usage error (exit 2).
 */
import { WmillError } from '../errors.js';

export interface DataArgIO {
  cwd: string;
  readStdin: () => Promise<string>;
}

const usage = (message: string, meta: Record<string, unknown> = {}) => new WmillError('usage', message, meta);

export async function readDataArg(data: string | undefined, io: DataArgIO): Promise<Record<string, unknown>> {
  if (data === undefined) return {};
  let text = data;
  let from = '-d';
  if (data === '@-') {
    text = await io.readStdin();
    from = 'stdin (-d @-)';
  } else if (data.startsWith('@')) {
    const { resolve } = await import('node:path');
    const { readTextOrNull } = await import('./fs.js');
    const f = resolve(io.cwd, data.slice(1));
    const t = readTextOrNull(f);
    if (t === null) throw usage(`-d ${data}: file not found: ${f}`);
    text = t;
    from = data.slice(1);
  }
  const { parseJsonText } = await import('./data-file.js');
  const parsed = parseJsonText(text);
  if ('error' in parsed) {
    const where = `${from}${parsed.line && data.startsWith('@') && data !== '@-' ? `:${parsed.line}` : ''}`;
    throw usage(`invalid JSON in ${where}: ${parsed.error.replace(/^invalid JSON: /, '')}; pass an object such as -d '{"x": 1}'`);
  }
  const value = parsed.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw usage(`${from} must be a JSON object of arguments (name → value), got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** All of process.stdin as UTF-8 text. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
