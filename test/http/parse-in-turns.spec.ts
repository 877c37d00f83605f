import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { safeParseInTurns } from "../../src/http/parse-in-turns.js";
import { describeIssues } from "../../src/http/zod-issues.js";

const item = z.object({ id: z.union([z.string(), z.number()]), name: z.string() }).transform((w) => ({
  id: String(w.id),
  label: w.name.toUpperCase(),
}));
const list = z.array(item);

const anyItem = fc.oneof(
  fc.record({ id: fc.oneof(fc.string(), fc.integer()), name: fc.string() }),
  fc.record({ id: fc.boolean(), name: fc.string() }),
  fc.anything(),
);

describe("safeParseInTurns", () => {
  it("answers what safeParse answers: the same data, or the same issues with their indexes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ id: fc.oneof(fc.string(), fc.integer()), name: fc.string() }), {
          maxLength: 350,
        }),
        fc.array(fc.tuple(fc.nat(), anyItem), { maxLength: 3 }),
        async (valid, spoilers) => {
          const json: unknown[] = [...valid];
          for (const [at, value] of spoilers) if (json.length > 0) json[at % json.length] = value;
          const direct = list.safeParse(json);
          const inTurns = await safeParseInTurns(list, json);
          expect(inTurns.success).toBe(direct.success);
          if (direct.success && inTurns.success) expect(inTurns.data).toEqual(direct.data);
          if (!direct.success && !inTurns.success)
            expect(describeIssues(inTurns.error)).toBe(describeIssues(direct.error));
        },
      ),
      { numRuns: 80 },
    );
  });

  it("lets the event loop turn while it works through a long list", async () => {
    const json = Array.from({ length: 1_000 }, (_, i) => ({ id: i, name: `IdP ${i}` }));
    let turned = false;
    setImmediate(() => (turned = true));
    const parsed = await safeParseInTurns(list, json);
    expect(turned).toBe(true);
    expect(parsed.success && parsed.data.length).toBe(1_000);
  });

  it("parses anything but a plain array schema in one go", async () => {
    const bounded = z.array(item).max(2);
    const json = Array.from({ length: 300 }, (_, i) => ({ id: i, name: "x" }));
    expect((await safeParseInTurns(bounded, json)).success).toBe(false);
  });
});
