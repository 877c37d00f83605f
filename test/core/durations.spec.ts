import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  DurationError,
  formatDuration,
  HOUR_MS,
  MINUTE_MS,
  parseDuration,
  SECOND_MS,
  WEEK_MS,
} from "../../src/core/durations.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["0s", 0],
    ["90s", 90 * SECOND_MS],
    ["15m", 15 * MINUTE_MS],
    ["24h", 24 * HOUR_MS],
    ["30d", 30 * DAY_MS],
    ["2w", 2 * WEEK_MS],
    ["1h30m", HOUR_MS + 30 * MINUTE_MS],
    ["1d 4h", DAY_MS + 4 * HOUR_MS],
    ["1w2d3h4m5s6ms", WEEK_MS + 2 * DAY_MS + 3 * HOUR_MS + 4 * MINUTE_MS + 5 * SECOND_MS + 6],
    ["  7d ", 7 * DAY_MS],
  ])("reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["30x", null],
    ["", null],
    ["d", null],
    ["1.5h", null],
    ["1 h", null],
    ["30D", null],
    ["1h1h", "units must go from largest to smallest, each at most once"],
    ["30m1h", "units must go from largest to smallest, each at most once"],
    ["30", "missing unit"],
    ["-5m", "negative durations are not allowed"],
    ["99999999999999999999d", "too long"],
  ])("rejects %j", (text, detail) => {
    let caught: unknown;
    try {
      parseDuration(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DurationError);
    const error = caught as DurationError;
    expect(error.code).toBe("ERR_DURATION");
    expect(error.input).toBe(text);
    expect(error.detail).toBe(detail);
    const why = detail === null ? "" : `: ${detail}`;
    expect(error.message).toBe(
      `${JSON.stringify(text)} is not a duration${why} (use e.g. 90s, 15m, 24h, 30d)`,
    );
  });

  it("shortens a very long input in its message", () => {
    expect(() => parseDuration("x".repeat(500))).toThrow(`"${"x".repeat(40)}…" is not a duration`);
  });
});

describe("formatDuration", () => {
  it.each([
    [29 * DAY_MS + 4 * HOUR_MS + 59 * MINUTE_MS, "29d 4h"],
    [3 * HOUR_MS + 12 * MINUTE_MS + 30 * SECOND_MS, "3h 12m"],
    [45 * SECOND_MS + 999, "45s"],
    [90 * SECOND_MS, "1m 30s"],
    [DAY_MS + 5 * MINUTE_MS, "1d"],
    [14 * DAY_MS, "14d"],
    [500, "500ms"],
    [0, "0s"],
    [0.4, "0s"],
    [-0.4, "0s"],
    [-(2 * DAY_MS + 3 * HOUR_MS), "-2d 3h"],
    [-999, "-999ms"],
    [Number.NaN, "unknown"],
    [Number.POSITIVE_INFINITY, "∞"],
    [Number.NEGATIVE_INFINITY, "-∞"],
  ])("writes %d ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

// The pairs formatDuration writes: [major unit, how many of it fit in the next unit up, minor unit,
// how many minor units make one major].
const UNIT_PAIRS = [
  [DAY_MS, 100_000, HOUR_MS, 24],
  [HOUR_MS, 24, MINUTE_MS, 60],
  [MINUTE_MS, 60, SECOND_MS, 60],
] as const;

describe("properties", () => {
  it("parse(format(ms)) gives ms back for every value made of two adjacent whole units", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...UNIT_PAIRS),
        fc.nat(),
        fc.nat(),
        ([major, majorLimit, minor, ratio], count, rest) => {
          const ms = (count % majorLimit) * major + (rest % ratio) * minor;
          expect(parseDuration(formatDuration(ms))).toBe(ms);
        },
      ),
    );
  });

  it("parse(format(ms)) gives ms back for whole seconds under a minute and for sub-second values", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999 }), (seconds, ms) => {
        expect(parseDuration(formatDuration(seconds * SECOND_MS))).toBe(seconds * SECOND_MS);
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it("formatting never overstates time left and is stable when read back", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        const text = formatDuration(ms);
        const back = parseDuration(text);
        expect(back).toBeLessThanOrEqual(ms);
        expect(formatDuration(back)).toBe(text);
        expect(formatDuration(-ms)).toBe(ms === 0 ? "0s" : `-${text}`);
      }),
    );
  });

  it("formatDuration never throws on any number", () => {
    fc.assert(
      fc.property(fc.double(), (ms) => {
        expect(typeof formatDuration(ms)).toBe("string");
      }),
    );
  });

  it("parseDuration either returns a non-negative safe integer or throws DurationError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9wdhms ]{0,12}$/)), (text) => {
        try {
          const ms = parseDuration(text);
          expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(DurationError);
        }
      }),
    );
  });
});
