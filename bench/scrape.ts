// Scrape latency: /metrics fetched over HTTP, one scrape after another, from a daemon child that is
// scanning the whole time. Each time runs from sending the request to the last byte of the answer. The
// first scrapes of a fresh process compile the render path; they are warm-up, reported apart.

import { Agent, request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import type { DaemonStart } from "./daemon-process.js";
import type { BenchEmulator } from "./emulator.js";
import { ChildProcessHandle } from "./ipc.js";
import { percentile, timed } from "./stats.js";

export interface ScrapeBench {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly scrapes: number;
  /** The very first scrape of the process, a warm-up one. */
  readonly firstMs: number;
  /** Full scans the daemon completed while being scraped. */
  readonly scansMeanwhile: number;
}

export interface ScrapeOptions {
  readonly scrapes: number;
  /** Scrapes before the measured ones, not counted. */
  readonly warmups: number;
  readonly pauseMs: number;
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly certificates: number;
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
    const times: number[] = [];
    for (let i = 0; i < options.warmups + options.scrapes; i++) {
      const { ms } = await timed(async () => {
        const answer = await request(`${url}/metrics`, { dispatcher: agent });
        // Counted, not decoded: what is timed is the daemon's answer, not this process turning it into a string.
        let bytes = 0;
        for await (const chunk of answer.body) bytes += (chunk as Buffer).length;
        if (answer.statusCode !== 200 || bytes === 0)
          throw new Error(`/metrics answered ${answer.statusCode}`);
      });
      times.push(ms);
      await sleep(options.pauseMs);
    }
    const measured = times.slice(options.warmups);
    const scansMeanwhile = await daemon.call<number>("stop");
    return {
      p50Ms: percentile(measured, 50),
      p99Ms: percentile(measured, 99),
      scrapes: measured.length,
      firstMs: times[0]!,
      scansMeanwhile,
    };
  } finally {
    await agent.close();
    await daemon.close();
  }
}
