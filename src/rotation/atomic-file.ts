// How bytes reach disk whole: replace a file, or create one that must not exist yet, by writing a
// fsynced temp file beside it and then renaming or linking it into place. A reader (or a process
// started after a crash) sees the old file or the new one, never a prefix. Knows no file formats.

import { randomBytes } from "node:crypto";
import { link, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "./errors.js";

/** The mode of every file it creates. */
export const STATE_FILE_MODE = 0o600;

// Some network and FUSE filesystems cannot fsync a directory. The rename or link has happened by then;
// only its survival of a power cut is weaker, which is no reason to fail the write.
const DIRECTORY_SYNC_UNSUPPORTED = new Set(["EINVAL", "ENOTSUP", "EISDIR", "EPERM"]);

/** Replaces (or creates) `path` with `content`, atomically and durably. */
export async function replaceFile(path: string, content: string): Promise<void> {
  const temp = await writeTempBeside(path, content);
  try {
    await rename(temp, path);
  } catch (error) {
    await removeIfPresent(temp);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `content` only if it does not exist; false when it does. The file appears with all
 * its content at once (link(2) of a complete temp file), so no one can ever read it empty or half-written.
 */
export async function createFileExclusively(path: string, content: string): Promise<boolean> {
  const temp = await writeTempBeside(path, content);
  try {
    await link(temp, path);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    await removeIfPresent(temp);
  }
  await syncDirectory(dirname(path));
  return true;
}

/** Makes renames, links and unlinks inside `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errnoCode(error) ?? "")) throw error;
  } finally {
    await handle.close();
  }
}

export async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
}

async function writeTempBeside(path: string, content: string): Promise<string> {
  // Unique per writer even across containers that all run as pid 1 on a shared volume; `wx` refuses
  // to reuse a name rather than write into another writer's temp file.
  const temp = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  // 0600: the journal, the lock and their copies are this user's alone (umask may only narrow it).
  const handle = await open(temp, "wx", STATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await removeIfPresent(temp);
    throw error;
  }
  return temp;
}
