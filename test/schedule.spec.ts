// The schedule's run times (src/schedule.ts) against node-cron's own, whose syntax and meaning the
// configuration promises: random expressions with every token node-cron's parse gives (steps, ranges,
// names, L, W, LW, L-n, nL, n#k), from random instants, in UTC and in two time zones with DST changes.
// node-cron is the oracle: its getNextRuns reads the (faked) clock. And the timer that runs a scan:
// on a real clock, with a schedule every second, waiting on the runs themselves.

import fc from "fast-check";
import cron from "node-cron";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CronSchedule, scheduleIntervalMs, scheduleRuns } from "../src/schedule.js";

const FIELDS = {
  second: ["0", "*/15", "5,35", "0-10/5"],
  minute: ["*", "0", "*/5", "0-30/10", "5,35"],
  hour: ["*", "0", "9-17", "*/6", "23"],
  dayOfMonth: ["*", "1", "15", "29", "31", "L", "15W", "1W", "30W", "LW", "L-3", "1,15", "?"],
  month: ["*", "2", "1-6", "*/3", "JAN,JUL", "2,4,12"],
  dayOfWeek: ["*", "1-5", "0", "7", "SUN", "5L", "1#2", "0#5", "MON,FRI"],
};

const expression = fc
  .record({
    seconds: fc.boolean(),
    second: fc.constantFrom(...FIELDS.second),
    minute: fc.constantFrom(...FIELDS.minute),
    hour: fc.constantFrom(...FIELDS.hour),
    dayOfMonth: fc.constantFrom(...FIELDS.dayOfMonth),
    month: fc.constantFrom(...FIELDS.month),
    dayOfWeek: fc.constantFrom(...FIELDS.dayOfWeek),
  })
  .map((f) =>
    [...(f.seconds ? [f.second] : []), f.minute, f.hour, f.dayOfMonth, f.month, f.dayOfWeek].join(" "),
  );

const instant = fc.date({
  min: new Date("2024-01-01T00:00:00Z"),
  max: new Date("2031-12-31T23:59:59Z"),
  noInvalidDate: true,
});

/**
 * node-cron's next run after `from` in the zone of process.env.TZ, or null where it finds none. Named
 * explicitly: node-cron's formatter caches the zone the process had when it was first made.
 */
function nodeCronNext(expr: string, from: Date): Date | null {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(from);
  const task = cron.createTask(expr, () => undefined, { timezone: process.env.TZ ?? "UTC" });
  try {
    return task.getNextRuns(1)[0] ?? null;
  } catch {
    return null;
  } finally {
    void task.destroy();
    vi.useRealTimers();
  }
}

const originalTz = process.env.TZ;

afterEach(() => {
  vi.useRealTimers();
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

/** Within 3 hours of a DST change, where node-cron and this schedule part ways (see below). */
function nearDstChange(at: Date): boolean {
  const hours3 = 3 * 3_600_000;
  return (
    new Date(at.getTime() - hours3).getTimezoneOffset() !==
    new Date(at.getTime() + hours3).getTimezoneOffset()
  );
}

describe("CronSchedule.next, held to node-cron's getNextRuns", () => {
  it.each(["UTC", "Europe/Berlin", "America/New_York"])(
    "agrees on random expressions and instants in %s",
    (tz) => {
      process.env.TZ = tz;
      fc.assert(
        fc.property(expression, instant, (expr, from) => {
          if (!cron.validate(expr)) {
            expect(() => CronSchedule.of(expr)).toThrow();
            return;
          }
          const theirs = nodeCronNext(expr, from);
          fc.pre(!nearDstChange(from) && !(theirs && nearDstChange(theirs)));
          expect(CronSchedule.of(expr).next(from)?.toISOString() ?? null).toBe(theirs?.toISOString() ?? null);
        }),
        { numRuns: 100 },
      );
    },
  );

  // node-cron skips the repeated hour when clocks go back: an every-second schedule pauses for an hour.
  // Here, as in cron: a time the clocks skip does not run that day, a time they repeat runs once, but
  // a schedule that runs every hour runs through the repeated hour.
  describe.each([
    {
      tz: "Europe/Berlin",
      forward: "2026-03-29T00:59:58Z",
      back: "2026-10-25T00:59:58Z",
      skipped: { expr: "30 2 * * *", after: "2026-03-28T12:00:00Z", runs: ["2026-03-30T00:30:00.000Z"] },
      repeated: {
        expr: "30 2 * * *",
        after: "2026-10-24T12:00:00Z",
        runs: ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
      },
    },
    {
      tz: "America/New_York",
      forward: "2026-03-08T06:59:58Z",
      back: "2026-11-01T05:59:58Z",
      skipped: { expr: "30 2 * * *", after: "2026-03-07T12:00:00Z", runs: ["2026-03-09T06:30:00.000Z"] },
      repeated: {
        expr: "30 1 * * *",
        after: "2026-10-31T12:00:00Z",
        runs: ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"],
      },
    },
  ])("across the DST changes of 2026 in $tz", ({ tz, forward, back, skipped, repeated }) => {
    const runs = (expr: string, from: string, count: number): string[] => {
      const schedule = CronSchedule.of(expr);
      const found: string[] = [];
      let at: Date | null = new Date(from);
      while (found.length < count && (at = schedule.next(at))) found.push(at.toISOString());
      return found;
    };
    const seconds = (from: string) =>
      [1, 2, 3, 4].map((n) => new Date(Date.parse(from) + n * 1000).toISOString());

    it("an every-second schedule runs every second, clocks going forward or back", () => {
      process.env.TZ = tz;
      expect(runs("* * * * * *", forward, 4)).toEqual(seconds(forward));
      expect(runs("* * * * * *", back, 4)).toEqual(seconds(back));
    });

    it("a daily time skips the day it does not exist and runs once the day it exists twice", () => {
      process.env.TZ = tz;
      expect(runs(skipped.expr, skipped.after, 1)).toEqual(skipped.runs);
      expect(runs(repeated.expr, repeated.after, 2)).toEqual(repeated.runs);
    });
  });

  it("throws node-cron's message for an expression node-cron refuses", () => {
    expect(() => CronSchedule.of("61 * * * *")).toThrow(
      cron.validateDetailed("61 * * * *").errors[0]!.message,
    );
  });

  it("gives the interval between two runs", () => {
    expect(scheduleIntervalMs("*/5 * * * *", new Date("2026-11-30T12:01:00Z"))).toBe(300_000);
    expect(scheduleIntervalMs("*/10 * * * * *", new Date("2026-11-30T12:01:00Z"))).toBe(10_000);
  });
});

describe("scheduleRuns", () => {
  it("runs at each second of an every-second schedule, on the second, until stopped", async () => {
    const runs: number[] = [];
    const runs3 = new Promise<void>((resolve) => {
      const scheduled = scheduleRuns("* * * * * *", () => {
        runs.push(Date.now());
        if (runs.length === 3) {
          scheduled.stop();
          resolve();
        }
      });
    });
    await runs3;
    // Never early: each run is at or after a whole second, each in a second of its own.
    const seconds = runs.map((at) => Math.floor(at / 1000));
    expect(new Set(seconds).size).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(runs).toHaveLength(3);
  });
});
