// A real daemon: `node dist/cli.js run --config F` started with the bench's Node, its JSON log read from
// a stdout pipe that is drained line by line (the URL from "listening", each "scan complete"), stopped
// with SIGTERM as a container runtime would. Knows the log lines, not what is measured with them.

import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { childEnv, CLI } from "./node-process.js";

export interface ScanLine {
  /** performance.now() of the bench when the line arrived. */
  readonly at: number;
  readonly integrations: number;
  readonly certificates: number;
  readonly failures: number;
}

interface LogEntry {
  readonly msg?: string;
  readonly url?: string;
  readonly integrations?: number;
  readonly certificates?: number;
  readonly failures?: number;
}

export class RunDaemon {
  /** performance.now() just before the spawn. */
  readonly startedAt: number;
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly scanListeners: ((scan: ScanLine, count: number) => void)[] = [];
  private scanCount = 0;

  constructor(configFile: string, env: Readonly<Record<string, string>>, nodeArgs: readonly string[] = []) {
    this.startedAt = performance.now();
    this.child = spawn(process.execPath, [...nodeArgs, CLI, "run", "--config", configFile], {
      env: childEnv(env),
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    this.url = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on("line", (line) => {
        let entry: LogEntry;
        try {
          entry = JSON.parse(line) as LogEntry;
        } catch {
          return; // not a JSON log line
        }
        if (entry.msg === "listening" && entry.url) resolve(entry.url);
        if (entry.msg === "scan complete") {
          const scan: ScanLine = {
            at: performance.now(),
            integrations: entry.integrations ?? -1,
            certificates: entry.certificates ?? -1,
            failures: entry.failures ?? -1,
          };
          this.scanCount++;
          for (const listener of this.scanListeners) listener(scan, this.scanCount);
        }
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`daemon exited (code ${code}, signal ${signal}) before listening`)),
      );
    });
    // Only a failure to start rejects before a listening line; later rejections are nobody's.
    this.url.catch(() => undefined);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("daemon did not start");
    return this.child.pid;
  }

  get scans(): number {
    return this.scanCount;
  }

  /** Calls `listener` with every "scan complete" line and the count of them so far. */
  onScan(listener: (scan: ScanLine, count: number) => void): void {
    this.scanListeners.push(listener);
  }

  /** SIGTERM, then the exit (SIGKILL after 20 s). */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
