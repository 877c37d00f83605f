// Event-loop stalls from a tick timer's record (process-probe.ts): each tick's end time and the gap since
// the tick before, in ms. A gap of g ms on a t ms timer is a delay of g - t. Pure.

import { percentile } from "./stats.js";

/** The event-loop block the issue allows at most during a scan. */
export const LONG_STALL_MS = 50;

export interface StallStats {
  readonly ticks: number;
  readonly maxDelayMs: number;
  /** When the longest stall ended, ms since the process's time origin. */
  readonly maxDelayEndMs: number;
  readonly p99DelayMs: number;
  /** Stalls longer than LONG_STALL_MS. */
  readonly longStalls: number;
}

/** The ticks whose gap [end - gap, end] overlaps [from, to]. */
export function stallStats(
  ends: ArrayLike<number>,
  gaps: ArrayLike<number>,
  tickMs: number,
  from: number,
  to: number,
): StallStats {
  const delays: number[] = [];
  let maxDelayMs = 0;
  let maxDelayEndMs = 0;
  let longStalls = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    const gap = gaps[i]!;
    if (end <= from || end - gap >= to) continue;
    const delay = Math.max(0, gap - tickMs);
    delays.push(delay);
    if (delay > LONG_STALL_MS) longStalls++;
    if (delay > maxDelayMs) {
      maxDelayMs = delay;
      maxDelayEndMs = end;
    }
  }
  return {
    ticks: delays.length,
    maxDelayMs,
    maxDelayEndMs,
    p99DelayMs: delays.length > 0 ? percentile(delays, 99) : 0,
    longStalls,
  };
}
