// /metrics gzipped without compressing 5-10 MB of text on every scrape. The registry hands over the
// exposition family by family and reuses a family's text (the same string) while its series and values
// stand still, which for the per-certificate families is from one scan to the next. Each large family is
// therefore deflated on its own and kept while its text is handed over again; the small families between
// them are deflated afresh, together. A large text is first deflated fast (level 1); only when it is
// handed over again a while later, and so likely to stay, is it deflated again for size (level 6), in the
// background, replacing the fast one when done. A family that changes every second (expires_in_seconds,
// relative to the scrape's time) is thus never deflated slowly while a scraper waits, nor again and again
// for nothing: level 6 takes twice as long as level 1 for 4 % fewer bytes. Segments deflated from an
// empty history and ended with a sync flush (byte-aligned, no final block) may follow one another in one
// deflate stream (RFC 1951: a block refers back only to data of its own stream, and none of ours reaches
// before its segment); one final empty block and the gzip trailer (RFC 1952: CRC-32 and length of the
// whole) make it one ordinary gzip member, which every client reads (a series of members is valid gzip,
// but curl stops at the first).
// Deflating runs on libuv's thread pool; a kept family's CRC-32 and length are kept with it and
// combined (crc32-combine.ts), so a scrape passes over none of the kept text on the event loop.

import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { constants, crc32, deflateRaw } from "node:zlib";
import { crc32Combine } from "./crc32-combine.js";

const deflate = promisify(deflateRaw);

/** Families at least this long become segments of their own and are kept. */
const KEEP_FROM_CHARS = 32 * 1024;
const FAST_LEVEL = constants.Z_BEST_SPEED;
/** For a text that stayed: deflated once, served many times. */
const KEPT_LEVEL = 6;
/** How long a text must stay before it is deflated for size: beyond the second-by-second families. */
const STAYS_AFTER_MS = 5_000;

// ID1 ID2, CM = deflate, no flags, no mtime, no extra flags, OS unknown.
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// A final block with fixed codes holding only its end code: BFINAL 1, BTYPE 01, then seven 0 bits.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** A piece of the exposition deflated on its own, with the CRC-32 and byte length of its text. */
interface Segment {
  readonly deflated: Promise<Buffer>;
  readonly crc: number;
  readonly bytes: number;
}

function segment(text: string, level: number): Segment {
  return {
    deflated: deflateAt(text, level),
    crc: crc32(text),
    bytes: Buffer.byteLength(text),
  };
}

function deflateAt(text: string, level: number): Promise<Buffer> {
  return deflate(text, { level, finishFlush: constants.Z_SYNC_FLUSH });
}

/** A large family's segment: the fast one, until the one deflated for size replaces it. */
class KeptFamily {
  private upgrading = false;

  private constructor(
    private readonly text: string,
    private current: Segment,
    private readonly since: number,
  ) {}

  static first(text: string, now: number): KeptFamily {
    return new KeptFamily(text, segment(text, FAST_LEVEL), now);
  }

  get segment(): Segment {
    return this.current;
  }

  /** The text is handed over again: once it has stayed long enough, deflate it for size, once, unawaited. */
  again(now: number, staysAfterMs: number): void {
    if (this.upgrading || now - this.since < staysAfterMs) return;
    this.upgrading = true;
    // On failure the fast segment stays in use; the next change of text tries afresh.
    deflateAt(this.text, KEPT_LEVEL).then(
      (smaller) => (this.current = { ...this.current, deflated: Promise.resolve(smaller) }),
      () => undefined,
    );
  }
}

export interface GzipExpositionOptions {
  /** Milliseconds since some origin; default performance.now. */
  readonly now?: () => number;
  /** How long a large text must stay before it is deflated for size; default 5 s. */
  readonly staysAfterMs?: number;
}

export class GzipExposition {
  private kept = new Map<string, KeptFamily>();
  private readonly now: () => number;
  private readonly staysAfterMs: number;

  constructor(options: GzipExpositionOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.staysAfterMs = options.staysAfterMs ?? STAYS_AFTER_MS;
  }

  /** True once a gzip answer kept a family: until a scraper asks for gzip, there is nothing to prepare. */
  get keeping(): boolean {
    return this.kept.size > 0;
  }

  /** The parts of one gzip member whose content is the chunks joined; written in order, nothing else. */
  async parts(chunks: readonly string[]): Promise<Buffer[]> {
    const next = new Map<string, KeptFamily>();
    const now = this.now();
    const segments: Segment[] = [];
    let small: string[] = [];
    const flushSmall = () => {
      if (small.length > 0) segments.push(segment(small.join(""), FAST_LEVEL));
      small = [];
    };
    for (const chunk of chunks) {
      if (chunk.length < KEEP_FROM_CHARS) {
        small.push(chunk);
        continue;
      }
      flushSmall();
      let family = next.get(chunk);
      if (!family) {
        family = this.kept.get(chunk);
        if (family) family.again(now, this.staysAfterMs);
        else family = KeptFamily.first(chunk, now);
        next.set(chunk, family);
      }
      segments.push(family.segment);
    }
    flushSmall();
    // Only what this answer used stays: a family whose text changed goes with its old segment.
    this.kept = next;
    let crc = 0;
    let bytes = 0;
    for (const piece of segments) {
      crc = crc32Combine(crc, piece.crc, piece.bytes);
      bytes += piece.bytes;
    }
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc, 0);
    trailer.writeUInt32LE(bytes % 2 ** 32, 4);
    try {
      return [HEADER, ...(await Promise.all(segments.map((piece) => piece.deflated))), FINAL_BLOCK, trailer];
    } catch (error) {
      this.kept = new Map();
      throw error;
    }
  }
}
