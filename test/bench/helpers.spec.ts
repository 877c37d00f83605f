// The arithmetic `npm run bench` judges issue 16's goals with: the event-loop window, the per-1,000
// cost of scaling, what makes a cold check run count, and the sample count of an exposition. Pure, fast.

import { describe, expect, it } from "vitest";
import { checkProblem } from "../../bench/check-process.js";
import { growthRatio, perThousand } from "../../bench/scaling.js";
import { countSamples } from "../../bench/scrape.js";
import { LONG_STALL_MS, stallStats } from "../../bench/stalls.js";

describe("stallStats", () => {
  // Ticks every ~1 ms with a 30 ms stall ending at 100, a 60 ms one ending at 300 and a 200 ms one ending at 900.
  const ends = [10, 11, 100, 101, 300, 301, 900, 901];
  const gaps = [1, 1, 89, 1, 199, 1, 599, 1];

  it("counts a stall for the window when it overlaps it, and reports the delay above the tick", () => {
    const scan = stallStats(ends, gaps, 1, 50, 250);
    // The stall from 101 to 300 began inside the window: it counts though it ends after it.
    expect(scan.maxDelayMs).toBe(198);
    expect(scan.maxDelayEndMs).toBe(300);
    expect(scan.ticks).toBe(3);
    expect(scan.longStalls).toBe(2);
  });

  it("leaves out what ended before the window or began after it", () => {
    const scan = stallStats(ends, gaps, 1, 301, 500);
    expect(scan.ticks).toBe(1);
    expect(scan.maxDelayMs).toBe(598);
    expect(stallStats(ends, gaps, 1, 902, 950).ticks).toBe(0);
  });

  it("covers every tick for the whole process", () => {
    const whole = stallStats(ends, gaps, 1, 0, Infinity);
    expect(whole.ticks).toBe(ends.length);
    expect(whole.maxDelayMs).toBe(598);
    expect(whole.longStalls).toBe(gaps.filter((gap) => gap - 1 > LONG_STALL_MS).length);
  });
});

describe("scaling", () => {
  const base = { integrations: 100, wallMs: 1_000, cpuMs: 800, maxRssMb: 100 };
  const at1000 = { integrations: 1_000, wallMs: 4_600, cpuMs: 3_500, maxRssMb: 145 };

  it("prices 1,000 more integrations above the smallest run, so fixed costs are not spread", () => {
    const cost = perThousand(base, at1000);
    expect(cost.wallMs).toBeCloseTo(4_000);
    expect(cost.cpuMs).toBeCloseTo(3_000);
    expect(cost.maxRssMb).toBeCloseTo(50);
  });

  it("is 1 for linear growth and above 1 when the larger account costs more per 1,000", () => {
    const linear = { integrations: 5_100, wallMs: 21_000, cpuMs: 15_800, maxRssMb: 350 };
    for (const ratio of Object.values(growthRatio(base, at1000, linear))) expect(ratio).toBeCloseTo(1);
    const worse = { ...linear, cpuMs: 800 + 5 * 4_500 };
    expect(growthRatio(base, at1000, worse).cpuMs).toBeCloseTo(1.5);
  });

  it("refuses a point that is not larger than the base", () => {
    expect(() => perThousand(at1000, base)).toThrow(RangeError);
  });
});

describe("checkProblem", () => {
  const report = (integrations: number, error: string | null = null) =>
    JSON.stringify({
      accounts: [
        {
          error: null,
          integrations: Array.from({ length: integrations }, () => ({
            error,
            certificates: [{ error: null }, { error: null }],
          })),
        },
      ],
    });
  const expected = { integrations: 3, certificates: 6 };

  it("accepts exit 0, 1 and 2 with every integration listed without errors", () => {
    for (const code of [0, 1, 2])
      expect(checkProblem({ code, stdout: report(3), stderr: "" }, expected)).toBeNull();
  });

  it("refuses UNKNOWN, a missing integration, an error or no JSON", () => {
    expect(checkProblem({ code: 3, stdout: report(3), stderr: "no answer within 7s" }, expected)).toMatch(
      /exit 3 \(UNKNOWN\): no answer within 7s/,
    );
    expect(checkProblem({ code: 2, stdout: report(2), stderr: "" }, expected)).toMatch(/2 of 3 integrations/);
    expect(checkProblem({ code: 2, stdout: report(3, "timeout: late"), stderr: "" }, expected)).toMatch(
      /3 account, integration or certificate errors/,
    );
    expect(checkProblem({ code: 0, stdout: "SENDGRID SSO OK", stderr: "" }, expected)).toMatch(/not a JSON/);
  });
});

describe("countSamples", () => {
  it("counts the lines that are neither comments nor blank", () => {
    const text = '# HELP a A.\n# TYPE a gauge\na{x="1"} 1\na{x="2"} 2\n\n# EOF\nb 3\n';
    expect(countSamples(text)).toBe(3);
  });
});
