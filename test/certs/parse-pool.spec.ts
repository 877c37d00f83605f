// The parse pool as the daemon and `check` run it: the compiled worker thread (from the build under
// test), its results against the inline parser's, its start on first need and end when idle, and what
// happens when the worker cannot start or dies. Waits on the pool's own state, never on a clock.

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type * as PoolModuleType from "../../src/certs/parse-pool.js";
import type { ParsePool as ParsePoolClass } from "../../src/certs/parse-pool.js";
import { makeCert } from "../helpers/make-cert.js";

type PoolModule = typeof PoolModuleType;

let built: PoolModule;
let workerFile: string;
let pems: string[];
let dir: string;
const pools: ParsePoolClass[] = [];

function pool(options: { workerFile: string | null; idleMs?: number }): ParsePoolClass {
  const made = new built.ParsePool(options);
  pools.push(made);
  return made;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 60_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  const builtSrc = inject("builtSrc");
  workerFile = join(builtSrc, "certs", "parse-worker.js");
  built = (await import(pathToFileURL(join(builtSrc, "certs", "parse-pool.js")).href)) as PoolModule;
  const ec = await makeCert({ cn: "pool-ec.example.test" });
  const rsa = await makeCert({ cn: "pool-rsa.example.test", key: { kind: "rsa", bits: 2048 } });
  const ca = await makeCert({ cn: "Pool CA", key: { kind: "ec", curve: "P-384" } });
  const issued = await makeCert({ cn: "pool-issued.example.test", issuer: ca });
  pems = [
    ec.pem,
    rsa.pem,
    `${issued.pem}\n${ca.pem}`,
    ec.pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").trim(),
    "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    "",
  ];
  dir = await mkdtemp(join(tmpdir(), "parse-pool-"));
});

afterAll(async () => {
  await Promise.all(pools.map((made) => made.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("ParsePool with the compiled worker", () => {
  it("answers what the inline parser answers, in order, Dates as Dates", async () => {
    const made = pool({ workerFile });
    const results = await made.parseAll(pems);
    expect(made.workersStarted).toBe(1);
    expect(results).toEqual(pems.map(parseCertificate));
    const first = results[0]!;
    expect(first.ok && first.certificate.notAfter instanceof Date).toBe(true);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false, false, false]);
  });

  it("sends only what its cache does not know: a repeated PEM never reaches the worker", async () => {
    const made = pool({ workerFile });
    await made.parseAll(pems.slice(0, 3));
    const batchesBefore = made.batchesSent;
    const again = await made.parseAll(pems.slice(0, 3));
    expect(made.batchesSent).toBe(batchesBefore);
    expect(again).toEqual(pems.slice(0, 3).map(parseCertificate));
  });

  it("serves concurrent batches from one worker and ends it once idle; the next need starts another", async () => {
    const made = pool({ workerFile, idleMs: 50 });
    const fresh = await Promise.all(
      Array.from({ length: 6 }, (_, i) => makeCert({ cn: `pool-batch-${i}.example.test` })),
    );
    const results = await Promise.all(fresh.map((cert) => made.parseAll([cert.pem])));
    expect(results.every(([result]) => result?.ok === true)).toBe(true);
    expect(made.workersStarted).toBe(1);
    await until(() => !made.running, "the idle worker to end");
    const later = await makeCert({ cn: "pool-later.example.test" });
    expect((await made.parseAll([later.pem]))[0]?.ok).toBe(true);
    expect(made.workersStarted).toBe(2);
  });

  it("parses inline when the worker cannot start, and does not try again", async () => {
    const made = pool({ workerFile: join(dir, "missing-worker.js") });
    const fresh = await makeCert({ cn: "pool-missing.example.test" });
    const [result] = await made.parseAll([fresh.pem]);
    expect(result).toEqual(parseCertificate(fresh.pem));
    const second = await makeCert({ cn: "pool-missing-2.example.test" });
    expect((await made.parseAll([second.pem]))[0]?.ok).toBe(true);
    expect(made.workersStarted).toBe(1);
  });

  it("parses inline what a worker that dies was holding", async () => {
    const dying = join(dir, "dying-worker.mjs");
    await writeFile(
      dying,
      'import { parentPort } from "node:worker_threads";\nparentPort.on("message", () => process.exit(7));\n',
    );
    const made = pool({ workerFile: dying });
    const fresh = await Promise.all([0, 1].map((i) => makeCert({ cn: `pool-dying-${i}.example.test` })));
    const results = await made.parseAll(fresh.map((cert) => cert.pem));
    expect(results).toEqual(fresh.map((cert) => parseCertificate(cert.pem)));
    expect(made.running).toBe(false);
  });

  it("never keeps a finished process alive, even with a long idle time", async () => {
    const script = [
      `import { ParsePool } from ${JSON.stringify(pathToFileURL(join(inject("builtSrc"), "certs", "parse-pool.js")).href)};`,
      `const pool = new ParsePool({ workerFile: ${JSON.stringify(workerFile)}, idleMs: 600000 });`,
      `const [result] = await pool.parseAll([${JSON.stringify(pems[0])}]);`,
      "console.log(result.ok, pool.running);",
    ].join("\n");
    const file = join(dir, "exits.mjs");
    await writeFile(file, script);
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const ceiling = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.once("exit", (exitCode) => {
        clearTimeout(ceiling);
        resolve(exitCode);
      });
    });
    expect(output.trim()).toBe("true true");
    expect(code).toBe(0);
  });
});
