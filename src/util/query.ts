/**
 * Query-string values of the HTTP APIs (`wmill serve`, the jobs' loopback API), parsed in one
 * place: a value that is present but malformed (`page=abc`, `no_logs=maybe`, `created_after=
 * yesterday`, `scheduled_in_secs=1e308`) is a 400 with one line naming the parameter, never a
 * silent default and never a 500 further down. An absent or empty value takes the default.
 * `bad` makes the error (each server has its own HTTP error type).
 */
export interface QueryReader {
  /** `true`/`1` or `false`/`0`. */
  bool(name: string, dflt?: boolean): boolean;
  /** The same, undefined when absent or empty. */
  optBool(name: string): boolean | undefined;
  /** A decimal integer in [min, max] (above max: max when `clamp`, else an error). */
  int(name: string, opts: { dflt: number; min?: number; max?: number; clamp?: boolean }): number;
  int(name: string, opts?: { dflt?: undefined; min?: number; max?: number; clamp?: boolean }): number | undefined;
  /** A finite number in [min, max]. */
  number(name: string, opts?: { min?: number; max?: number }): number | undefined;
  /** An ISO 8601 date or date-time (years 1 to 9999), as a Date. */
  date(name: string): Date | undefined;
  /** A string, or undefined when absent or empty. */
  str(name: string): string | undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The instants the APIs accept: 4-digit years, on which PostgreSQL and JSON clients agree. */
export const MIN_DATE_MS = Date.parse('0001-01-01T00:00:00Z');
export const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

export function queryReader(q: URLSearchParams, bad: (message: string) => Error): QueryReader {
  const raw = (name: string): string | undefined => {
    const v = q.get(name);
    return v === null || v === '' ? undefined : v;
  };
  const show = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  const optBool = (name: string): boolean | undefined => {
    const v = raw(name);
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw bad(`${name}: expected true or false, got ${show(v)}`);
  };
  return {
    bool: (name, dflt = false) => optBool(name) ?? dflt,
    optBool,
    int(name: string, opts: { dflt?: number; min?: number; max?: number; clamp?: boolean } = {}): any {
      const v = raw(name);
      if (v === undefined) return opts.dflt;
      const n = /^[+-]?\d{1,15}$/.test(v) ? Number(v) : NaN;
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
      if (Number.isNaN(n) || n < min || (n > max && !opts.clamp)) {
        throw bad(`${name}: expected an integer${rangeText(min, max)}, got ${show(v)}`);
      }
      return Math.min(n, max);
    },
    number(name, opts = {}) {
      const v = raw(name);
      if (v === undefined) return undefined;
      const n = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(v) ? Number(v) : NaN;
      const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = opts;
      if (!Number.isFinite(n) || n < min || n > max) throw bad(`${name}: expected a number${rangeText(min, max)}, got ${show(v)}`);
      return n;
    },
    date(name) {
      const v = raw(name);
      if (v === undefined) return undefined;
      const t = ISO_DATE.test(v) ? Date.parse(v.replace(' ', 'T')) : NaN;
      if (Number.isNaN(t) || t < MIN_DATE_MS || t > MAX_DATE_MS) {
        throw bad(`${name}: expected an ISO 8601 date such as 2025-01-31T12:00:00Z, got ${show(v)}`);
      }
      return new Date(t);
    },
    str(name) {
      return raw(name);
    },
  };
}

function rangeText(min: number, max: number): string {
  const lo = min > Number.MIN_SAFE_INTEGER && min > -Number.MAX_VALUE;
  const hi = max < Number.MAX_SAFE_INTEGER;
  if (lo && hi) return ` from ${min} to ${max}`;
  if (lo) return ` ≥ ${min}`;
  if (hi) return ` ≤ ${max}`;
  return '';
}
