// The shape of bench/results.json: the keys issue 7 names, plus the machine it ran on and how memory
// was measured.
// Times in milliseconds, sizes in MB (2^20 bytes), ratios as measured / limit.

export interface ScanRow {
  readonly concurrency: number;
  readonly requests: number;
  readonly wall_ms: number;
  readonly ideal_ms: number;
  readonly ratio: number;
  /** A bare undici client's scan (floor.ts): what the emulator and the machine alone cost. */
  readonly floor_ms: number;
  readonly floor_ratio: number;
}

export interface ParseResults {
  readonly peculiar_ms: number;
  readonly native_ms: number;
  readonly ratio: number;
  readonly cached_share: number;
}

export interface MetricsResults {
  readonly render_ms: number;
  readonly baseline_ms: number;
  readonly ratio: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

export interface MemoryResults {
  readonly rss_mb_scan20: number;
  readonly rss_mb_scan200: number;
  readonly growth_pct: number;
  /** Highest RSS during the scans, before forced GCs. */
  readonly peak_rss_mb: number;
  /** The V8 flags of the run: the container image's NODE_OPTIONS. */
  readonly node_options: string;
}

export interface Results {
  readonly machine: { readonly cores: number; readonly node: string; readonly date: string };
  readonly scan: readonly ScanRow[];
  readonly parse: ParseResults;
  readonly metrics: MetricsResults;
  readonly memory: MemoryResults;
  readonly startup: { readonly ready_ms: number };
}
