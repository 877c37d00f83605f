import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32Combine } from "../../src/server/crc32-combine.js";

describe("crc32Combine", () => {
  it("is the CRC-32 of the two joined, as zlib computes it over the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3_000 }), fc.uint8Array({ maxLength: 3_000 }), (a, b) => {
        const joined = Buffer.concat([a, b]);
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(joined));
      }),
      { numRuns: 300 },
    );
  });

  it("holds for lengths of several megabytes", () => {
    const a = Buffer.alloc(1_000_003, 7);
    const b = Buffer.alloc(5_000_011, 0x5a);
    expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
  });
});
