// /metrics gzipped without compressing 5-10 MB of text on every scrape. The registry hands over the
// exposition family by family and reuses a family's text (the same string) while its series and values
// stand still, which for the per-certificate families is from one scan to the next. Each large family is
// therefore deflated once, on its own, and kept while its text is handed over again; the small families
// between them are deflated afresh, together. Segments deflated from an empty history and ended with a
// sync flush (byte-aligned, no final block) may follow one another in one deflate stream (RFC 1951: a
// block refers back only to data of its own stream, and none of ours reaches before its segment); one
// final empty block and the gzip trailer (RFC 1952: CRC-32 and length of the whole) make it one ordinary
// gzip member, which every client reads (a series of members is valid gzip, but curl stops at the first).
// Deflating runs on libuv's thread pool; only the CRC-32 (zlib's, about 3 ms for 9 MB) runs here.

import { promisify } from "node:util";
import { constants, crc32, deflateRaw } from "node:zlib";

const deflate = promisify(deflateRaw);

/** Families at least this long become segments of their own and are kept. */
const KEEP_FROM_CHARS = 32 * 1024;
/** Kept segments are deflated once per change: worth a better ratio than the per-scrape small ones. */
const KEPT_LEVEL = 6;
const FRESH_LEVEL = constants.Z_BEST_SPEED;

// ID1 ID2, CM = deflate, no flags, no mtime, no extra flags, OS unknown.
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// A final block with fixed codes holding only its end code: BFINAL 1, BTYPE 01, then seven 0 bits.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

function segment(text: string, level: number): Promise<Buffer> {
  return deflate(text, { level, finishFlush: constants.Z_SYNC_FLUSH });
}

export class GzipExposition {
  private kept = new Map<string, Promise<Buffer>>();

  /** The parts of one gzip member whose content is the chunks joined; written in order, nothing else. */
  async parts(chunks: readonly string[]): Promise<Buffer[]> {
    const next = new Map<string, Promise<Buffer>>();
    const segments: Promise<Buffer>[] = [];
    let small: string[] = [];
    const flushSmall = () => {
      if (small.length > 0) segments.push(segment(small.join(""), FRESH_LEVEL));
      small = [];
    };
    let crc = 0;
    let bytes = 0;
    for (const chunk of chunks) {
      crc = crc32(chunk, crc);
      bytes += Buffer.byteLength(chunk);
      if (chunk.length < KEEP_FROM_CHARS) {
        small.push(chunk);
        continue;
      }
      flushSmall();
      const deflated = this.kept.get(chunk) ?? next.get(chunk) ?? segment(chunk, KEPT_LEVEL);
      next.set(chunk, deflated);
      segments.push(deflated);
    }
    flushSmall();
    // Only what this answer used stays: a family whose text changed goes with its old segment.
    this.kept = next;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(bytes % 2 ** 32, 4);
    try {
      return [HEADER, ...(await Promise.all(segments)), FINAL_BLOCK, trailer];
    } catch (error) {
      this.kept = new Map();
      throw error;
    }
  }
}
