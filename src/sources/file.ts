// The `file` source: PEM files in a directory (a mounted Kubernetes secret, cert-manager output) or one
// file, read afresh on every call because a mounted secret changes under us. It reports what it could not
// read as data and never throws; whether a certificate is acceptable is decided by validateCandidate.

import { open, readdir, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { isPrivateKeyLabel, pemLabels } from "../certs/validate.js";
import type { Offer } from "../core/offer.js";
import type { SourceInput, SourceNote } from "./types.js";

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

export interface FileSourceOptions {
  /** Files larger than this are reported, not read. Default 1 MiB. */
  readonly maxFileBytes?: number;
}

export interface FileSourceResult {
  /** One per certificate-bearing file, in file-name order. */
  readonly inputs: readonly SourceInput[];
  /** What the operator should look at: a missing path, an unreadable, oversized or non-PEM file. */
  readonly problems: readonly SourceNote[];
  /** Skipped on purpose, worth a debug line: a private key beside its certificate, a sub-directory. */
  readonly ignored: readonly SourceNote[];
}

interface Collector {
  readonly inputs: SourceInput[];
  readonly problems: SourceNote[];
  readonly ignored: SourceNote[];
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory (or a broken symbolic link)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** Reads at most `limit` + 1 bytes, so a file that grew past the cap since its stat is still caught. */
async function readBounded(file: string, limit: number): Promise<Buffer | null> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > limit ? null : buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

// EC PARAMETERS precede the key in `openssl ecparam -genkey` output: still key material, not a certificate.
function isKeyMaterial(label: string): boolean {
  return isPrivateKeyLabel(label) || label === "EC PARAMETERS";
}

async function readEntry(file: string, maxFileBytes: number, into: Collector): Promise<void> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    into.problems.push({ origin: file, message: describeError(error) });
    return;
  }
  if (info.isDirectory()) {
    into.ignored.push({ origin: file, message: "a sub-directory; the file source does not recurse" });
    return;
  }
  if (!info.isFile()) {
    into.problems.push({ origin: file, message: "not a regular file" });
    return;
  }
  if (info.size > maxFileBytes) {
    into.problems.push({ origin: file, message: `${info.size} bytes, over the ${maxFileBytes}-byte cap` });
    return;
  }
  let bytes: Buffer | null;
  try {
    bytes = await readBounded(file, maxFileBytes);
  } catch (error) {
    into.problems.push({ origin: file, message: describeError(error) });
    return;
  }
  if (bytes === null) {
    into.problems.push({ origin: file, message: `grew over the ${maxFileBytes}-byte cap while being read` });
    return;
  }
  const text = bytes.toString("utf8");
  const labels = pemLabels(text);
  if (labels.length === 0) {
    into.problems.push({ origin: file, message: "not PEM (no -----BEGIN line)" });
  } else if (labels.every(isKeyMaterial)) {
    into.ignored.push({
      origin: file,
      message: "holds only a private key; its certificate is read from its own file",
    });
  } else {
    into.inputs.push({ origin: file, text });
  }
}

/**
 * Reads a directory's regular files (following symbolic links, skipping dot-entries such as a Kubernetes
 * secret mount's `..data`, not recursing) or a single file.
 */
export async function readFileSource(
  path: string,
  options: FileSourceOptions = {},
): Promise<FileSourceResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const result: Collector = { inputs: [], problems: [], ignored: [] };
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    result.problems.push({ origin: path, message: describeError(error) });
    return result;
  }
  if (!info.isDirectory()) {
    await readEntry(path, maxFileBytes, result);
    return result;
  }
  let names: string[];
  try {
    names = await readdir(path);
  } catch (error) {
    result.problems.push({ origin: path, message: describeError(error) });
    return result;
  }
  for (const name of names.filter((entry) => !entry.startsWith(".")).sort()) {
    await readEntry(join(path, name), maxFileBytes, result);
  }
  return result;
}

/** The file source as an Offer: the newest acceptable file wins when rotation is due. */
export function fileOffer(result: Pick<FileSourceResult, "inputs" | "problems">): Offer {
  return {
    ok: true,
    source: "file",
    mode: "pick",
    certificates: result.inputs.map((input) => ({ ...input, keyId: null })),
    signing: { kind: "none" },
    signer: null,
    manage: null,
    problems: result.problems,
  };
}
