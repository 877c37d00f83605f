// Child processes for the tests that kill or race real processes: a fixture of test/rotation/fixtures
// started with node, its stdout collected line by line. The modules a fixture imports come built from
// the global setup, whose directory every fixture gets as its first argument: nothing here compiles.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** How long waitForLine() waits: far above a child's start and one step on a loaded machine. */
export const CHILD_CEILING_MS = 120_000;

export interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /**
   * Resolves with the first line (past or future) that satisfies `match`; rejects if the child ends first
   * or none comes within CHILD_CEILING_MS.
   */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves once the child has exited and its stdout is drained. */
  readonly closed: Promise<void>;
}

/** Runs `node test/rotation/fixtures/<fixture> <built src dir> ...args`. */
export function startChild(fixture: string, args: readonly string[]): Child {
  const child = spawn(
    process.execPath,
    [join(projectRoot, "test/rotation/fixtures", fixture), inject("builtSrc"), ...args],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let stderr = "";
  let ended = false;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<void>((resolve) => {
    child.on("close", () => {
      ended = true;
      for (const wake of waiters) wake();
      resolve();
    });
  });
  const waitForLine = (match: (line: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const stop = (): void => {
        waiters.delete(check);
        clearTimeout(ceiling);
      };
      const check = (): void => {
        const found = lines.find(match);
        if (found !== undefined) {
          stop();
          resolve(found);
        } else if (ended) {
          stop();
          reject(new Error(`child ${fixture} ended without the expected line; stderr: ${stderr}`));
        }
      };
      const ceiling = setTimeout(() => {
        stop();
        reject(
          new Error(
            `child ${fixture} printed no expected line within ${CHILD_CEILING_MS} ms; stdout: ${lines.join("\n")}; stderr: ${stderr}`,
          ),
        );
      }, CHILD_CEILING_MS);
      waiters.add(check);
      check();
    });
  return { process: child, lines, waitForLine, closed };
}
