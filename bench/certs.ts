// The bench's certificates: distinct, real EC P-256 certificates with a spread of lifetimes (valid,
// expiring, expired), generated once and kept in a temp file between runs because making thousands
// takes a while. Never checked in, never reused once their dates have drifted past a few days.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertificate } from "../src/certs/generate.js";
import { DAY_MS } from "../src/core/durations.js";

const MAX_AGE_MS = 3 * DAY_MS;
export const CERTIFICATE_FILE = join(tmpdir(), "sendgrid-sso-certs-bench", "certificates-v1.json");

interface CertificateFile {
  readonly generatedAt: string;
  readonly pems: readonly string[];
}

async function cached(count: number, now: Date): Promise<readonly string[] | null> {
  try {
    const file = JSON.parse(await readFile(CERTIFICATE_FILE, "utf8")) as CertificateFile;
    const age = now.getTime() - new Date(file.generatedAt).getTime();
    return file.pems.length >= count && age >= 0 && age < MAX_AGE_MS ? file.pems : null;
  } catch {
    return null;
  }
}

/** The i-th certificate's lifetime: about one in twelve expired, a few expiring, most valid. */
function lifetime(i: number, now: Date): { notBefore: Date; notAfter: Date } {
  const afterDays = ((i * 37) % 420) - 30;
  return {
    notBefore: new Date(now.getTime() - (30 + (i % 300)) * DAY_MS),
    notAfter: new Date(now.getTime() + afterDays * DAY_MS + 3_600_000),
  };
}

/** `rotate_before` of the bench's rotation rule: more than soonestExpiring's integration has left. */
export const ROTATE_BEFORE_DAYS = 60;

/**
 * The integration (by index) whose latest certificate expires first: about 44 days ahead with three
 * certificates each (less as the cached certificates age), already expired with one. A rotation rule on
 * it is due with `rotate_before` ROTATE_BEFORE_DAYS.
 */
export function soonestExpiring(integrations: number, per: number, now = new Date()): number {
  let soonest = 0;
  let soonestMs = Infinity;
  for (let i = 0; i < integrations; i++) {
    const lastMs = Math.max(
      ...Array.from({ length: per }, (_, j) => lifetime(i * per + j, now).notAfter.getTime()),
    );
    if (lastMs < soonestMs) [soonest, soonestMs] = [i, lastMs];
  }
  if (soonestMs - now.getTime() > (ROTATE_BEFORE_DAYS - 5) * DAY_MS)
    throw new Error(`no integration of ${integrations} expires within ${ROTATE_BEFORE_DAYS - 5} days`);
  return soonest;
}

/** `count` distinct PEMs, from the temp file when it holds enough fresh ones. */
export async function benchCertificates(count: number, now = new Date()): Promise<readonly string[]> {
  const found = await cached(count, now);
  if (found) return found.slice(0, count);
  const pems: string[] = [];
  for (let i = 0; i < count; i++) {
    const generated = await generateCertificate({
      commonName: `idp-${i}.bench.example`,
      ...lifetime(i, now),
    });
    pems.push(generated.pem);
  }
  await mkdir(join(CERTIFICATE_FILE, ".."), { recursive: true });
  const partial = `${CERTIFICATE_FILE}.${process.pid}.tmp`;
  const file: CertificateFile = { generatedAt: now.toISOString(), pems };
  await writeFile(partial, JSON.stringify(file));
  await rename(partial, CERTIFICATE_FILE);
  return pems;
}
