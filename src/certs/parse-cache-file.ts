// The parse cache (parse.ts) kept in state_dir, so that a fresh process (a `check` run by a monitoring
// system every few minutes, a daemon after a restart) parses only certificates no earlier run has seen.
// Parsing 3,000 certificates with @peculiar/x509 costs about 2 s of CPU; reading them back costs
// milliseconds. A cache it cannot use (missing, damaged, written by another version) is ignored and
// written again; one it cannot write is reported once and the scan goes on: it is never an error of the
// command. Kept only where state_dir exists: the daemon creates it, `check` never does (run from any
// directory, it must not leave ./data behind). JSON lines, a header then one certificate per line, read
// as a stream: neither the whole text nor one long parse holds the event loop or the memory of the scan
// that has begun meanwhile. Written whole and atomically (atomic-file.ts), 0600 like the journal, and
// trusted like the journal: see docs/security.md.

import { createReadStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setImmediate as nextTurn } from "node:timers/promises";
import { z } from "zod";
import type { ParseResult } from "../core/model.js";
import { REASON_CODES } from "../core/reasons.js";
import type { Logger } from "../log.js";
import { replaceFile } from "../rotation/atomic-file.js";
import { errnoCode } from "../rotation/errors.js";
import { VERSION } from "../version.js";
import { adoptCachedParses, cachedParses, parseStats, type CachedParse } from "./parse.js";
import { parsePool } from "./parse-pool.js";

export const PARSE_CACHE_FILE = "parse-cache.json";
/** The layout of the file; a program version of its own is also required, as a parse may change with it. */
const FORMAT = 1;

const FINGERPRINT = /^[0-9a-f]{64}$/;
const LINES_PER_TURN = 100;
const date = z.iso.datetime().transform((text) => new Date(text));

const resultSchema: z.ZodType<ParseResult, unknown> = z.union([
  z.object({
    ok: z.literal(true),
    certificate: z.object({
      fingerprintSha256: z.string().regex(FINGERPRINT),
      subject: z.string(),
      issuer: z.string(),
      subjectCn: z.string().nullable(),
      issuerCn: z.string().nullable(),
      serialNumber: z.string(),
      notBefore: date,
      notAfter: date,
      keyAlgorithm: z.enum(["RSA", "EC", "Ed25519", "Ed448", "unknown"]),
      keySize: z.number().int().positive().nullable(),
      signatureAlgorithm: z.string(),
      selfSigned: z.boolean(),
      chainLength: z.number().int().positive(),
    }),
  }),
  z.object({
    ok: z.literal(false),
    failure: z.object({ reason: z.enum(REASON_CODES), message: z.string() }),
  }),
]);

const entrySchema: z.ZodType<CachedParse, unknown> = z
  .object({
    fingerprintSha256: z.string().regex(FINGERPRINT),
    chainLength: z.number().int().positive(),
    result: resultSchema,
  })
  .refine(
    (entry) =>
      !entry.result.ok ||
      (entry.result.certificate.fingerprintSha256 === entry.fingerprintSha256 &&
        entry.result.certificate.chainLength === entry.chainLength),
    "an entry's certificate is not the one it is filed under",
  );

const headerSchema = z.object({ format: z.literal(FORMAT), version: z.string() });

function jsonOrNull(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** What load() found; `ignored` says why a file that was there was not used. */
export type CacheLoad =
  | { readonly kind: "missing" }
  | { readonly kind: "loaded"; readonly entries: number }
  | { readonly kind: "ignored"; readonly problem: string };

export class ParseCacheFile {
  readonly path: string;
  private loading: Promise<CacheLoad> | null = null;
  /** parseStats().parses when the file last matched the cache: more since then is worth a write. */
  private savedAtParses: number | null = null;
  private saving: Promise<void> = Promise.resolve();
  private reportedWriteError: string | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly logger: Logger,
    private readonly version: string = VERSION,
  ) {
    this.path = join(stateDir, PARSE_CACHE_FILE);
  }

  /**
   * Reads the file into the parse cache, once per process; later calls return the first outcome. Needs no
   * await: the parse pool holds its lookups until the file is in, while the scan's requests go out.
   */
  load(): Promise<CacheLoad> {
    if (this.loading) return this.loading;
    this.loading = this.read()
      .catch((error: unknown): CacheLoad => ({ kind: "ignored", problem: String(error) }))
      .then((outcome) => {
        if (outcome.kind === "loaded") {
          this.savedAtParses = parseStats().parses;
          this.logger.debug({ file: this.path, entries: outcome.entries }, "parse cache loaded");
        }
        if (outcome.kind === "ignored")
          this.logger.debug({ file: this.path }, `parse cache ignored: ${outcome.problem}`);
        return outcome;
      });
    parsePool.lookUpAfter(this.loading);
    return this.loading;
  }

  /** Writes the cache if this process parsed something since the last write (or the load). Never rejects. */
  save(): Promise<void> {
    this.saving = this.saving.then(() => this.write());
    return this.saving;
  }

  private async read(): Promise<CacheLoad> {
    const lines = createInterface({
      input: createReadStream(this.path, { encoding: "utf8" }),
      crlfDelay: Infinity,
    });
    let entries = 0;
    let read = 0;
    let header = true;
    try {
      for await (const line of lines) {
        if (header) {
          header = false;
          const problem = this.headerProblem(line);
          if (problem !== null) return { kind: "ignored", problem };
          continue;
        }
        // Entry by entry: one bad entry costs that entry, not the whole cache.
        const entry = entrySchema.safeParse(jsonOrNull(line));
        if (entry.success) {
          adoptCachedParses([entry.data]);
          entries++;
        }
        // Lines that arrived together are handed over in one run of microtasks: a turn of the event loop
        // every hundred keeps the scan's answers flowing meanwhile.
        if (++read % LINES_PER_TURN === 0) await nextTurn();
      }
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return { kind: "missing" };
      return { kind: "ignored", problem: error instanceof Error ? error.message : String(error) };
    } finally {
      lines.close();
    }
    if (header) return { kind: "ignored", problem: "empty" };
    return { kind: "loaded", entries };
  }

  private headerProblem(line: string): string | null {
    const json = jsonOrNull(line);
    if (json === null) return "not JSON lines";
    const file = headerSchema.safeParse(json);
    if (!file.success) return "not a parse cache of this format";
    if (file.data.version !== this.version)
      return `written by version ${file.data.version}, not ${this.version}`;
    return null;
  }

  private async write(): Promise<void> {
    const parses = parseStats().parses;
    if (parses === this.savedAtParses) return;
    const lines = [{ format: FORMAT, version: this.version }, ...cachedParses()].map((line) =>
      JSON.stringify(line),
    );
    const content = `${lines.join("\n")}\n`;
    try {
      await replaceFile(this.path, content);
      this.savedAtParses = parses;
      this.reportedWriteError = null;
    } catch (error) {
      // No state_dir: nowhere to keep it, and nothing wrong.
      if (errnoCode(error) === "ENOENT") return;
      const message = error instanceof Error ? error.message : String(error);
      // By errno: the message names a temp file of its own each time.
      const kind = errnoCode(error) ?? message;
      if (kind === this.reportedWriteError) return;
      this.reportedWriteError = kind;
      this.logger.warn(
        { file: this.path },
        `parse cache not written (the scan is unaffected; the next process parses again): ${message}`,
      );
    }
  }
}
