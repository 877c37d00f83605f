// Preload (`node --import <this file>`) that watches a product process from inside without changing it:
// a 1 ms interval timer records the gap between its ticks (a gap of g ms is an event-loop delay of g - 1),
// diagnostics_channel marks the first API request and the last response of undici, and on exit one JSON
// line goes to the file named by BENCH_PROBE_FILE: the largest delay while the scan ran, the largest of
// the whole process (module loading included), and process.resourceUsage()'s CPU and peak RSS.
// Imports nothing of the product's and never keeps the process alive.
//
// A tick timer rather than perf_hooks.monitorEventLoopDelay: its histogram records a stall only when the
// stall ends, with no time attached, so it cannot be cut at the last response. Here every gap has its
// end time, and a stall counts for the scan when it overlaps [first request, last response].

import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";
import { stallStats, type StallStats } from "./stalls.js";

export const PROBE_FILE_ENV = "BENCH_PROBE_FILE";
export const TICK_MS = 1;

export interface ProbeReport {
  readonly pid: number;
  readonly node: string;
  /** Since the process's time origin (its start), in ms. */
  readonly exitAtMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** process.resourceUsage().maxRSS: the process's peak resident set, in MB. */
  readonly maxRssMb: number;
  /** Every tick from the preload to exit. */
  readonly process: StallStats;
  /** undici requests created, completed and failed. */
  readonly requests: number;
  readonly responses: number;
  readonly requestErrors: number;
  /** First request created and last response complete, ms since the time origin; null without requests. */
  readonly firstRequestAtMs: number | null;
  readonly lastResponseAtMs: number | null;
  /** Ticks whose gap overlaps [first request, last response]; null without requests. */
  readonly scan: StallStats | null;
}

/** Tick end times and gaps, in a growable pair of arrays (30,000 ticks are 480 kB). */
class Ticks {
  ends = new Float64Array(16_384);
  gaps = new Float64Array(16_384);
  length = 0;

  push(end: number, gap: number): void {
    if (this.length === this.ends.length) {
      const grow = (old: Float64Array) => {
        const next = new Float64Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.ends = grow(this.ends);
      this.gaps = grow(this.gaps);
    }
    this.ends[this.length] = end;
    this.gaps[this.length] = gap;
    this.length++;
  }
}

function install(file: string): void {
  const ticks = new Ticks();
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    ticks.push(now, now - last);
    last = now;
  }, TICK_MS).unref();

  let requests = 0;
  let responses = 0;
  let requestErrors = 0;
  let firstRequestAt: number | null = null;
  let lastResponseAt: number | null = null;
  subscribe("undici:request:create", () => {
    requests++;
    firstRequestAt ??= performance.now();
  });
  subscribe("undici:request:trailers", () => {
    responses++;
    lastResponseAt = performance.now();
  });
  subscribe("undici:request:error", () => {
    requestErrors++;
    lastResponseAt = performance.now();
  });

  process.once("exit", () => {
    const exitAt = performance.now();
    // The stall the process ends in has no tick after it.
    ticks.push(exitAt, exitAt - last);
    const usage = process.resourceUsage();
    const ends = ticks.ends.subarray(0, ticks.length);
    const gaps = ticks.gaps.subarray(0, ticks.length);
    const report: ProbeReport = {
      pid: process.pid,
      node: process.version,
      exitAtMs: exitAt,
      cpuUserMs: usage.userCPUTime / 1000,
      cpuSystemMs: usage.systemCPUTime / 1000,
      maxRssMb: usage.maxRSS / 1024,
      process: stallStats(ends, gaps, TICK_MS, 0, Infinity),
      requests,
      responses,
      requestErrors,
      firstRequestAtMs: firstRequestAt,
      lastResponseAtMs: lastResponseAt,
      scan:
        firstRequestAt === null || lastResponseAt === null
          ? null
          : stallStats(ends, gaps, TICK_MS, firstRequestAt, lastResponseAt),
    };
    appendFileSync(file, JSON.stringify(report) + "\n");
  });
}

// Node runs --import preloads in worker threads too: only the main thread's event loop is watched.
const target = process.env[PROBE_FILE_ENV];
if (target && isMainThread) install(target);
