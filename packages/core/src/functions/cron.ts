import { invalidArgument } from '../errors.js';

/**
 * The portable schedule dialect is unix cron: five fields `minute hour day-of-month month
 * day-of-week`, with `*`, lists `a,b`, ranges `a-b`, steps `x/n`, month names JAN–DEC and day
 * names SUN–SAT (0 and 7 are Sunday), in UTC. Every platform's dialect is derived from it.
 */
export interface CronSpec {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  /** Field text as written (names upper-cased, Sunday 7 kept), for dialect conversion. */
  readonly fields: readonly [string, string, string, string, string];
  readonly dayRestricted: boolean;
  readonly weekdayRestricted: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELD = [
  { name: 'minute', min: 0, max: 59, names: undefined },
  { name: 'hour', min: 0, max: 23, names: undefined },
  { name: 'day-of-month', min: 1, max: 31, names: undefined },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS },
] as const;

function bad(expression: string, why: string) {
  return invalidArgument(
    `schedule "${expression}" is not a portable cron expression (unix cron: "minute hour day-of-month month day-of-week", UTC): ${why}`,
    { service: 'functions', operation: 'schedule' },
  );
}

/**
 * Parses and checks a unix cron expression; throws INVALID_ARGUMENT saying what is wrong.
 *
 * @example
 * const nightly = parseCron('0 3 * * *');
 * parseCron('0 25 * * *'); // INVALID_ARGUMENT: hour value "25" is outside 0-23
 */
export function parseCron(expression: string): CronSpec {
  if (typeof expression !== 'string') throw bad(String(expression), 'it must be a string');
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw bad(
      expression,
      `it has ${parts.length} fields, not 5${parts.length === 6 ? ' (seconds and years are not portable)' : ''}`,
    );
  }
  const sets = parts.map((text, i) => {
    const f = FIELD[i]!;
    const out = new Set<number>();
    for (const item of text.toUpperCase().split(',')) {
      const [range, stepText] = item.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      if (!Number.isInteger(step) || step < 1) throw bad(expression, `bad step in ${f.name} "${item}"`);
      let lo: number;
      let hi: number;
      if (range === '*') {
        lo = f.min;
        hi = f.name === 'day-of-week' ? 6 : f.max;
      } else {
        const [a, b] = range!.split('-');
        lo = value(a, f, expression);
        hi = b === undefined ? (stepText === undefined ? lo : f.max) : value(b, f, expression);
      }
      if (lo > hi) throw bad(expression, `range "${item}" in ${f.name} runs backwards`);
      for (let v = lo; v <= hi; v += step) out.add(f.name === 'day-of-week' && v === 7 ? 0 : v);
    }
    return out;
  });
  const upper = parts.map((p) => p.toUpperCase()) as [string, string, string, string, string];
  return {
    expression,
    minutes: sets[0]!,
    hours: sets[1]!,
    days: sets[2]!,
    months: sets[3]!,
    weekdays: sets[4]!,
    fields: upper,
    dayRestricted: upper[2] !== '*',
    weekdayRestricted: upper[4] !== '*',
  };
}

function value(text: string | undefined, f: (typeof FIELD)[number], expression: string): number {
  if (text === undefined || text === '') throw bad(expression, `empty value in ${f.name}`);
  const named = f.names?.indexOf(text as never) ?? -1;
  const v = named >= 0 ? named + (f.name === 'month' ? 1 : 0) : Number(text);
  if (!Number.isInteger(v) || v < f.min || v > f.max) {
    throw bad(expression, `${f.name} value "${text}" is outside ${f.min}-${f.max}`);
  }
  return v;
}

/**
 * Whether the schedule fires in the UTC minute of `date`. Day fields follow cron's OR rule.
 *
 * @example
 * cronMatches(parseCron('0 3 * * *'), new Date('2026-01-02T03:00:30Z')); // true
 */
export function cronMatches(spec: CronSpec, date: Date): boolean {
  if (!spec.minutes.has(date.getUTCMinutes()) || !spec.hours.has(date.getUTCHours())) return false;
  if (!spec.months.has(date.getUTCMonth() + 1)) return false;
  const dom = spec.days.has(date.getUTCDate());
  const dow = spec.weekdays.has(date.getUTCDay());
  if (spec.dayRestricted && spec.weekdayRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The first minute strictly after `after` at which the schedule fires.
 *
 * @example
 * nextCronTime(parseCron('0 3 * * *'), new Date('2026-01-01T12:00:00Z'));
 * // 2026-01-02T03:00:00.000Z
 */
export function nextCronTime(spec: CronSpec, after: Date): Date {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  // Five years of minutes bounds a schedule such as "0 0 29 2 *" (leap days).
  for (let i = 0; i < 5 * 366 * 24 * 60; i++) {
    if (cronMatches(spec, t)) return t;
    t.setUTCMinutes(t.getUTCMinutes() + 1);
  }
  throw bad(spec.expression, 'it never fires');
}

/**
 * The EventBridge form `cron(min hour dom month dow year)`. EventBridge numbers days 1–7 from
 * Sunday and cannot restrict both day fields, so such a schedule is rejected.
 *
 * @example
 * toEventBridgeCron('0 3 * * 1-5'); // 'cron(0 3 ? * 2-6 *)'
 */
export function toEventBridgeCron(expression: string): string {
  const spec = parseCron(expression);
  const [min, hour, dom, month, dow] = spec.fields;
  if (spec.dayRestricted && spec.weekdayRestricted) {
    throw invalidArgument(
      `schedule "${expression}" restricts both day-of-month and day-of-week, which EventBridge cannot express; use two schedules`,
      { service: 'functions', operation: 'schedule' },
    );
  }
  const ebDow = spec.weekdayRestricted ? shiftWeekdays(dow) : '?';
  const ebDom = spec.weekdayRestricted ? '?' : dom;
  return `cron(${min} ${hour} ${ebDom} ${month} ${ebDow} *)`;
}

/** Numeric weekdays 0–7 (Sunday 0/7) to EventBridge's 1–7 (Sunday 1); names stay. */
function shiftWeekdays(field: string): string {
  return field.replace(/\d+/g, (d, offset: number, whole: string) => {
    // A step count after '/' is not a weekday.
    if (whole[offset - 1] === '/') return d;
    return String((Number(d) % 7) + 1);
  });
}

/**
 * The Azure timer form (NCRONTAB, six fields with seconds first).
 *
 * @example
 * toNcrontab('30 2 * * 1'); // '0 30 2 * * 1'
 */
export function toNcrontab(expression: string): string {
  const spec = parseCron(expression);
  return `0 ${spec.fields.join(' ')}`;
}

/**
 * Cloud Scheduler takes unix cron as is (with time zone "Etc/UTC"); this checks it.
 *
 * @example
 * toUnixCron('0 3 * * *'); // '0 3 * * *'
 */
export function toUnixCron(expression: string): string {
  return parseCron(expression).fields.join(' ');
}
