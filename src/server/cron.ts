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
 * The search for the next tick is croner's (field by field, in the timezone). What stays here:
 * - the parser, for errors that name the field (`minute 61 out of range 0-59`; croner's do not)
 *   and for the normalised spec the schedule code and the tests read;
 * - one rule on top of croner's answers, the one the DST oracle test in test/cron.test.ts
 *   pins: a tick is a whole second whose wall-clock time in the timezone matches the expression
 *   and occurs there for the first time. So wall-clock times that do not exist (DST gap) are
 *   skipped, and wall-clock times that exist twice (DST overlap) fire once, at their first
 *   occurrence. croner 11's own DST rules differ (checked with 11.0.1): a fixed-time schedule
 *   such as `0 30 2 * * *` fires at the end of a spring-forward gap (03:00) instead of skipping
 *   that day, and an interval schedule such as `0 0,30 * * * *` fires twice in the repeated
 *   autumn hour. Candidates that break the rule are passed over; the next one is asked for.
 * It gives up after 5 years (e.g. `0 0 0 30 2 *`).
 */
import { Cron } from 'croner';

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
// Next tick: croner's candidates, kept when they fit the wall-clock rule above.

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
        weekday: 'short',
      });
    } catch {
      throw new Error(`unknown timezone ${JSON.stringify(timezone)} (expected an IANA name such as "Europe/Paris")`);
    }
    formatters.set(timezone, f);
  }
  return f;
}

const isUtc = (tz: string) => tz === 'UTC' || tz === 'Etc/UTC';
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY = 86_400_000;

interface Wall {
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
  dow: number; // 0-6, Sunday = 0
  /** The wall-clock time as naive-UTC milliseconds. */
  ms: number;
}

/** Wall-clock time of `instant` (ms) in `timezone`. */
function wallOf(instant: number, timezone: string): Wall {
  const p: Record<string, string> = {};
  for (const part of formatter(timezone).formatToParts(instant)) p[part.type] = part.value;
  const [y, mo, d, h, mi, s] = [Number(p.year), Number(p.month), Number(p.day), Number(p.hour) % 24, Number(p.minute), Number(p.second)];
  return { mo, d, h, mi, s, dow: WEEKDAYS.indexOf(p.weekday!), ms: Date.UTC(y, mo - 1, d, h, mi, s) };
}

/** Whether `instant` is a tick of `spec` in `timezone` by the wall-clock rule (see the top). */
function isTick(spec: CronSpec, instant: number, timezone: string): boolean {
  const w = wallOf(instant, timezone);
  const dom = spec.dayOfMonth.includes(w.d);
  const dow = spec.dayOfWeek.includes(w.dow);
  const day = spec.dayOfMonthAny ? spec.dayOfWeekAny || dow : spec.dayOfWeekAny ? dom : dom || dow;
  if (!day || !spec.month.includes(w.mo) || !spec.hour.includes(w.h) || !spec.minute.includes(w.mi) || !spec.second.includes(w.s)) return false;
  // First occurrence: when the UTC offset went down during the last day (transitions are months
  // apart), the same wall-clock time may have occurred that much earlier.
  const drop = wallOf(instant - DAY, timezone).ms - (instant - DAY) - (w.ms - instant);
  return drop <= 0 || wallOf(instant - drop, timezone).ms !== w.ms;
}

const jobs = new WeakMap<CronSpec, Map<string, Cron>>();

/** croner's job for `spec` in `timezone` (never started: only asked for run times). */
function cronJob(spec: CronSpec, timezone: string): Cron {
  let byZone = jobs.get(spec);
  if (!byZone) jobs.set(spec, (byZone = new Map()));
  let job = byZone.get(timezone);
  if (!job) {
    const list = (values: readonly number[]) => values.join(',');
    const pattern = [
      list(spec.second),
      list(spec.minute),
      list(spec.hour),
      spec.dayOfMonthAny ? '*' : list(spec.dayOfMonth),
      list(spec.month),
      spec.dayOfWeekAny ? '*' : list(spec.dayOfWeek),
    ].join(' ');
    job = new Cron(pattern, { timezone, mode: '6-part', domAndDow: false, paused: true });
    byZone.set(timezone, job);
  }
  return job;
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
  const job = cronJob(spec, timezone);
  const limit = afterMs + SEARCH_YEARS * 366 * DAY;
  for (let t: Date | null = after; ; ) {
    t = job.nextRun(t);
    if (!t || t.getTime() > limit) break;
    if (isUtc(timezone) || isTick(spec, t.getTime(), timezone)) return t;
  }
  throw new Error(
    `cron ${JSON.stringify(spec.source)} has no matching time within ${SEARCH_YEARS} years after ${new Date(afterMs).toISOString()} (${timezone})`,
  );
}
