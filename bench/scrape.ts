// Scrape latency: /metrics fetched over HTTP, one scrape after another, from a daemon child that is
// scanning the whole time, alternately with `Accept-Encoding: gzip` (as Prometheus sends it) and
// without. Each time runs from sending the request to the last byte of the answer, decompressed for a
// gzip answer (a scraper reads the text, not the bytes); both sizes are kept. The decompression streams
// in 256 KiB pieces, as a scraper's buffered reader would: Node's default of 16 KiB turns 9 MB of text
// into some 570 steps of the stream machinery and doubled the measured time (52 against 28 ms, one run).
// The first scrapes of a fresh process compile the render path: they are warm-up, not counted. A last
// untimed scrape counts the samples of the exposition.

import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { Agent, request } from "undici";
import type { DaemonStart } from "./daemon-process.js";
import type { BenchEmulator } from "./emulator.js";
import { ChildProcessHandle } from "./ipc.js";
import { median, percentile, timed } from "./stats.js";

export type Encoding = "gzip" | "identity";

export interface ScrapeTimes {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly scrapes: number;
  /** Bytes on the wire, median. */
  readonly wireBytes: number;
  /** Bytes of exposition text, median. */
  readonly textBytes: number;
}

export interface ScrapeBench {
  readonly gzip: ScrapeTimes;
  readonly identity: ScrapeTimes;
  /** Samples (lines that are not comments) in the exposition. */
  readonly samples: number;
  /** Full scans the daemon completed while being scraped. */
  readonly scansMeanwhile: number;
  /** What decompressing one gzip answer costs this process (in the gzip times above), median of 5. */
  readonly clientGunzipMs: number;
}

export interface ScrapeOptions {
  /** Scrapes per encoding. */
  readonly scrapes: number;
  /** Scrapes before the measured ones, not counted. */
  readonly warmups: number;
  readonly pauseMs: number;
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly certificates: number;
}

interface Scrape {
  readonly wireBytes: number;
  readonly textBytes: number;
  /** The exposition, when asked for. */
  readonly text: string | null;
}

/** Counts the bytes that arrive and keeps them only when asked to. */
function collector(keep: boolean): { sink: Writable; bytes(): number; chunks: Buffer[] } {
  let bytes = 0;
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (keep) chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => bytes, chunks };
}

const GUNZIP_CHUNK_BYTES = 256 * 1024;

/** One scrape of `url`/metrics, read to its end (and decompressed); the text itself only with `keep`. */
export async function scrapeOnce(
  url: string,
  agent: Agent | undefined,
  encoding: Encoding,
  keep = false,
): Promise<Scrape> {
  const answer = await request(`${url}/metrics`, {
    ...(agent && { dispatcher: agent }),
    headers: { "accept-encoding": encoding },
  });
  const coding = String(answer.headers["content-encoding"] ?? "identity");
  if (answer.statusCode !== 200 || coding !== encoding) {
    await answer.body.dump();
    throw new Error(`/metrics with Accept-Encoding ${encoding} answered ${answer.statusCode} (${coding})`);
  }
  const text = collector(keep);
  let wireBytes = 0;
  answer.body.on("data", (chunk: Buffer) => (wireBytes += chunk.length));
  if (encoding === "gzip")
    await pipeline(answer.body, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), text.sink);
  else await pipeline(answer.body, text.sink);
  if (text.bytes() === 0) throw new Error("/metrics answered an empty body");
  return {
    wireBytes,
    textBytes: text.bytes(),
    text: keep ? Buffer.concat(text.chunks).toString("utf8") : null,
  };
}

/** The scraper's share of a gzip scrape: one answer fetched whole, then decompressed in memory. */
async function gunzipMs(url: string, agent: Agent): Promise<number> {
  const answer = await request(`${url}/metrics`, {
    dispatcher: agent,
    headers: { "accept-encoding": "gzip" },
  });
  const compressed = Buffer.from(await answer.body.arrayBuffer());
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await timed(() => gunzipSync(compressed))).ms);
  return median(times);
}

/** Lines of the exposition that are samples: neither comments nor blank. */
export function countSamples(exposition: string): number {
  let samples = 0;
  for (const line of exposition.split("\n")) if (line !== "" && !line.startsWith("#")) samples++;
  return samples;
}

function summary(runs: readonly { ms: number; value: Scrape }[]): ScrapeTimes {
  const times = runs.map((run) => run.ms);
  return {
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    scrapes: runs.length,
    wireBytes: median(runs.map((run) => run.value.wireBytes)),
    textBytes: median(runs.map((run) => run.value.textBytes)),
  };
}

export async function scrapeBench(emulator: BenchEmulator, options: ScrapeOptions): Promise<ScrapeBench> {
  await emulator.setLatency(options.latencyMs);
  const daemon = ChildProcessHandle.start(new URL("./daemon-process.js", import.meta.url));
  const agent = new Agent({ connections: 1 });
  try {
    const start: DaemonStart = {
      baseUrl: emulator.url,
      apiKey: emulator.apiKey,
      concurrency: options.concurrency,
      certificates: options.certificates,
    };
    const url = await daemon.call<string>("start", start);
    const runs: Record<Encoding, { ms: number; value: Scrape }[]> = { gzip: [], identity: [] };
    for (let i = 0; i < options.warmups + 2 * options.scrapes; i++) {
      // Alternating, so that both see the same scans.
      const encoding: Encoding = i % 2 === 0 ? "gzip" : "identity";
      const run = await timed(() => scrapeOnce(url, agent, encoding));
      if (i >= options.warmups) runs[encoding].push(run);
      await sleep(options.pauseMs);
    }
    const scansMeanwhile = await daemon.call<number>("stop");
    const last = await scrapeOnce(url, agent, "identity", true);
    const clientGunzipMs = await gunzipMs(url, agent);
    return {
      clientGunzipMs,
      gzip: summary(runs.gzip),
      identity: summary(runs.identity),
      samples: countSamples(last.text ?? ""),
      scansMeanwhile,
    };
  } finally {
    await agent.close();
    await daemon.close();
  }
}
