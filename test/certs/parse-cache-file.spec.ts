// The parse cache kept in state_dir: what one process parsed, the next finds without parsing (two real
// processes of the build under test), and every file it cannot use or write: ignored or reported once,
// never an error and never a half-written file.

import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PARSE_CACHE_FILE, ParseCacheFile } from "../../src/certs/parse-cache-file.js";
import { locate, parseDer, parseStats, remember } from "../../src/certs/parse.js";
import { createLogger } from "../../src/log.js";
import { makeCert } from "../helpers/make-cert.js";
import { withoutRoot } from "../helpers/without-root.js";

let dir: string;
let pems: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sso-parse-cache-"));
  pems = await Promise.all(
    [1, 2, 3].map((n) => makeCert({ cn: `cache-${n}.example.test` }).then((c) => c.pem)),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  readonly level: string;
  readonly msg: string;
}

/** A logger whose lines land in `lines`, as parsed JSON. */
function capturingLogger(lines: Line[]) {
  return createLogger({
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
  });
}

/** Counts one parse of `pem` as a scan's would, known to the cache or not. */
function countParse(pem: string): void {
  const located = locate(pem);
  if ("input" in located) return remember(located.input, parseDer(located.input));
  if (!located.result.ok) throw new Error("expected a certificate");
  const { fingerprintSha256, chainLength } = located.result.certificate;
  remember({ der: new Uint8Array(), fingerprintSha256, chainLength }, located.result);
}

/** The file's entry for a certificate no process here has parsed, as parseDer gives it. */
function entryOf(pem: string) {
  const located = locate(pem);
  if (!("input" in located)) throw new Error("expected a PEM the cache does not know");
  const { fingerprintSha256, chainLength } = located.input;
  return { fingerprintSha256, chainLength, result: parseDer(located.input) };
}

/** The file as the cache writes it: a header line, then one line per entry. */
function writeCache(stateDir: string, version: string, entries: readonly unknown[]): void {
  const lines = [{ format: 1, version }, ...entries].map((line) => JSON.stringify(line));
  writeFileSync(join(stateDir, PARSE_CACHE_FILE), `${lines.join("\n")}\n`);
}

describe("two processes of the built CLI's modules", () => {
  /** Parses `pems` in a fresh process with the cache file of `stateDir`; its parse stats and results. */
  async function parseInProcess(stateDir: string) {
    const built = inject("builtSrc");
    const script = `
      const { ParseCacheFile } = await import(${JSON.stringify(pathToFileURL(join(built, "certs/parse-cache-file.js")).href)});
      const { parsePool } = await import(${JSON.stringify(pathToFileURL(join(built, "certs/parse-pool.js")).href)});
      const { parseStats } = await import(${JSON.stringify(pathToFileURL(join(built, "certs/parse.js")).href)});
      const { createLogger } = await import(${JSON.stringify(pathToFileURL(join(built, "log.js")).href)});
      const file = new ParseCacheFile(process.argv[1], createLogger({ level: "silent" }));
      const loaded = await file.load();
      const results = await parsePool.parseAll(JSON.parse(process.env.PEMS));
      await file.save();
      process.stdout.write(JSON.stringify({ loaded, stats: parseStats(), results }));
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, stateDir], {
      env: { ...process.env, PEMS: JSON.stringify(pems) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, err).toBe(0);
    return JSON.parse(out) as {
      loaded: { kind: string; entries?: number };
      stats: { parses: number; cacheHits: number };
      results: unknown[];
    };
  }

  it("the second parses nothing and gets the first's results, field for field", async () => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    const first = await parseInProcess(stateDir);
    expect(first.loaded).toEqual({ kind: "missing" });
    expect(first.stats).toEqual({ parses: 3, cacheHits: 0 });
    expect(statSync(join(stateDir, PARSE_CACHE_FILE)).mode & 0o777).toBe(0o600);

    const second = await parseInProcess(stateDir);
    expect(second.loaded).toEqual({ kind: "loaded", entries: 3 });
    expect(second.stats).toEqual({ parses: 0, cacheHits: 3 });
    expect(second.results).toEqual(first.results);
  });
});

describe("ParseCacheFile in this process", () => {
  it("adopts a file's entries: a PEM it holds is a cache hit, with its dates as Dates", async () => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    const entry = entryOf(pems[0]!);
    writeCache(stateDir, "test-version", [entry]);
    const file = new ParseCacheFile(stateDir, capturingLogger([]), "test-version");
    expect(await file.load()).toEqual({ kind: "loaded", entries: 1 });
    const hits = parseStats().cacheHits;
    const found = locate(pems[0]!);
    expect(parseStats().cacheHits).toBe(hits + 1);
    expect(found).toEqual({ result: entry.result });
    if (!("result" in found) || !found.result.ok) throw new Error("expected a parsed certificate");
    expect(found.result.certificate.notAfter).toBeInstanceOf(Date);
  });

  it.each([
    ["not JSON lines", "{ half\n", "not JSON lines"],
    ["another format", `${JSON.stringify({ format: 2, version: "v" })}\n`, "not a parse cache"],
    ["another version", `${JSON.stringify({ format: 1, version: "0.0.1" })}\n`, "written by version 0.0.1"],
    ["empty", "", "empty"],
  ])("ignores a file that is %s, says why at debug level, and leaves it as it is", async (_, text, why) => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    writeFileSync(join(stateDir, PARSE_CACHE_FILE), text);
    const lines: Line[] = [];
    const outcome = await new ParseCacheFile(stateDir, capturingLogger(lines), "v").load();
    expect(outcome.kind).toBe("ignored");
    expect(lines.map((line) => [line.level, line.msg])).toEqual([["debug", expect.stringContaining(why)]]);
    expect(readFileSync(join(stateDir, PARSE_CACHE_FILE), "utf8")).toBe(text);
  });

  it("drops the entries that do not hold up and keeps the others", async () => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    const good = entryOf(pems[1]!);
    const other = entryOf(pems[2]!);
    const filedUnderAnother = { ...other, fingerprintSha256: "0".repeat(64) };
    const badDate = JSON.parse(JSON.stringify(entryOf(pems[2]!))) as { result: { certificate: object } };
    Object.assign(badDate.result.certificate, { notAfter: "next year" });
    writeCache(stateDir, "v", [filedUnderAnother, badDate, good, 42]);
    writeFileSync(join(stateDir, PARSE_CACHE_FILE), "{ not json\n", { flag: "a" });
    expect(await new ParseCacheFile(stateDir, capturingLogger([]), "v").load()).toEqual({
      kind: "loaded",
      entries: 1,
    });
    expect(locate(pems[1]!)).toEqual({ result: good.result });
    expect(locate(pems[2]!)).toHaveProperty("input");
  });

  it("writes nothing where state_dir does not exist, and says nothing about it", async () => {
    const lines: Line[] = [];
    const stateDir = join(dir, "never-created");
    const file = new ParseCacheFile(stateDir, capturingLogger(lines), "v");
    await file.load();
    countParse(pems[0]!);
    await file.save();
    expect(() => statSync(stateDir)).toThrow(/ENOENT/);
    expect(lines.filter((line) => line.level !== "debug")).toEqual([]);
  });

  it("reports a state_dir it cannot write once, not at every scan, and never rejects", async () => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    chmodSync(stateDir, 0o500);
    const lines: Line[] = [];
    const file = new ParseCacheFile(stateDir, capturingLogger(lines), "v");
    await withoutRoot(async () => {
      for (const pem of pems) {
        countParse(pem);
        await file.save();
      }
    });
    chmodSync(stateDir, 0o700);
    const warnings = lines.filter((line) => line.level === "warn").map((line) => line.msg);
    expect(warnings).toEqual([expect.stringMatching(/^parse cache not written .*EACCES/)]);
  });

  it("writes only when something was parsed since the last write", async () => {
    const stateDir = mkdtempSync(join(dir, "state-"));
    const file = new ParseCacheFile(stateDir, capturingLogger([]), "v");
    await file.load();
    const path = join(stateDir, PARSE_CACHE_FILE);
    countParse(pems[0]!);
    await file.save();
    const written = readFileSync(path, "utf8");
    writeFileSync(path, "left alone");
    await file.save();
    expect(readFileSync(path, "utf8")).toBe("left alone");
    expect(written.trimEnd().split("\n").length).toBeGreaterThan(1);
  });
});
