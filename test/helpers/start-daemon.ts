// Starts the daemon in-process against an emulator for one test: a config file in a temp directory
// (listen on port 0, state_dir inside it, rotation off, no retries), no cron schedule (the test calls
// tick()), and every log line kept as parsed JSON. close() stops the daemon and removes the directory.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/log.js";
import { parsePrometheusText, type Exposition } from "./prom-text.js";
import { TEST_API_KEY } from "./start-emulator.js";

export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string; readonly level: string };

export interface TestDaemon {
  readonly daemon: Daemon;
  /** The config file the daemon runs with (in a temp directory removed by close()). */
  readonly configFile: string;
  readonly logs: readonly LogLine[];
  /** A request to the daemon's server; `path` starts with `/`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** GET /metrics, parsed. */
  scrape(): Promise<Exposition>;
  close(): Promise<void>;
}

export interface TestDaemonOptions {
  readonly emulator: Emulator;
  readonly exposeRelative?: boolean;
  readonly clock?: { now(): Date };
}

export async function startTestDaemon(options: TestDaemonOptions): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), "sso-daemon-"));
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    `accounts:
  - name: main
    api_key_env: SENDGRID_API_KEY
    base_url: ${options.emulator.url}
schedule: "*/5 * * * *"
listen: "127.0.0.1:0"
state_dir: ./state
http: { timeout: 10s, max_concurrency: 4, max_retries: 0 }
metrics: { expose_relative: ${options.exposeRelative ?? false} }
rotation: { enabled: false }
`,
  );
  const loaded = loadConfig({ file, env: { SENDGRID_API_KEY: TEST_API_KEY }, cwd: dir });
  if (!loaded.ok) throw new Error(`test config rejected:\n${loaded.problems.join("\n")}`);
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      config: loaded.config,
      logger,
      schedule: false,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const request = (path: string, init?: RequestInit) => fetch(`${daemon.url}${path}`, init);
  return {
    daemon,
    configFile: file,
    logs,
    request,
    async scrape() {
      const response = await request("/metrics");
      if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
      return parsePrometheusText(await response.text());
    },
    async close() {
      try {
        await daemon.stop(5_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
