import { constants, crc32, deflateRawSync, gunzipSync, inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GzipExposition } from "../../src/server/gzip-exposition.js";

const big = (tag: string) => `# HELP ${tag} ü\n` + `${tag}{id="x"} 1\n`.repeat(4_000);

describe("GzipExposition", () => {
  it("is one gzip member that gunzips to the chunks joined, whatever their sizes and text", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom(big("a"), big("b"), "\n\n")), {
          maxLength: 12,
        }),
        async (chunks) => {
          const body = Buffer.concat(await new GzipExposition().parts(chunks));
          expect(gunzipSync(body).toString("utf8")).toBe(chunks.join(""));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("is a single member, so a reader that stops after the first one (curl) still reads it all", async () => {
    const chunks = [big("one"), "\n\n", "small\n", big("two"), "\n"];
    const body = Buffer.concat(await new GzipExposition().parts(chunks));
    const text = chunks.join("");
    // Header, one deflate stream to the end of the body but its trailer, then CRC-32 and length.
    expect(body.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
    expect(inflateRawSync(body.subarray(10, body.length - 8)).toString("utf8")).toBe(text);
    expect(body.readUInt32LE(body.length - 8)).toBe(crc32(text));
    expect(body.readUInt32LE(body.length - 4)).toBe(Buffer.byteLength(text));
  });

  it("deflates a large family fast, for size once it stayed, and afresh once it changed", async () => {
    let now = 0;
    const gzip = new GzipExposition({ now: () => now, staysAfterMs: 5_000 });
    expect(gzip.keeping).toBe(false);
    const segmentOf = async (text: string) => (await gzip.parts([text]))[1]!;
    const atLevel = (text: string, level: number) =>
      deflateRawSync(text, { level, finishFlush: constants.Z_SYNC_FLUSH });

    const kept = big("kept");
    const first = await segmentOf(kept);
    expect(gzip.keeping).toBe(true);
    expect(first).toEqual(atLevel(kept, 1));
    // Handed over again within the 5 s: still the fast segment, and no deflate for size started.
    now = 4_999;
    expect(await segmentOf(kept)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await segmentOf(kept)).toBe(first);
    // After 5 s, this answer still has the fast segment; the one for size follows in the background.
    now = 5_000;
    expect(await segmentOf(kept)).toBe(first);
    let later = first;
    for (let i = 0; i < 500 && later === first; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      later = await segmentOf(kept);
    }
    expect(later).toEqual(atLevel(kept, 6));
    expect(later.length).toBeLessThan(first.length);

    // A text seen for a second at a time (expires_in_seconds) is only ever deflated fast.
    for (const tag of ["now1", "now2", "now3"])
      expect(await segmentOf(big(tag))).toEqual(atLevel(big(tag), 1));
    // The kept text went with the answer that did not use it.
    expect(await segmentOf(kept)).toEqual(first);
  });
});
