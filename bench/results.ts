// The shape of bench/results.json (and results-node24.json): the measures of issue 16, each with the
// goal it is judged by and whether it was met, plus the machine and Node it ran on. A section is null
// when its measurement failed; `failures` then says why. Times in milliseconds, sizes in MB (2^20
// bytes), ratios as measured / limit.

export const GOALS = {
  /** Cold check and the daemon's first scan: wall <= this x (ideal + bare-node start-up). */
  scanRatio: 1.3,
  /** Largest event-loop delay during a scan. */
  scanStallMs: 50,
  /** `--version` <= versionFactor x bare-node start-up + versionExtraMs. */
  versionFactor: 1.3,
  versionExtraMs: 100,
  /** The real daemon's RSS at scan 200 (on Node 24, the image's runtime), and its growth from scan 20. */
  rssMb: 120,
  growthPct: 5,
  /** /metrics during scans, with and without gzip, at no fewer samples than this. */
  scrapeP99Ms: 100,
  samples: 30_000,
  /** identity bytes / gzip bytes. */
  gzipRatio: 5,
  /** Cost of 1,000 more integrations at the largest account / at 1,000. */
  scalingRatio: 1.3,
} as const;

export interface Machine {
  readonly cores: number;
  readonly node: string;
  readonly date: string;
  /** 1-minute load average at the start and the end: other work on the machine shows here. */
  readonly load_start: number;
  readonly load_end: number;
  readonly duration_s: number;
}

export interface StartupResults {
  /** `node -e 0`, median. */
  readonly bare_node_ms: number;
  /** `node dist/cli.js --version`, median. */
  readonly version_ms: number;
  readonly version_limit_ms: number;
  readonly runs: number;
  readonly met: boolean;
}

export interface ColdCheckResults {
  readonly integrations: number;
  readonly certificates_per_integration: number;
  readonly latency_ms: number;
  readonly concurrency: number;
  readonly runs: number;
  readonly wall_ms: number;
  readonly walls_ms: readonly number[];
  readonly exit_codes: readonly (number | null)[];
  /** API requests each run made (all equal 1 + integrations, or the run is a problem). */
  readonly requests: number;
  /** Where the wall goes (medians, from the preload): the first API request leaves this long after the
   * process started; the scan runs from it to the last response; then the report is made and printed. */
  readonly first_request_ms: number;
  readonly scan_ms: number;
  readonly after_scan_ms: number;
  /** The first run, whose state_dir held no parse cache yet: wall and CPU (user + system). */
  readonly first_run_wall_ms: number;
  readonly first_run_cpu_ms: number;
  /** CPU of the other runs, which found the first run's parse cache (median). */
  readonly cached_cpu_ms: number;
  readonly ideal_ms: number;
  readonly bare_node_ms: number;
  /** wall / (ideal + bare_node). */
  readonly ratio: number;
  readonly met: boolean;
}

export interface EventLoopResults {
  /** Largest delay between the first API request and the last response: worst run, and median run. */
  readonly scan_max_delay_ms: number;
  /** When that worst stall ended, ms after the run's first API request. */
  readonly scan_max_delay_end_ms: number;
  readonly scan_max_delay_median_ms: number;
  readonly scan_p99_delay_ms: number;
  /** Stalls over the goal during the scan, summed over the runs. */
  readonly scan_long_stalls: number;
  /** The whole process, module loading included: worst run. */
  readonly process_max_delay_ms: number;
  readonly process_p99_delay_ms: number;
  readonly met: boolean;
}

export interface ReadyResults {
  readonly integrations: number;
  readonly concurrency: number;
  readonly latency_ms: number;
  readonly runs: number;
  /** Spawn of `run` to the first /readyz 200, median. */
  readonly ready_ms: number;
  readonly ideal_ms: number;
}

export interface FirstScanResults extends ReadyResults {
  readonly bare_node_ms: number;
  readonly ratio: number;
  readonly met: boolean;
}

export interface DaemonMemoryResults {
  /** The image's environment and node flags the daemon ran with. */
  readonly image_settings: string;
  readonly integrations: number;
  readonly schedule: string;
  readonly scans: number;
  readonly scrapes: number;
  readonly elapsed_s: number;
  /** Scans that logged failures or missed integrations. */
  readonly bad_scans: number;
  readonly rss_mb_scan20: number;
  readonly rss_mb_scan200: number;
  readonly growth_pct: number;
  /** VmHWM: the highest RSS of the whole run. */
  readonly peak_rss_mb: number;
  readonly rotation: {
    readonly integration: string;
    readonly journal_phases: readonly string[];
    readonly audit: readonly string[];
    readonly done: boolean;
  };
  readonly met_rss: boolean;
  readonly met_growth: boolean;
}

export interface InProcessMemoryResults {
  readonly node_options: string;
  readonly rss_mb_scan20: number;
  readonly heap_mb_scan20: number;
  readonly rss_mb_scan200: number;
  readonly heap_mb_scan200: number;
  readonly growth_pct: number;
  readonly peak_rss_mb: number;
}

export interface ScrapeResults {
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly scrapes: number;
  readonly wire_bytes: number;
  readonly text_bytes: number;
  readonly met: boolean;
}

export interface MetricsResults {
  readonly integrations: number;
  readonly samples: number;
  readonly scans_meanwhile: number;
  readonly gzip: ScrapeResults;
  readonly identity: ScrapeResults;
  /** Decompressing one gzip answer in the scraping process: part of each gzip time. */
  readonly client_gunzip_ms: number;
  /** identity bytes / gzip bytes on the wire. */
  readonly size_ratio: number;
  readonly met_samples: boolean;
  readonly met_ratio: boolean;
}

export interface ScalingPoint {
  readonly integrations: number;
  readonly runs: number;
  readonly wall_ms: number;
  readonly cpu_ms: number;
  readonly max_rss_mb: number;
}

export interface ScalingResults {
  readonly latency_ms: number;
  readonly concurrency: number;
  readonly points: readonly ScalingPoint[];
  /** Per 1,000 integrations above the smallest point, at each larger point. */
  readonly per_1000: readonly Omit<ScalingPoint, "runs">[];
  /** per_1000 at the largest point / at 1,000. */
  readonly ratio: { readonly wall: number; readonly cpu: number; readonly rss: number };
  readonly met: boolean;
}

export interface Results {
  readonly machine: Machine;
  readonly goals: typeof GOALS;
  readonly startup: StartupResults | null;
  readonly cold_check: ColdCheckResults | null;
  readonly event_loop: EventLoopResults | null;
  readonly daemon_first_scan: FirstScanResults | null;
  readonly ready_small: ReadyResults | null;
  readonly memory: DaemonMemoryResults | null;
  readonly metrics: MetricsResults | null;
  readonly scaling: ScalingResults | null;
  /** The old in-process memory rows, kept as extras: image flags, and Node's default heap sizes. */
  readonly memory_in_process: InProcessMemoryResults | null;
  readonly memory_in_process_default_heap: InProcessMemoryResults | null;
  readonly failures: readonly { readonly step: string; readonly error: string }[];
}
