// Makes `state_dir` ready before anything writes to it, or says in one line, naming the key, why it
// cannot be: a path through a file (ENOTDIR), a directory that cannot be created (/proc/nope: a
// pseudo-filesystem) or written. Creates missing directories one level at a time, mode 0700 (Node's
// recursive mkdir spins forever on /proc/…), and never changes an existing directory's mode or owner.

import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** The mode of the directories it creates: the journal and the audit log are for this user only. */
export const STATE_DIR_MODE = 0o700;

/** state_dir cannot be used; the message names the key and the path. */
export class StateDirError extends Error {
  readonly code = "STATE_DIR";
  override readonly name = "StateDirError";

  constructor(
    readonly dir: string,
    readonly reason: string,
    /** The system error behind it, with its errno `code`. */
    cause: Error,
  ) {
    super(`state_dir: ${dir} ${reason}`, { cause });
  }
}

function errnoOf(error: unknown): string {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "error";
}

function describe(error: unknown): string {
  switch (errnoOf(error)) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "is on a read-only filesystem";
    case "ENOSPC":
      return "no space left on the device";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** Creates `dir` (and missing parents, 0700) and checks that this process can write in it. Synchronous. */
export function prepareStateDir(dir: string): void {
  createStateDir(dir);
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new StateDirError(dir, `cannot be written: ${describe(error)}`, asError(error));
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Creates `dir` and its missing parents, 0700, one level at a time. Synchronous. */
export function createStateDir(dir: string): void {
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) {
        const cause = Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), {
          code: "ENOTDIR",
        });
        throw new StateDirError(
          dir,
          existing === dir ? "is not a directory" : `cannot be created: ${existing} is not a directory`,
          cause,
        );
      }
      break;
    } catch (error) {
      if (error instanceof StateDirError) throw error;
      const code = errnoOf(error);
      // ENOTDIR: some component above is a file; walking up finds it and says which.
      if (code !== "ENOENT" && code !== "ENOTDIR")
        throw new StateDirError(dir, `cannot be read: ${describe(error)}`, asError(error));
      missing.unshift(existing);
      const parent = dirname(existing);
      if (parent === existing) throw new StateDirError(dir, "cannot be created", asError(error));
      existing = parent;
    }
  }
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: STATE_DIR_MODE });
    } catch (error) {
      if (errnoOf(error) === "EEXIST") continue;
      throw new StateDirError(dir, `cannot be created (${path}): ${describe(error)}`, asError(error));
    }
  }
}
