// One scan of every configured account: list integrations (si=true), then each integration's
// certificates, exactly 1 + N requests per account. The client bounds concurrency; a failing
// integration or account becomes a Failure in the inventory, never an exception out of here.
// Remembers each API's last listings so that unchanged records keep their objects (reuse.ts).

import { setImmediate as nextTurn } from "node:timers/promises";
import { parsePool } from "../certs/parse-pool.js";
import { failureOf } from "../core/failure.js";
import type { Inventory, ScannedAccount, ScannedIntegration } from "../core/inventory.js";
import type { ApiCertificate, Integration, ParseResult } from "../core/model.js";
import type { SsoApi } from "../sendgrid/sso.js";
import { mapBounded } from "./map-bounded.js";
import { recordsToParse, scannedIntegration } from "./reuse.js";

export interface ScanTarget {
  readonly account: string;
  readonly api: SsoApi;
}

// The last good listing of each integration, by id, per API (one per account): what the next scan
// compares with. Held weakly, so it goes with the client.
const lastListings = new WeakMap<SsoApi, Map<string, ScannedIntegration>>();

function lastListingsOf(api: SsoApi): Map<string, ScannedIntegration> {
  let listings = lastListings.get(api);
  if (!listings) {
    listings = new Map();
    lastListings.set(api, listings);
  }
  return listings;
}

/** An integration whose listing has arrived; its certificates are still being parsed. */
interface Listed {
  readonly scanned: Promise<ScannedIntegration>;
}

/**
 * Lists one integration's certificates and starts parsing them, off the event loop (parse-pool.ts);
 * resolves as soon as the listing is in, so the caller's next request does not wait for the parse.
 * A failure becomes data.
 */
async function listIntegration(api: SsoApi, integration: Integration): Promise<Listed> {
  try {
    const certificates = await api.listCertificates(integration.id);
    // Answers arrive eight at a time; each one's work (finding the DERs, hashing them) waits for a turn
    // of its own, so that the other answers of the batch are read and their slots' next requests sent
    // first. Done at once, it held back every later answer of the batch: 0.1 x ideal of a cold scan.
    await nextTurn();
    return { scanned: readListing(api, integration, certificates) };
  } catch (error) {
    return { scanned: Promise.resolve({ integration, certificates: null, error: failureOf(error) }) };
  }
}

async function readListing(
  api: SsoApi,
  integration: Integration,
  certificates: readonly ApiCertificate[],
): Promise<ScannedIntegration> {
  const listings = lastListingsOf(api);
  const previous = listings.get(integration.id);
  const toParse = recordsToParse(previous, certificates);
  const results = await parsePool.parseAll(toParse.map((record) => record.pem));
  const parsed = new Map<ApiCertificate, ParseResult>(toParse.map((record, i) => [record, results[i]!]));
  const scanned = scannedIntegration(previous, integration, certificates, (record) => parsed.get(record)!);
  listings.set(integration.id, scanned);
  return scanned;
}

/** Lists and parses one integration's certificates; a failure becomes data. */
export async function scanIntegration(api: SsoApi, integration: Integration): Promise<ScannedIntegration> {
  return (await listIntegration(api, integration)).scanned;
}

export async function scanAccount(target: ScanTarget, now: () => Date): Promise<ScannedAccount> {
  const startedAt = now();
  try {
    const integrations = await target.api.listIntegrations({ si: true });
    // Twice the client's limit: a call is ready to go the moment a slot frees, without building them all.
    // A lane moves on once a listing is in; the parses are awaited together at the end.
    const listed = await mapBounded(integrations, 2 * target.api.maxConcurrency, (i) =>
      listIntegration(target.api, i),
    );
    const scanned = await Promise.all(listed.map((l) => l.scanned));
    const present = new Set(integrations.map((i) => i.id));
    const listings = lastListingsOf(target.api);
    for (const id of listings.keys()) if (!present.has(id)) listings.delete(id);
    return { account: target.account, startedAt, finishedAt: now(), error: null, integrations: scanned };
  } catch (error) {
    return {
      account: target.account,
      startedAt,
      finishedAt: now(),
      error: failureOf(error),
      integrations: [],
    };
  }
}

export async function scanAll(targets: readonly ScanTarget[], now: () => Date): Promise<Inventory> {
  return { accounts: await Promise.all(targets.map((target) => scanAccount(target, now))) };
}
