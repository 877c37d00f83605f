// Child process: the daemon's scanning core and HTTP server, scanning back to back against the
// emulator, so the bench can scrape /metrics over real HTTP while scans run. Stops scanning and closes
// everything when the parent says so or goes away.

import pino from "pino";
import { startHttpServer, type RunningServer } from "../src/server/http.js";
import { serve } from "./ipc.js";
import { benchMonitor, type BenchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";

export interface DaemonStart {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly concurrency: number;
  readonly certificates: number;
}

let core: BenchMonitor | null = null;
let server: RunningServer | null = null;
let looping: Promise<void> | null = null;
let stopping = false;
let scans = 0;

async function loop(certificates: number): Promise<void> {
  while (!stopping && core) {
    await fullScan(core, certificates);
    // As the daemon does after each scan (src/daemon.ts).
    server?.prepareMetrics();
    scans++;
  }
}

async function stop(): Promise<number> {
  stopping = true;
  await looping;
  return scans;
}

serve(
  {
    async start(options: DaemonStart): Promise<string> {
      core = benchMonitor({
        baseUrl: options.baseUrl,
        apiKey: options.apiKey,
        concurrency: options.concurrency,
        exposeRelative: true,
        processMetrics: true,
      });
      const { monitor, metrics } = core;
      server = await startHttpServer({
        host: "127.0.0.1",
        port: 0,
        metrics,
        monitor,
        logger: pino({ level: "silent" }),
        now: () => new Date(),
        alive: () => true,
        version: "bench",
      });
      await fullScan(core, options.certificates);
      scans = 0;
      looping = loop(options.certificates);
      return server.url;
    },
    /** Stops the scan loop after the scan under way; answers how many scans completed since start. */
    stop,
  },
  async () => {
    await stop();
    await server?.close();
    await core?.close();
  },
);
