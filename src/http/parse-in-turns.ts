// Validates a large JSON list a slice at a time, letting the event loop turn between slices. The list of
// 1,000 integrations took 20-30 ms of zod in one piece, the longest stall of a whole scan, with other
// answers and /metrics waiting behind it. Same result, same issues (with the index in the path), as the
// schema's own safeParse; anything but a plain array schema over a long array is parsed in one go.

import { setImmediate as nextTurn } from "node:timers/promises";
import { ZodArray, ZodError, type z } from "zod";

const ITEMS_PER_TURN = 100;

export async function safeParseInTurns<T>(
  schema: z.ZodType<T>,
  json: unknown,
): Promise<z.ZodSafeParseResult<T>> {
  const plainArray = schema instanceof ZodArray && (schema.def.checks ?? []).length === 0;
  if (!plainArray || !Array.isArray(json) || json.length <= ITEMS_PER_TURN) return schema.safeParse(json);
  const element = (schema as ZodArray<z.ZodType>).element;
  const data: unknown[] = [];
  const issues: z.core.$ZodIssue[] = [];
  for (let start = 0; start < json.length; start += ITEMS_PER_TURN) {
    if (start > 0) await nextTurn();
    json.slice(start, start + ITEMS_PER_TURN).forEach((item: unknown, offset) => {
      const parsed = element.safeParse(item);
      if (parsed.success) data.push(parsed.data);
      else
        for (const issue of parsed.error.issues)
          issues.push({ ...issue, path: [start + offset, ...issue.path] });
    });
  }
  if (issues.length > 0) return { success: false, error: new ZodError(issues) } as z.ZodSafeParseResult<T>;
  return { success: true, data: data as T };
}
