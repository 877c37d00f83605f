// Runs one program with the Node that runs the bench (process.execPath, so a Node 24 bench measures
// Node 24 children) and times it from spawn to exit, as a shell or a cron job would meet it. Optionally
// preloads process-probe.ts and returns its report. Knows nothing of what the program does.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PROBE_FILE_ENV, type ProbeReport } from "./process-probe.js";
import { median } from "./stats.js";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const PROBE = pathToFileURL(fileURLToPath(new URL("./process-probe.js", import.meta.url))).href;

export interface NodeRun {
  readonly wallMs: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The preload's report; null when not probed. */
  readonly probe: ProbeReport | null;
}

export interface NodeRunOptions {
  /** Added to the bench's environment; NODE_OPTIONS is dropped unless given here. */
  readonly env?: Readonly<Record<string, string>>;
  /** Preload process-probe.ts. */
  readonly probe?: boolean;
}

/** The bench's environment for a child: none of the bench's own NODE_OPTIONS leaks into what is measured. */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

export async function runNode(args: readonly string[], options: NodeRunOptions = {}): Promise<NodeRun> {
  const dir = options.probe ? await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-probe-")) : null;
  const probeFile = dir === null ? null : join(dir, "probe.jsonl");
  try {
    const env = childEnv({ ...options.env, ...(probeFile ? { [PROBE_FILE_ENV]: probeFile } : {}) });
    const argv = probeFile ? ["--import", PROBE, ...args] : [...args];
    const started = performance.now();
    const child = spawn(process.execPath, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const closed = new Promise((resolve) => child.once("close", resolve));
    const { wallMs, code, signal } = await new Promise<{
      wallMs: number;
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ wallMs: performance.now() - started, code, signal }));
    });
    // The last of its output may still be in the pipes.
    await closed;
    let probe: ProbeReport | null = null;
    if (probeFile) {
      const lines = (await readFile(probeFile, "utf8").catch(() => "")).split("\n").filter(Boolean);
      probe =
        lines.map((line) => JSON.parse(line) as ProbeReport).find((report) => report.pid === child.pid) ??
        null;
    }
    return {
      wallMs,
      code,
      signal,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
      probe,
    };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** The median wall time of `runs` runs of a program that must exit 0, e.g. `node -e 0`. */
export async function medianWallMs(args: readonly string[], runs: number): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runNode(args);
    if (run.code !== 0) throw new Error(`node ${args.join(" ")} exited ${run.code}: ${run.stderr.trim()}`);
    walls.push(run.wallMs);
  }
  return median(walls);
}
