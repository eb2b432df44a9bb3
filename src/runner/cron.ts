/**
 * Cron expressions as Windmill schedules use them: six fields with seconds
 * (`sec min hour day-of-month month day-of-week`), evaluated in an IANA timezone.
 *
 * Syntax per field: `*` (or `?`), numbers, names (JAN-DEC, SUN-SAT; case-insensitive), lists
 * `a,b`, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n` (a to the field's maximum). Day-of-week
 * 0 and 7 are both Sunday. A five-field expression is accepted with seconds = 0.
 * Day-of-month vs day-of-week follows the classic cron rule: when both are restricted (neither is
 * `*`/`?`), a day matches if EITHER matches; otherwise the restricted one decides.
 *
 * `nextTick` works on wall-clock time in the schedule's timezone (read with Intl.DateTimeFormat)
 * and skips field by field (year → month → day → hour → minute → second), so it never walks
 * second by second. Wall-clock times that do not exist (DST gap) are skipped; wall-clock times
 * that exist twice (DST overlap) fire once, at their first occurrence. It gives up after 5 years.
 */

export interface CronSpec {
  /** The expression as given (trimmed). */
  readonly source: string;
  /** Allowed values of each field, sorted ascending, without duplicates. */
  readonly second: readonly number[];
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  /** 0-6, Sunday = 0 (7 is folded into 0). */
  readonly dayOfWeek: readonly number[];
  /** The day-of-month field is `*` or `?` (unrestricted). */
  readonly dayOfMonthAny: boolean;
  /** The day-of-week field is `*` or `?` (unrestricted). */
  readonly dayOfWeekAny: boolean;
}

interface FieldDef {
  name: string;
  min: number;
  max: number;
  /** Accepted names: MONTH_NAMES[i] is month i+1, DAY_NAMES[i] is weekday i. */
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldDef[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

class CronError extends Error {
  constructor(expr: string, detail: string) {
    super(`invalid cron ${JSON.stringify(expr)}: ${detail}`);
    this.name = 'CronError';
  }
}

function parseValue(expr: string, f: FieldDef, token: string): number {
  if (/^\d+$/.test(token)) {
    const v = Number(token);
    if (v < f.min || v > f.max) throw new CronError(expr, `${f.name} ${token} out of range ${f.min}-${f.max}`);
    return v;
  }
  if (f.names) {
    const i = f.names.indexOf(token.toUpperCase());
    if (i >= 0) return f.names === MONTH_NAMES ? i + 1 : i;
  }
  const what = f.names ? 'a number or name' : 'a number';
  throw new CronError(expr, `${f.name} ${JSON.stringify(token)} is not ${what}`);
}

function parseField(expr: string, f: FieldDef, text: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(expr, `${f.name} ${JSON.stringify(text)} has an empty list item`);
    const slash = part.split('/');
    if (slash.length > 2) throw new CronError(expr, `${f.name} ${JSON.stringify(part)} has more than one "/"`);
    const [range, stepText] = slash as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(expr, `${f.name} step ${JSON.stringify(stepText)} must be a positive integer`);
      }
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = f.min;
      hi = f.name === 'day-of-week' ? 6 : f.max; // `*` for weekdays is 0-6 (7 would repeat Sunday)
    } else {
      const dash = range.split('-');
      if (dash.length > 2) throw new CronError(expr, `${f.name} ${JSON.stringify(range)} is not a valid range`);
      lo = parseValue(expr, f, dash[0]!);
      if (dash.length === 2) {
        hi = parseValue(expr, f, dash[1]!);
        if (hi < lo) throw new CronError(expr, `${f.name} range ${range} is reversed`);
      } else {
        hi = stepText !== undefined ? f.max : lo; // `a/n`: from a to the maximum
      }
    }
    for (let v = lo; v <= hi; v += step) values.add(f.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a 6-field (`sec min hour dom month dow`) or 5-field (seconds = 0) cron expression.
 * Throws an Error with a one-line message naming the bad field.
 */
export function parseCron(expr: string): CronSpec {
  const source = expr.trim();
  const parts = source.split(/\s+/).filter(Boolean);
  if (parts.length === 5) parts.unshift('0');
  if (parts.length !== 6) {
    throw new CronError(expr, `expected 6 fields (sec min hour day-of-month month day-of-week) or 5, got ${parts.length}`);
  }
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = FIELDS.map((f, i) => parseField(expr, f, parts[i]!)) as [
    number[],
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  const any = (t: string) => t === '*' || t === '?';
  return {
    source,
    second,
    minute,
    hour,
    dayOfMonth,
    month,
    dayOfWeek,
    dayOfMonthAny: any(parts[3]!),
    dayOfWeekAny: any(parts[5]!),
  };
}

// ---------------------------------------------------------------------------------------------
// Time zones: wall-clock fields of an instant, and UTC offsets.

interface Wall {
  y: number;
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw new Error(`unknown timezone ${JSON.stringify(timezone)} (expected an IANA name such as "Europe/Paris")`);
    }
    formatters.set(timezone, f);
  }
  return f;
}

const isUtc = (tz: string) => tz === 'UTC' || tz === 'Etc/UTC';

/** Wall-clock time of `instant` (ms, whole seconds) in `timezone`, as naive-UTC milliseconds. */
function wallMs(instant: number, timezone: string): number {
  if (isUtc(timezone)) return instant;
  const p: Record<string, string> = {};
  for (const part of formatter(timezone).formatToParts(instant)) p[part.type] = part.value;
  let y = Number(p.year);
  if (p.era === 'BC' || p.era === 'B') y = 1 - y;
  const h = Number(p.hour) % 24;
  return Date.UTC(y, Number(p.month) - 1, Number(p.day), h, Number(p.minute), Number(p.second));
}

/** UTC offset (ms) of `timezone` at `instant`. */
function offsetAt(instant: number, timezone: string): number {
  return wallMs(instant, timezone) - instant;
}

function toWall(ms: number): Wall {
  const t = new Date(ms);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

const fromWall = (w: Wall) => Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);

const DAY = 86_400_000;

/**
 * The instants whose wall-clock time in `timezone` is `wall` (naive-UTC ms), ascending:
 * none in a DST gap, two in a DST overlap. Also returns the offsets seen around `wall`.
 */
function instantsOf(wall: number, timezone: string): { instants: number[]; before: number; after: number } {
  if (isUtc(timezone)) return { instants: [wall], before: 0, after: 0 };
  // Offsets in force a day either side (UTC offsets are within ±14h, and transitions are
  // months apart in practice), plus the one at the naive guess.
  const before = offsetAt(wall - DAY, timezone);
  const after = offsetAt(wall + DAY, timezone);
  const candidates = new Set([before, after, offsetAt(wall, timezone)]);
  const instants: number[] = [];
  for (const off of candidates) {
    const t = wall - off;
    if (wallMs(t, timezone) === wall && !instants.includes(t)) instants.push(t);
  }
  instants.sort((a, b) => a - b);
  return { instants, before, after };
}

/**
 * The offset transition between instants `lo` and `hi` (offsets differ, one transition between):
 * the first whole-second instant in (lo, hi] that has `hi`'s offset. Binary search, ~13 steps.
 */
function transition(lo: number, hi: number, timezone: string): number {
  const target = offsetAt(hi, timezone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, timezone) === target) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// Field-skipping search on the (naive) wall-clock calendar.

function lookup(values: readonly number[], size: number): Uint8Array {
  const t = new Uint8Array(size);
  for (const v of values) t[v] = 1;
  return t;
}

/** The smallest allowed value >= v, or undefined. */
function nextIn(values: readonly number[], v: number): number | undefined {
  for (const x of values) if (x >= v) return x;
  return undefined;
}

const daysInMonth = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();
const weekday = (y: number, mo: number, d: number) => new Date(Date.UTC(y, mo - 1, d)).getUTCDay();

/** The first wall-clock time >= `start` matching `spec`, or undefined if none before `endYear`. */
function nextWall(spec: CronSpec, start: Wall, endYear: number): Wall | undefined {
  const dom = lookup(spec.dayOfMonth, 32);
  const dow = lookup(spec.dayOfWeek, 7);
  const dayMatches = (y: number, mo: number, d: number): boolean => {
    if (spec.dayOfMonthAny && spec.dayOfWeekAny) return true;
    const a = dom[d] === 1;
    const b = dow[weekday(y, mo, d)] === 1;
    if (spec.dayOfMonthAny) return b;
    if (spec.dayOfWeekAny) return a;
    return a || b;
  };
  let { y, mo, d, h, mi, s } = start;
  for (;;) {
    if (y >= endYear) return undefined;
    const m = nextIn(spec.month, mo);
    if (m === undefined) {
      y++;
      mo = 1;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (m !== mo) {
      mo = m;
      d = 1;
      h = mi = s = 0;
    }
    const dim = daysInMonth(y, mo);
    while (d <= dim && !dayMatches(y, mo, d)) {
      d++;
      h = mi = s = 0;
    }
    if (d > dim) {
      mo++;
      d = 1;
      h = mi = s = 0;
      if (mo > 12) {
        y++;
        mo = 1;
      }
      continue;
    }
    const hh = nextIn(spec.hour, h);
    if (hh === undefined) {
      d++;
      h = mi = s = 0;
      continue;
    }
    if (hh !== h) {
      h = hh;
      mi = s = 0;
    }
    const mm = nextIn(spec.minute, mi);
    if (mm === undefined) {
      h++;
      mi = s = 0;
      continue;
    }
    if (mm !== mi) {
      mi = mm;
      s = 0;
    }
    const ss = nextIn(spec.second, s);
    if (ss === undefined) {
      mi++;
      s = 0;
      continue;
    }
    return { y, mo, d, h, mi, s: ss };
  }
}

const SEARCH_YEARS = 5;

/**
 * The first instant strictly after `after` whose wall-clock time in `timezone` matches `spec`.
 * Nonexistent local times (DST gap) are skipped; a local time that occurs twice (DST overlap)
 * fires at its first occurrence only. Throws on an unknown timezone, or when nothing matches
 * within 5 years (e.g. `0 0 0 30 2 *`).
 */
export function nextTick(spec: CronSpec, after: Date, timezone = 'UTC'): Date {
  const afterMs = after.getTime();
  if (!Number.isFinite(afterMs)) throw new Error('nextTick: invalid "after" date');
  formatter(timezone); // validates the timezone
  const afterSec = Math.floor(afterMs / 1000) * 1000; // the answer is a whole second > after
  let wall = wallMs(afterSec + 1000, timezone);
  const endYear = toWall(wall).y + SEARCH_YEARS + 1;
  const limit = wall + SEARCH_YEARS * 366 * DAY;
  for (let guard = 0; guard < 100_000; guard++) {
    const w = nextWall(spec, toWall(wall), endYear);
    if (w === undefined) break;
    const candidate = fromWall(w);
    if (candidate > limit) break;
    const { instants, before, after: offAfter } = instantsOf(candidate, timezone);
    const first = instants[0];
    if (first === undefined) {
      // DST gap: this wall time does not exist. Resume where the gap ends (the wall time of the
      // transition instant, which lies between the instants `candidate` would map to).
      let resume = candidate + 1000;
      const lo = candidate - Math.max(before, offAfter);
      const hi = candidate - Math.min(before, offAfter);
      if (before !== offAfter && offsetAt(lo, timezone) !== offsetAt(hi, timezone)) {
        const t = transition(lo, hi, timezone);
        resume = Math.max(resume, t + offsetAt(t, timezone));
      }
      wall = resume;
      continue;
    }
    if (first <= afterSec) {
      // DST overlap with `after` in the repeated hour: this wall time already fired at its first
      // occurrence. Resume after the repeated wall-clock range: every wall time in it fired
      // before the transition, so before `after`.
      let resume = candidate + 1000;
      const second = instants[1];
      if (second !== undefined) {
        const t = transition(first, second, timezone);
        resume = Math.max(resume, t + offsetAt(first, timezone));
      }
      wall = resume;
      continue;
    }
    return new Date(first);
  }
  throw new Error(
    `cron ${JSON.stringify(spec.source)} has no matching time within ${SEARCH_YEARS} years after ${new Date(afterMs).toISOString()} (${timezone})`,
  );
}
