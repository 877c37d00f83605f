// Child processes for tests that drive real programs (npm, the packed CLI, Prometheus, Alertmanager):
// run one to completion, or keep one in the background and stop it (SIGTERM, then SIGKILL) even when the
// test failed; bounded polling with the programs' output in the error; free ports on 127.0.0.1.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProcessOptions {
  readonly cwd?: string;
  /** The whole environment of the child: nothing of the test process leaks in unless passed here. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Kept per stream so a chatty program cannot grow a test's memory without bound. */
const OUTPUT_LIMIT = 256 * 1024;

class Tail {
  text = "";
  push(chunk: Buffer): void {
    this.text += chunk.toString("utf8");
    if (this.text.length > OUTPUT_LIMIT) this.text = this.text.slice(-OUTPUT_LIMIT);
  }
}

export interface Background {
  readonly child: ChildProcess;
  readonly exited: Promise<Finished>;
  /** What it wrote so far, both streams, for assertion messages. */
  readonly output: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. Safe to call twice. */
  readonly stop: (graceMs?: number) => Promise<Finished>;
}

export function startProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Background {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<Finished>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({ code, signal, stdout: stdout.text, stderr: stderr.text }),
    );
  });
  return {
    child,
    exited,
    output: () => `--- stdout\n${stdout.text}\n--- stderr\n${stderr.text}`,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}

/** Runs to completion; a non-zero exit is a result, not an error. Killed after `timeoutMs`. */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions & { readonly timeoutMs?: number } = {},
): Promise<Finished> {
  const running = startProcess(command, args, options);
  const timer = setTimeout(() => void running.stop(1_000), options.timeoutMs ?? 120_000);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Polls `probe` until it returns a value other than null/undefined/false, at most `timeoutMs`. A probe
 * that throws counts as "not yet" (a server still starting); the last error goes into the timeout message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly diagnostics?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${why}\n${options.diagnostics?.() ?? ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
