/**
 * src/server/cron.ts: parsing (6 and 5 fields, names, steps, errors) and nextTick in UTC and in
 * IANA timezones across DST changes, checked against hand-computed instants and a brute-force
 * minute-by-minute oracle.
 */
import { describe, expect, it } from 'vitest';
import { nextTick, parseCron, type CronSpec } from '../src/server/cron.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string, tz?: string) => nextTick(parseCron(expr), at(after), tz).toISOString();

/** The next `count` ticks after `after`. */
function ticks(expr: string, after: string, count: number, tz?: string): string[] {
  const spec = parseCron(expr);
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < count; i++) {
    t = nextTick(spec, t, tz);
    out.push(t.toISOString());
  }
  return out;
}

describe('parseCron', () => {
  it('parses 6 fields, wildcards, lists, ranges and steps', () => {
    const s = parseCron('*/15 0,30 8-10 1-31/10 * ?');
    expect(s.second).toEqual([0, 15, 30, 45]);
    expect(s.minute).toEqual([0, 30]);
    expect(s.hour).toEqual([8, 9, 10]);
    expect(s.dayOfMonth).toEqual([1, 11, 21, 31]);
    expect(s.month).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(s.dayOfWeek).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(s.dayOfMonthAny).toBe(false);
    expect(s.dayOfWeekAny).toBe(true); // '?' is '*'
  });

  it('parses `a/n` as a..max step n, and dedupes/sorts lists', () => {
    expect(parseCron('0 5/20 * * * *').minute).toEqual([5, 25, 45]);
    expect(parseCron('0 0 23,1,1,12 * * *').hour).toEqual([1, 12, 23]);
  });

  it('accepts month and weekday names (case-insensitive), 0 and 7 = Sunday', () => {
    expect(parseCron('0 0 0 1 jan,Jul,DEC *').month).toEqual([1, 7, 12]);
    expect(parseCron('0 0 0 * FEB-APR *').month).toEqual([2, 3, 4]);
    expect(parseCron('0 0 9 * * MON-FRI').dayOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 0 9 * * SUN').dayOfWeek).toEqual([0]);
    expect(parseCron('0 0 9 * * 7').dayOfWeek).toEqual([0]);
    expect(parseCron('0 0 9 * * 5-7').dayOfWeek).toEqual([0, 5, 6]);
    expect(parseCron('0 0 9 * * sat,sun').dayOfWeek).toEqual([0, 6]);
  });

  it('accepts 5-field expressions with seconds = 0', () => {
    const s = parseCron('*/5 * * * *');
    expect(s.second).toEqual([0]);
    expect(s.minute).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]);
  });

  it('rejects bad fields with a one-line message naming the field', () => {
    const bad = (expr: string) => () => parseCron(expr);
    expect(bad('0 61 * * * *')).toThrow('invalid cron "0 61 * * * *": minute 61 out of range 0-59');
    expect(bad('60 * * * * *')).toThrow('second 60 out of range 0-59');
    expect(bad('0 0 24 * * *')).toThrow('hour 24 out of range 0-23');
    expect(bad('0 0 0 0 * *')).toThrow('day-of-month 0 out of range 1-31');
    expect(bad('0 0 0 32 * *')).toThrow('day-of-month 32 out of range 1-31');
    expect(bad('0 0 0 * 13 *')).toThrow('month 13 out of range 1-12');
    expect(bad('0 0 0 * * 8')).toThrow('day-of-week 8 out of range 0-7');
    expect(bad('0 0 0 * FOO *')).toThrow('month "FOO" is not a number or name');
    expect(bad('0 0 0 * * MON#2')).toThrow(/day-of-week "MON#2" is not a number or name/);
    expect(bad('0 0 0 L * *')).toThrow('day-of-month "L" is not a number');
    expect(bad('0 */0 * * * *')).toThrow('minute step "0" must be a positive integer');
    expect(bad('0 0 5-2 * * *')).toThrow('hour range 5-2 is reversed');
    expect(bad('0 0 1,,2 * * *')).toThrow('hour "1,,2" has an empty list item');
    expect(bad('0 0 1-2-3 * * *')).toThrow('hour "1-2-3" is not a valid range');
    expect(bad('* * * *')).toThrow(/expected 6 fields .* or 5, got 4/);
    expect(bad('0 0 0 * * * 2024')).toThrow(/got 7/);
    expect(bad('')).toThrow(/got 0/);
    for (const expr of ['0 61 * * * *', '0 0 0 * FOO *', '* * * *']) {
      try {
        parseCron(expr);
      } catch (e) {
        expect(String((e as Error).message)).not.toContain('\n');
        expect(e).toBeInstanceOf(Error);
      }
    }
  });
});

describe('nextTick in UTC', () => {
  it('every 5 seconds, strictly after', () => {
    expect(ticks('*/5 * * * * *', '2024-05-01T10:00:00.000Z', 4)).toEqual([
      '2024-05-01T10:00:05.000Z',
      '2024-05-01T10:00:10.000Z',
      '2024-05-01T10:00:15.000Z',
      '2024-05-01T10:00:20.000Z',
    ]);
    expect(next('*/5 * * * * *', '2024-05-01T10:00:04.999Z')).toBe('2024-05-01T10:00:05.000Z');
    expect(next('*/5 * * * * *', '2024-05-01T10:00:05.001Z')).toBe('2024-05-01T10:00:10.000Z');
    expect(next('*/5 * * * * *', '2024-12-31T23:59:59.500Z')).toBe('2025-01-01T00:00:00.000Z');
  });

  it('0 0 8 * * * daily at 08:00', () => {
    expect(ticks('0 0 8 * * *', '2024-05-01T07:59:59Z', 3)).toEqual([
      '2024-05-01T08:00:00.000Z',
      '2024-05-02T08:00:00.000Z',
      '2024-05-03T08:00:00.000Z',
    ]);
    expect(next('0 0 8 * * *', '2024-05-01T08:00:00Z')).toBe('2024-05-02T08:00:00.000Z');
    expect(next('0 0 8 * * *', '2024-12-31T09:00:00Z')).toBe('2025-01-01T08:00:00.000Z');
  });

  it('weekday names and ranges', () => {
    // 2024-05-03 is a Friday.
    expect(ticks('0 0 9 * * MON-FRI', '2024-05-03T09:00:00Z', 2)).toEqual([
      '2024-05-06T09:00:00.000Z',
      '2024-05-07T09:00:00.000Z',
    ]);
    expect(next('0 0 9 * * SUN', '2024-05-03T00:00:00Z')).toBe('2024-05-05T09:00:00.000Z');
    expect(next('0 0 9 * * 7', '2024-05-03T00:00:00Z')).toBe('2024-05-05T09:00:00.000Z');
    expect(next('0 30 18 * * sat', '2024-05-03T00:00:00Z')).toBe('2024-05-04T18:30:00.000Z');
  });

  it('steps and lists', () => {
    expect(ticks('0 */15 * * * *', '2024-05-01T10:07:00Z', 3)).toEqual([
      '2024-05-01T10:15:00.000Z',
      '2024-05-01T10:30:00.000Z',
      '2024-05-01T10:45:00.000Z',
    ]);
    expect(ticks('0 5/20 * * * *', '2024-05-01T10:50:00Z', 3)).toEqual([
      '2024-05-01T11:05:00.000Z',
      '2024-05-01T11:25:00.000Z',
      '2024-05-01T11:45:00.000Z',
    ]);
    expect(ticks('0 0 9,17 * * *', '2024-05-01T12:00:00Z', 3)).toEqual([
      '2024-05-01T17:00:00.000Z',
      '2024-05-02T09:00:00.000Z',
      '2024-05-02T17:00:00.000Z',
    ]);
    expect(ticks('0 0 0-12/6 * * *', '2024-05-01T00:00:00Z', 3)).toEqual([
      '2024-05-01T06:00:00.000Z',
      '2024-05-01T12:00:00.000Z',
      '2024-05-02T00:00:00.000Z',
    ]);
    expect(next('0 0 0 1 JAN,JUL *', '2024-02-01T00:00:00Z')).toBe('2024-07-01T00:00:00.000Z');
    expect(next('*/5 * * * *', '2024-05-01T10:07:30Z')).toBe('2024-05-01T10:10:00.000Z'); // 5 fields
  });

  it('day-of-month and day-of-week: either matches when both are restricted', () => {
    // The 13th, or any Friday. 2024-09-06 and 2024-09-13 are Fridays.
    expect(ticks('0 0 0 13 * FRI', '2024-09-01T00:00:00Z', 3)).toEqual([
      '2024-09-06T00:00:00.000Z',
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
    ]);
    expect(next('0 0 0 1 * MON', '2024-09-03T00:00:00Z')).toBe('2024-09-09T00:00:00.000Z');
    expect(next('0 0 0 1 * *', '2024-09-03T00:00:00Z')).toBe('2024-10-01T00:00:00.000Z');
    expect(next('0 0 0 ? * MON', '2024-09-03T00:00:00Z')).toBe('2024-09-09T00:00:00.000Z');
    expect(next('0 0 0 */2 * MON', '2024-09-03T00:00:00Z')).toBe('2024-09-05T00:00:00.000Z');
  });

  it('Feb 29 only in leap years; skips months without day 31', () => {
    expect(next('0 0 12 29 2 *', '2025-01-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(next('0 0 12 29 2 *', '2024-02-29T12:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(next('0 0 12 29 FEB *', '2023-06-01T00:00:00Z')).toBe('2024-02-29T12:00:00.000Z');
    expect(next('0 0 0 31 * *', '2024-04-01T00:00:00Z')).toBe('2024-05-31T00:00:00.000Z');
    expect(next('59 59 23 31 12 *', '2024-01-01T00:00:00Z')).toBe('2024-12-31T23:59:59.000Z');
  });

  it('throws for impossible dates after ~5 years', () => {
    expect(() => next('0 0 0 30 2 *', '2024-01-01T00:00:00Z')).toThrow(
      'cron "0 0 0 30 2 *" has no matching time within 5 years after 2024-01-01T00:00:00.000Z (UTC)',
    );
    expect(() => next('0 0 0 31 4,6,9,11 *', '2024-01-01T00:00:00Z', 'Europe/Paris')).toThrow(/no matching time within 5 years/);
  });

  it('rejects an unknown timezone and an invalid date', () => {
    expect(() => next('* * * * * *', '2024-01-01T00:00:00Z', 'Mars/Olympus_Mons')).toThrow(
      'unknown timezone "Mars/Olympus_Mons"',
    );
    expect(() => nextTick(parseCron('* * * * * *'), new Date('nope'))).toThrow(/invalid "after" date/);
  });
});

describe('nextTick in IANA timezones', () => {
  it('0 0 8 * * * in Europe/Paris across the spring and autumn DST changes', () => {
    // 2024-03-31 02:00 CET -> 03:00 CEST; 2024-10-27 03:00 CEST -> 02:00 CET.
    expect(ticks('0 0 8 * * *', '2024-03-29T12:00:00Z', 3, 'Europe/Paris')).toEqual([
      '2024-03-30T07:00:00.000Z', // 08:00 CET (+01)
      '2024-03-31T06:00:00.000Z', // 08:00 CEST (+02)
      '2024-04-01T06:00:00.000Z',
    ]);
    expect(ticks('0 0 8 * * *', '2024-10-25T12:00:00Z', 3, 'Europe/Paris')).toEqual([
      '2024-10-26T06:00:00.000Z',
      '2024-10-27T07:00:00.000Z',
      '2024-10-28T07:00:00.000Z',
    ]);
  });

  it('skips wall-clock times that do not exist (DST gap)', () => {
    // 02:30 does not exist in Paris on 2024-03-31.
    expect(ticks('0 30 2 * * *', '2024-03-29T12:00:00Z', 3, 'Europe/Paris')).toEqual([
      '2024-03-30T01:30:00.000Z',
      '2024-04-01T00:30:00.000Z',
      '2024-04-02T00:30:00.000Z',
    ]);
    // Fine-grained schedules jump straight over the gap (no hour of wasted iterations).
    expect(ticks('*/20 * * * * *', '2024-03-31T00:59:20Z', 3, 'Europe/Paris')).toEqual([
      '2024-03-31T00:59:40.000Z', // 01:59:40 CET
      '2024-03-31T01:00:00.000Z', // 03:00:00 CEST
      '2024-03-31T01:00:20.000Z',
    ]);
    // Lord Howe Island moves by 30 minutes: 02:00 -> 02:30 (+10:30 -> +11) on 2024-10-06.
    expect(ticks('0 15,45 2 * * *', '2024-10-05T00:00:00Z', 3, 'Australia/Lord_Howe')).toEqual([
      '2024-10-05T15:45:00.000Z', // 10-06 02:45 +11 (02:15 does not exist)
      '2024-10-06T15:15:00.000Z', // 10-07 02:15 +11
      '2024-10-06T15:45:00.000Z',
    ]);
  });

  it('fires an ambiguous wall-clock time once, at its first occurrence (DST overlap)', () => {
    // 02:30 happens twice in Paris on 2024-10-27: 00:30Z (CEST) and 01:30Z (CET).
    expect(ticks('0 30 2 * * *', '2024-10-26T12:00:00Z', 2, 'Europe/Paris')).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
    // From inside the repeated hour, the repeated wall times are not fired again.
    // 01:05Z is 02:05 CET (second pass): 02:10..02:59 already fired (CEST), next is 03:00 CET.
    expect(next('0 */10 * * * *', '2024-10-27T01:05:00Z', 'Europe/Paris')).toBe('2024-10-27T02:00:00.000Z');
    expect(next('*/5 * * * * *', '2024-10-27T01:59:58Z', 'Europe/Paris')).toBe('2024-10-27T02:00:00.000Z');
    // A tick stream crosses the autumn change without repeating wall times.
    expect(ticks('0 0,30 * * * *', '2024-10-26T23:45:00Z', 4, 'Europe/Paris')).toEqual([
      '2024-10-27T00:00:00.000Z', // 02:00 CEST
      '2024-10-27T00:30:00.000Z', // 02:30 CEST
      '2024-10-27T02:00:00.000Z', // 03:00 CET (02:00 and 02:30 CET are repeats)
      '2024-10-27T02:30:00.000Z',
    ]);
    expect(next('0 0 3 * * *', '2024-10-27T01:05:00Z', 'Europe/Paris')).toBe('2024-10-27T02:00:00.000Z');
  });

  it('America/New_York and Asia/Kolkata (+05:30, no DST)', () => {
    // 2024-03-10 02:00 EST -> 03:00 EDT.
    expect(ticks('0 0 9 * * MON-FRI', '2024-03-08T15:00:00Z', 2, 'America/New_York')).toEqual([
      '2024-03-11T13:00:00.000Z',
      '2024-03-12T13:00:00.000Z',
    ]);
    expect(next('0 0 9 * * *', '2024-03-08T15:00:00Z', 'Asia/Kolkata')).toBe('2024-03-09T03:30:00.000Z');
  });

  it('agrees with a brute-force minute-by-minute oracle around DST changes', () => {
    const tz = 'Europe/Paris';
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const cache = new Map<number, { mo: number; d: number; h: number; mi: number; dow: number; key: string }>();
    const wall = (t: number) => {
      const hit = cache.get(t);
      if (hit) return hit;
      const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
      const w = { mo: +p.month!, d: +p.day!, h: +p.hour! % 24, mi: +p.minute!, dow: days.indexOf(p.weekday!), key: `${p.month}/${p.day} ${p.hour}:${p.minute}` };
      cache.set(t, w);
      return w;
    };
    const matches = (spec: CronSpec, t: number) => {
      const w = wall(t);
      if (wall(t - 3_600_000).key === w.key) return false; // not the first occurrence
      const dom = spec.dayOfMonth.includes(w.d);
      const dow = spec.dayOfWeek.includes(w.dow);
      const day = spec.dayOfMonthAny ? (spec.dayOfWeekAny ? true : dow) : spec.dayOfWeekAny ? dom : dom || dow;
      return day && spec.month.includes(w.mo) && spec.hour.includes(w.h) && spec.minute.includes(w.mi);
    };
    const exprs = ['0 */7 * * * *', '0 0,30 1-3 * * *', '0 15 2 * * SAT,SUN', '0 45 */2 27,31 * *', '0 0 3 * * *'];
    const starts = ['2024-03-30T20:00:00Z', '2024-03-31T00:59:00Z', '2024-10-26T20:00:00Z', '2024-10-27T00:59:00Z', '2024-10-27T01:05:00Z', '2024-10-27T01:59:00Z'];
    for (const start of starts) {
      for (const expr of exprs) {
        const spec = parseCron(expr);
        let t = Date.parse(start);
        for (let i = 0; i < 4; i++) {
          let brute = t + 60_000;
          while (!matches(spec, brute)) brute += 60_000;
          const got = nextTick(spec, new Date(t), tz).getTime();
          expect(new Date(got).toISOString(), `${expr} after ${new Date(t).toISOString()}`).toBe(new Date(brute).toISOString());
          t = got;
        }
      }
    }
  });

  it('is efficient: skips by fields, not by seconds', () => {
    const rare = parseCron('59 59 23 29 2 *');
    const frequent = parseCron('*/5 * * * * *');
    // The CPU time this process spends, not the wall clock: a loaded machine does not fail it.
    const t0 = process.cpuUsage();
    for (let i = 0; i < 200; i++) {
      nextTick(rare, new Date(Date.UTC(2024, 2, 1) + i * 3_600_000), 'Europe/Paris');
      nextTick(frequent, new Date(Date.UTC(2024, 2, 31) + i * 997), 'Europe/Paris');
    }
    expect(() => nextTick(parseCron('0 0 0 30 2 *'), new Date(), 'America/New_York')).toThrow(/5 years/);
    const used = process.cpuUsage(t0);
    expect((used.user + used.system) / 1000).toBeLessThan(2000);
  });
});
