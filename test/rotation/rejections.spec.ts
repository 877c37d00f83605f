// Every rule a replacement certificate must pass, each with a real generated file going through the file
// source (read from disk like a mounted secret) and the planner: the note names the reason, nothing is
// uploaded. One acceptable certificate is the control that the same path does upload.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateCsr } from "../../src/certs/generate.js";
import { EMPTY_JOURNAL } from "../../src/core/journal.js";
import { plan } from "../../src/core/plan.js";
import { fileOffer, readFileSource } from "../../src/sources/file.js";
import { makeCert } from "../helpers/make-cert.js";
import {
  certificate,
  rotationConfig,
  rule,
  scannedIntegration,
  singleAccount,
} from "../core/plan-fixtures.js";

const NOW = new Date("2026-03-01T12:00:00Z");

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "rejections-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Plans a due integration (its certificate ends in 5 days; `disabled` ones sit beside it) against the file
 * source holding `file`.
 */
async function planWith(file: string, text: string, disabled: readonly string[] = []) {
  await writeFile(join(dir, file), text);
  const current = await makeCert({ cn: "current", now: NOW, fromDays: -300, toDays: 5 });
  const source = { type: "file", path: dir } as const;
  const rotation = rotationConfig([rule({ id: "1" }, source)]);
  const offer = fileOffer(await readFileSource(dir));
  const certificates = [
    certificate("10", "1", current.pem),
    ...disabled.map((pem, i) => certificate(String(11 + i), "1", pem, false)),
  ];
  return plan({
    scanned: singleAccount([scannedIntegration("1", certificates, "Okta")], NOW),
    offers: new Map([[0, offer]]),
    rotation,
    journal: EMPTY_JOURNAL,
    now: NOW,
  });
}

function messages(planned: Awaited<ReturnType<typeof planWith>>): string[] {
  return planned.notes.map((n) => `${n.level}: ${n.message}`);
}

describe("a replacement is refused, with its reason, when it is", () => {
  test("expired", async () => {
    const cert = await makeCert({ now: NOW, fromDays: -400, toDays: -1 });
    const planned = await planWith("expired.pem", cert.pem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toHaveLength(1);
    expect(messages(planned)[0]).toContain(
      `warn: rotation due but no acceptable replacement: ${join(dir, "expired.pem")}: expired at ${new Date(
        NOW.getTime() - 86_400_000,
      ).toISOString()} (now ${NOW.toISOString()})`,
    );
  });

  test("not valid yet", async () => {
    const cert = await makeCert({ now: NOW, fromDays: 2, toDays: 400 });
    const planned = await planWith("future.pem", cert.pem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      `warn: rotation due but no acceptable replacement: ${join(dir, "future.pem")}: not valid before ${new Date(
        NOW.getTime() + 2 * 86_400_000,
      ).toISOString()} (now ${NOW.toISOString()})`,
    ]);
  });

  test("RSA of 1024 bits", async () => {
    const cert = await makeCert({ now: NOW, key: { kind: "rsa", bits: 1024 } });
    const planned = await planWith("weak.pem", cert.pem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      `warn: rotation due but no acceptable replacement: ${join(dir, "weak.pem")}: RSA key of 1024 bits; at least 2048 required`,
    ]);
  });

  test("in a file that also holds the private key", async () => {
    const cert = await makeCert({ now: NOW });
    const planned = await planWith("bundle.pem", cert.pem + cert.privateKeyPem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      `warn: rotation due but no acceptable replacement: ${join(dir, "bundle.pem")}: holds a private key (PRIVATE KEY); a private key is never uploaded`,
    ]);
    // Not even the certificate part of it, and the key never reaches a note.
    expect(JSON.stringify(planned)).not.toContain(cert.privateKeyPem.split("\n")[1]!);
  });

  test("a certificate signing request", async () => {
    const planned = await planWith("request.csr", await generateCsr("okta.example.test"));
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      `warn: rotation due but no acceptable replacement: ${join(dir, "request.csr")}: a certificate signing request (CSR), not a certificate`,
    ]);
  });

  test("garbage inside PEM armour", async () => {
    const planned = await planWith(
      "broken.pem",
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n",
    );
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toHaveLength(1);
    expect(messages(planned)[0]).toMatch(
      new RegExp(`^warn: rotation due but no acceptable replacement: ${join(dir, "broken.pem")}: \\S`),
    );
  });

  test("garbage that is not PEM at all", async () => {
    const planned = await planWith("notes.txt", "rotate the okta cert next week\n");
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      `warn: source: ${join(dir, "notes.txt")}: not PEM (no -----BEGIN line)`,
      "warn: rotation due but no acceptable replacement: the source holds no certificate",
    ]);
  });

  test("a private key alone", async () => {
    const cert = await makeCert({ now: NOW });
    const planned = await planWith("tls.key", cert.privateKeyPem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)).toEqual([
      "warn: rotation due but no acceptable replacement: the source holds no certificate",
    ]);
  });

  test("already on the integration (disabled there: the tool does not upload it a second time)", async () => {
    const cert = await makeCert({ now: NOW, toDays: 400 });
    const planned = await planWith("same.pem", cert.pem, [cert.pem]);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)[0]).toContain(
      `${join(dir, "same.pem")}: certificate ${cert.fingerprintSha256} is already on the integration`,
    );
  });

  test("ending no later than the current best certificate", async () => {
    const cert = await makeCert({ now: NOW, fromDays: -10, toDays: 4 });
    const planned = await planWith("shorter.pem", cert.pem);
    expect(planned.actions).toEqual([]);
    expect(messages(planned)[0]).toMatch(/shorter\.pem: expires .*, not after the current best certificate/);
  });
});

describe("the control", () => {
  test.each([
    ["EC P-256", { kind: "ec", curve: "P-256" }],
    ["RSA 2048", { kind: "rsa", bits: 2048 }],
  ] as const)("a valid %s certificate in the same place is uploaded", async (_name, key) => {
    const cert = await makeCert({ now: NOW, key });
    const planned = await planWith("next.pem", cert.pem);
    expect(planned.notes).toEqual([]);
    expect(planned.actions).toMatchObject([
      { kind: "upload", rotation: { fingerprint: cert.fingerprintSha256, pem: cert.pem } },
    ]);
  });
});
