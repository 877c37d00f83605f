import { crc32, gunzipSync, inflateRawSync } from "node:zlib";
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

  it("deflates a large family once while its text is handed over again, and again once it changed", async () => {
    const gzip = new GzipExposition();
    expect(gzip.keeping).toBe(false);
    const segmentOf = async (text: string) => (await gzip.parts([text]))[1];
    const first = await segmentOf(big("kept"));
    expect(gzip.keeping).toBe(true);
    expect(await segmentOf(big("kept"))).toBe(first);
    expect(await segmentOf(big("changed"))).not.toBe(first);
    const afterChange = await segmentOf(big("kept"));
    expect(afterChange).not.toBe(first);
  });
});
