import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { ValidationContext } from "../../src/certs/validate.js";
import { selectNewestCandidate } from "../../src/certs/validate.js";
import { readFileSource } from "../../src/sources/file.js";
import { makeCert } from "../helpers/make-cert.js";

const NOW = new Date("2025-06-01T12:00:00Z");

function context(overrides: Partial<ValidationContext> = {}): ValidationContext {
  return { now: NOW, presentFingerprints: new Set(), mustOutlive: null, ...overrides };
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "file-source-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readFileSource", () => {
  test("a directory with several certificates: the newest valid one wins, the others say why not", async () => {
    const older = await makeCert({ cn: "older", now: NOW, toDays: 100 });
    const newest = await makeCert({ cn: "newest", now: NOW, toDays: 400 });
    const expired = await makeCert({ cn: "expired", now: NOW, fromDays: -400, toDays: -1 });
    const future = await makeCert({ cn: "future", now: NOW, fromDays: 5, toDays: 800 });
    const withKey = await makeCert({ cn: "with-key", now: NOW, toDays: 900 });
    await writeFile(join(dir, "a-older.pem"), older.pem);
    await writeFile(join(dir, "b-newest.crt"), newest.pem);
    await writeFile(join(dir, "c-expired.pem"), expired.pem);
    await writeFile(join(dir, "d-future.pem"), future.pem);
    await writeFile(join(dir, "e-bundle.pem"), withKey.pem + withKey.privateKeyPem);

    const result = await readFileSource(dir);
    expect(result.problems).toEqual([]);
    expect(result.inputs.map((input) => input.origin)).toEqual(
      ["a-older.pem", "b-newest.crt", "c-expired.pem", "d-future.pem", "e-bundle.pem"].map((name) =>
        join(dir, name),
      ),
    );
    const { candidate, rejections } = selectNewestCandidate(result.inputs, context());
    expect(candidate?.certificate.fingerprintSha256).toBe(newest.fingerprintSha256);
    expect(candidate?.origin).toBe(join(dir, "b-newest.crt"));
    expect(candidate?.pem).toBe(newest.pem);
    expect(rejections.map((rejection) => rejection.code).sort()).toEqual([
      "expired",
      "not_yet_valid",
      "private_key",
    ]);
    expect(rejections.find((rejection) => rejection.code === "private_key")?.message).toContain(
      "e-bundle.pem",
    );
  });

  test("no candidate when nothing outlives the current best certificate or all are present", async () => {
    const only = await makeCert({ now: NOW, toDays: 100 });
    await writeFile(join(dir, "tls.crt"), only.pem);
    const result = await readFileSource(dir);
    const outlive = selectNewestCandidate(
      result.inputs,
      context({ mustOutlive: new Date("2026-01-01T00:00:00Z") }),
    );
    expect(outlive.candidate).toBeNull();
    expect(outlive.rejections.map((rejection) => rejection.code)).toEqual(["does_not_outlive"]);
    const present = selectNewestCandidate(
      result.inputs,
      context({ presentFingerprints: new Set([only.fingerprintSha256]) }),
    );
    expect(present.candidate).toBeNull();
    expect(present.rejections.map((rejection) => rejection.code)).toEqual(["already_present"]);
  });

  test("equal notAfter: the later notBefore wins", async () => {
    const earlyStart = await makeCert({ cn: "early", now: NOW, fromDays: -60, toDays: 300 });
    const lateStart = await makeCert({ cn: "late", now: NOW, fromDays: -1, toDays: 300 });
    await writeFile(join(dir, "1.pem"), lateStart.pem);
    await writeFile(join(dir, "2.pem"), earlyStart.pem);
    const { candidate } = selectNewestCandidate((await readFileSource(dir)).inputs, context());
    expect(candidate?.certificate.fingerprintSha256).toBe(lateStart.fingerprintSha256);
  });

  test("a Kubernetes secret mount: ..data symlinks are followed, dot-entries skipped, tls.key ignored", async () => {
    const first = await makeCert({ cn: "first", now: NOW, toDays: 100 });
    const mountVersion = async (name: string, cert: typeof first): Promise<void> => {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, "tls.crt"), cert.pem);
      await writeFile(join(dir, name, "tls.key"), cert.privateKeyPem);
    };
    await mountVersion("..2025_06_01_12_00_00.000000001", first);
    await symlink("..2025_06_01_12_00_00.000000001", join(dir, "..data"));
    await symlink("..data/tls.crt", join(dir, "tls.crt"));
    await symlink("..data/tls.key", join(dir, "tls.key"));

    const before = await readFileSource(dir);
    expect(before.problems).toEqual([]);
    expect(before.inputs).toEqual([{ origin: join(dir, "tls.crt"), text: first.pem }]);
    expect(before.ignored).toEqual([
      {
        origin: join(dir, "tls.key"),
        message: "holds only a private key; its certificate is read from its own file",
      },
    ]);

    // The kubelet swaps ..data atomically when the secret changes; the next read must see the new certificate.
    const second = await makeCert({ cn: "second", now: NOW, toDays: 400 });
    await mountVersion("..2025_06_02_12_00_00.000000002", second);
    await symlink("..2025_06_02_12_00_00.000000002", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    const after = await readFileSource(dir);
    expect(after.inputs).toEqual([{ origin: join(dir, "tls.crt"), text: second.pem }]);
  });

  test("cert-manager's tls.key beside tls.crt, and an openssl EC key with its parameters, are ignored", async () => {
    const cert = await makeCert({ now: NOW });
    const keyBody = cert.privateKeyPem.replace(/PRIVATE KEY/g, "EC PRIVATE KEY");
    await writeFile(join(dir, "tls.crt"), cert.pem);
    await writeFile(join(dir, "tls.key"), cert.privateKeyPem);
    await writeFile(
      join(dir, "ec.key"),
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + keyBody,
    );
    const result = await readFileSource(dir);
    expect(result.inputs.map((input) => input.origin)).toEqual([join(dir, "tls.crt")]);
    expect(result.ignored.map((note) => note.origin)).toEqual([join(dir, "ec.key"), join(dir, "tls.key")]);
    expect(result.problems).toEqual([]);
  });

  test("a single file path", async () => {
    const cert = await makeCert({ now: NOW });
    const file = join(dir, "okta-next.pem");
    await writeFile(file, cert.pem);
    const result = await readFileSource(file);
    expect(result).toEqual({ inputs: [{ origin: file, text: cert.pem }], problems: [], ignored: [] });
    expect(selectNewestCandidate(result.inputs, context()).candidate?.origin).toBe(file);
  });

  test("a chain in one file is one input, and the leaf is the candidate", async () => {
    const ca = await makeCert({ cn: "CA", now: NOW, toDays: 3650 });
    const leaf = await makeCert({ cn: "leaf", now: NOW, toDays: 200, issuer: ca });
    await writeFile(join(dir, "tls.crt"), leaf.pem + ca.pem);
    const result = await readFileSource(dir);
    expect(result.inputs).toHaveLength(1);
    expect(selectNewestCandidate(result.inputs, context()).candidate?.pem).toBe(leaf.pem);
  });

  test("a missing path is a problem, not an exception", async () => {
    const missing = join(dir, "does-not-exist");
    const result = await readFileSource(missing);
    expect(result.inputs).toEqual([]);
    expect(result.problems).toEqual([
      { origin: missing, message: "no such file or directory (or a broken symbolic link)" },
    ]);
    expect(selectNewestCandidate(result.inputs, context())).toEqual({ candidate: null, rejections: [] });
  });

  test("a file over the cap is reported and not read; the other files still count", async () => {
    const cert = await makeCert({ now: NOW });
    await writeFile(join(dir, "big.pem"), cert.pem + "#".repeat(1024 * 1024));
    await writeFile(join(dir, "good.pem"), cert.pem);
    const result = await readFileSource(dir);
    expect(result.problems).toEqual([
      {
        origin: join(dir, "big.pem"),
        message: `${cert.pem.length + 1024 * 1024} bytes, over the 1048576-byte cap`,
      },
    ]);
    expect(result.inputs.map((input) => input.origin)).toEqual([join(dir, "good.pem")]);
    const tight = await readFileSource(join(dir, "good.pem"), { maxFileBytes: 100 });
    expect(tight.problems[0]?.message).toContain("over the 100-byte cap");
    expect(tight.inputs).toEqual([]);
  });

  test("non-PEM files and broken symbolic links are problems; sub-directories are skipped", async () => {
    const cert = await makeCert({ now: NOW });
    await writeFile(join(dir, "cert.der"), cert.der);
    await writeFile(join(dir, "README"), "certificates for the Okta integration\n");
    await symlink(join(dir, "gone.pem"), join(dir, "dangling.pem"));
    await mkdir(join(dir, "archive"));
    await writeFile(join(dir, "archive", "old.pem"), cert.pem);
    const result = await readFileSource(dir);
    expect(result.inputs).toEqual([]);
    expect(result.problems).toEqual([
      { origin: join(dir, "README"), message: "not PEM (no -----BEGIN line)" },
      { origin: join(dir, "cert.der"), message: "not PEM (no -----BEGIN line)" },
      { origin: join(dir, "dangling.pem"), message: "no such file or directory (or a broken symbolic link)" },
    ]);
    expect(result.ignored).toEqual([
      { origin: join(dir, "archive"), message: "a sub-directory; the file source does not recurse" },
    ]);
  });

  test("a CSR and a garbage PEM reach validation, which says what they are", async () => {
    await writeFile(
      join(dir, "request.csr"),
      "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
    );
    await writeFile(
      join(dir, "broken.pem"),
      "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
    );
    const { candidate, rejections } = selectNewestCandidate((await readFileSource(dir)).inputs, context());
    expect(candidate).toBeNull();
    expect(rejections.map((rejection) => rejection.code)).toEqual(["bad_pem", "csr"]);
  });

  test("files are re-read on every call", async () => {
    const first = await makeCert({ cn: "first", now: NOW });
    const second = await makeCert({ cn: "second", now: NOW });
    const file = join(dir, "tls.crt");
    await writeFile(file, first.pem);
    expect((await readFileSource(file)).inputs[0]?.text).toBe(first.pem);
    await writeFile(file, second.pem);
    expect((await readFileSource(file)).inputs[0]?.text).toBe(second.pem);
  });
});
