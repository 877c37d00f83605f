// What the crash tests share: the `run` CLI of the global setup's build, started in a child process and
// killed with SIGKILL; waits on progress (the journal on disk, request counts) with generous ceilings,
// never on wall-clock guesses; seeded runs a few at a time, from CRASH_SEED or a seed it prints, with a
// failure message that replays them. Knows nothing of what a run checks. Every child it starts is killed
// by killChildren() if still alive.

import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

export interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Ceiling of until() unless told: far above any step's duration on a loaded machine. */
export const STEP_CEILING_MS = 120_000;
/** A failure message shows this many of the last child's last lines: the end is what explains it. */
const OUTPUT_LINES = 200;

const children = new Set<ChildProcess>();

/** The built CLI's path. */
export const builtCli = (): string => join(inject("builtSrc"), "cli.js");

/**
 * A test's own timeout, only a backstop for an await that has no ceiling of its own: `waits` waits in turn,
 * each at its full ceiling. Load makes steps slower; only a step that stalls fails, at its ceiling, by name.
 */
export const backstop = (waits: number, ceilingMs = STEP_CEILING_MS): number => waits * ceilingMs;

/** The first seed of the seeded runs: CRASH_SEED to replay a failure, else drawn and printed. */
export function crashSeed(): number {
  const given = process.env.CRASH_SEED;
  if (given !== undefined) {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed))
      throw new Error(`CRASH_SEED must be an integer, not ${JSON.stringify(given)}`);
    return seed;
  }
  const seed = Math.floor(Math.random() * 2 ** 31);
  console.info(`crash runs: drew seed ${seed} (CRASH_SEED=${seed} replays them)`);
  return seed;
}

/** `cli run --config configFile` with exactly `env` (and PATH): secrets reach the child only this way. */
export function startRun(cli: string, configFile: string, env: Readonly<Record<string, string>>): Running {
  const child = spawn(process.execPath, [cli, "run", "--config", configFile], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** SIGKILL for every child still running (afterEach). */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

/** SIGTERM, then the exit code once the child has stopped (within the ceiling). */
export async function terminate(running: Running): Promise<number | null> {
  running.child.kill("SIGTERM");
  await until(
    "the child to stop after SIGTERM",
    () => running.child.exitCode !== null || running.child.signalCode !== null,
    running,
  );
  return running.exited;
}

/** SIGKILL, then wait for the exit: the child is gone when this resolves. */
export async function kill(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGKILL");
  await running.exited;
}

/** Polls `check` until true; past `ceilingMs` throws naming `what`, with the child's output if given. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  running?: Running,
  ceilingMs = STEP_CEILING_MS,
): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${running ? `; child output:\n${running.output()}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const journalPath = (stateDir: string) => join(stateDir, "journal.json");

/**
 * The journal's content as the child last wrote it, untyped beyond what a test names in `T`; null while
 * there is none or it cannot be read (the store's own load() is what judges corruption).
 */
export async function journalOnDisk<T>(stateDir: string): Promise<T | null> {
  try {
    const text = await readFile(journalPath(stateDir), "utf8");
    return (JSON.parse(text) as { data: T }).data;
  } catch {
    return null;
  }
}

/** The kills of one seeded run, for its failure message. */
export class KillTrace {
  readonly #lines: string[] = [];

  add(line: string): void {
    this.#lines.push(line);
  }

  /**
   * An error naming the seed, how to replay it, the kills (each with the step on disk when it landed), the
   * cause, the journal in `stateDir` as it is now, and the last child's output tail.
   */
  async failure(
    seed: number,
    replay: string,
    error: unknown,
    last: Running | null,
    stateDir: string,
  ): Promise<Error> {
    const journal = await readFile(journalPath(stateDir), "utf8").catch(
      (reason: unknown) => `(unreadable: ${reason instanceof Error ? reason.message : String(reason)})`,
    );
    const lines = last?.output().split("\n") ?? [];
    const output = last
      ? `\nlast child's output (last ${OUTPUT_LINES} lines):\n${lines.slice(-OUTPUT_LINES).join("\n")}`
      : "";
    return new Error(
      `crash run with seed ${seed} failed (replay: ${replay}); ${this.#lines.join("; ")}: ${
        error instanceof Error ? error.message : String(error)
      }\njournal on disk:\n${journal}${output}`,
      { cause: error },
    );
  }
}

/** Runs `run(seed)` for each seed, `parallel` at a time; returns the failures' messages. */
export async function runSeeds(
  seeds: readonly number[],
  parallel: number,
  run: (seed: number) => Promise<void>,
): Promise<string[]> {
  const queue = [...seeds];
  const failures: string[] = [];
  const worker = async () => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift())
      await run(seed).catch((error: unknown) => failures.push((error as Error).message));
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}
