import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mapBounded } from "../../src/scan/map-bounded.js";

describe("mapBounded", () => {
  it("keeps item order and never has more than `limit` steps under way", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 3 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        async (delays, limit) => {
          let running = 0;
          let most = 0;
          const results = await mapBounded(delays, limit, async (delay) => {
            running++;
            most = Math.max(most, running);
            for (let i = 0; i < delay; i++) await Promise.resolve();
            running--;
            return delay * 2;
          });
          expect(results).toEqual(delays.map((delay) => delay * 2));
          expect(most).toBeLessThanOrEqual(limit);
          if (delays.length >= limit && delays.every((delay) => delay > 0)) expect(most).toBe(limit);
        },
      ),
    );
  });

  it("fails as the first failing step does", async () => {
    await expect(
      mapBounded([1, 2, 3], 2, (n) =>
        n === 2 ? Promise.reject(new Error("step 2 failed")) : Promise.resolve(n),
      ),
    ).rejects.toThrow("step 2 failed");
  });
});
