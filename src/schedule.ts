// When a node-cron expression runs, in local time, and a timer that runs something then. node-cron
// defines the syntax: its parse() expands each field and config/schema.ts validates with it. Its
// scheduler is not used: node-cron 4 reads the time at every tick through Intl.DateTimeFormat, which maps
// ICU's data into the process, 8-15 MB of a daemon's memory for formatting dates no one reads
// (docs/performance.md). Here the same fields are matched with Date's local-time getters;
// test/schedule.spec.ts holds the results to node-cron's own getNextRun.

import { parse } from "node-cron";

/** A day of month (day 1..31) and day of week (0 = Sunday) of a local date, with its month's length. */
interface Day {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: number;
  readonly daysInMonth: number;
}

type DayTest = (day: Day) => boolean;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Far enough for any expression that can match at all: 29 February on a Monday recurs within 28 years. */
const SEARCH_DAYS = 366 * 29;
/** setTimeout's longest wait; a longer one is waited in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday (Monday to Friday) nearest `target` without leaving the month. */
function nearestWeekday(target: number, { year, month, daysInMonth }: Day): number {
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === daysInMonth ? target - 2 : target + 1;
  return target;
}

/** A day-of-month value of node-cron's parse(): a day, `L`, `15W`, `LW` or `L-3`. */
function dayOfMonthTest(value: number | string): DayTest {
  if (typeof value === "number") return (d) => d.day === value;
  if (value === "L") return (d) => d.day === d.daysInMonth;
  const weekday = /^(\d{1,2}|L)W$/.exec(value);
  if (weekday) {
    const target = weekday[1]!;
    return (d) => {
      const day = target === "L" ? d.daysInMonth : Number(target);
      return day <= d.daysInMonth && nearestWeekday(day, d) === d.day;
    };
  }
  const beforeLast = /^L-(\d{1,2})$/.exec(value);
  if (beforeLast) return (d) => d.day === d.daysInMonth - Number(beforeLast[1]);
  throw new Error(`day of month "${value}" is not one node-cron's parse gives`);
}

/** A day-of-week value of node-cron's parse(): a weekday (0 = Sunday), `5L` or `5#2`. */
function dayOfWeekTest(value: number | string): DayTest {
  if (typeof value === "number") return (d) => d.weekday === value % 7;
  const last = /^([0-7])L$/.exec(value);
  if (last) return (d) => d.weekday === Number(last[1]) % 7 && d.day + 7 > d.daysInMonth;
  const nth = /^([0-7])#([1-5])$/.exec(value);
  if (nth) return (d) => d.weekday === Number(nth[1]) % 7 && Math.ceil(d.day / 7) === Number(nth[2]);
  throw new Error(`day of week "${value}" is not one node-cron's parse gives`);
}

const anyOf =
  (tests: readonly DayTest[]): DayTest =>
  (day) =>
    tests.some((test) => test(day));

export class CronSchedule {
  private constructor(
    private readonly seconds: readonly number[],
    private readonly minutes: readonly number[],
    private readonly hours: readonly number[],
    private readonly months: ReadonlySet<number>,
    private readonly dayOfMonth: DayTest,
    private readonly dayOfWeek: DayTest,
  ) {}

  /** The expression as node-cron reads it; throws node-cron's message for one it rejects. */
  static of(expression: string): CronSchedule {
    const fields = parse(expression);
    const ascending = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);
    return new CronSchedule(
      ascending(fields.second),
      ascending(fields.minute),
      ascending(fields.hour),
      new Set(fields.month),
      anyOf(fields.dayOfMonth.map(dayOfMonthTest)),
      anyOf(fields.dayOfWeek.map(dayOfWeekTest)),
    );
  }

  /** The first run strictly after `after`, to the second; null if none within 29 years. */
  next(after: Date): Date | null {
    const from = new Date(after.getFullYear(), after.getMonth(), after.getDate());
    for (let offset = 0; offset < SEARCH_DAYS; offset++) {
      // Noon steps over a DST change safely; the date is then read back in local time.
      const noon = new Date(from.getTime() + offset * DAY_MS + DAY_MS / 2);
      const year = noon.getFullYear();
      const month = noon.getMonth() + 1;
      const day = noon.getDate();
      const date: Day = {
        year,
        month,
        day,
        weekday: noon.getDay(),
        daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
      };
      if (!this.months.has(month) || !this.dayOfMonth(date) || !this.dayOfWeek(date)) continue;
      const found = this.firstTimeOn(date, after);
      if (found) return found;
    }
    return null;
  }

  /**
   * Local times around DST changes, as cron has long treated them: a time the clocks skip does not run
   * that day; a time they repeat runs at its first occurrence, and again at its second only in a schedule
   * that runs every hour, which would otherwise pause for an hour.
   */
  private firstTimeOn({ year, month, day }: Day, after: Date): Date | null {
    const everyHour = this.hours.length === 24;
    // A repeated time's second occurrence may come before a later time's first: the earliest wins.
    let second: Date | null = null;
    for (const hour of this.hours) {
      for (const minute of this.minutes) {
        for (const sec of this.seconds) {
          const at = new Date(year, month - 1, day, hour, minute, sec);
          // A time that does not exist that day comes back as another.
          if (at.getHours() !== hour || at.getMinutes() !== minute || at.getDate() !== day) continue;
          if (at > after) return second && second < at ? second : at;
          if (!everyHour || second) continue;
          const again = new Date(at.getTime() + HOUR_MS);
          if (again > after && again.getHours() === hour && again.getMinutes() === minute) second = again;
        }
      }
    }
    return second;
  }
}

/** The interval between two runs after `from` (the first rotation backoff step is one interval). */
export function scheduleIntervalMs(expression: string, from: Date = new Date()): number {
  const schedule = CronSchedule.of(expression);
  const first = schedule.next(from);
  const second = first && schedule.next(first);
  return first && second ? second.getTime() - first.getTime() : 60_000;
}

export interface ScheduledRuns {
  stop(): void;
}

/**
 * Calls `run` (which must not throw) at each time of `expression`, from now until stop(). Runs missed
 * while the process was suspended or the clock jumped forward are not made up: the next run is the next
 * one after now.
 */
export function scheduleRuns(expression: string, run: () => void): ScheduledRuns {
  const schedule = CronSchedule.of(expression);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const waitFor = (due: Date) => {
    if (stopped) return;
    const left = due.getTime() - Date.now();
    timer = setTimeout(
      () => {
        if (Date.now() < due.getTime()) return waitFor(due); // a wait in steps, or the clock went back
        armAfter(new Date(Math.max(Date.now(), due.getTime())));
        run();
      },
      Math.min(Math.max(0, left), MAX_TIMER_MS),
    );
  };
  const armAfter = (after: Date) => {
    const due = schedule.next(after);
    if (due) waitFor(due);
  };
  armAfter(new Date());
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
