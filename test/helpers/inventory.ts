// Builds scan inventories from real generated certificates for the pure core tests: an integration, its
// API certificate records and their parse results, as src/scan/ would have produced them.
import { parseCertificate } from "../../src/certs/parse.js";
import type {
  Inventory,
  ScannedAccount,
  ScannedCertificate,
  ScannedIntegration,
} from "../../src/core/inventory.js";
import type { ApiCertificate, Failure, Integration, ParsedCertificate } from "../../src/core/model.js";
import { makeCert, type CertAt } from "./make-cert.js";

export const DAY_MS = 86_400_000;

export function integration(id: string, overrides: Partial<Integration> = {}): Integration {
  return {
    id,
    name: `Integration ${id}`,
    enabled: true,
    completed: true,
    entityId: null,
    signinUrl: null,
    signoutUrl: null,
    singleSignonUrl: null,
    audienceUrl: null,
    lastUpdated: null,
    ...overrides,
  };
}

/** A parsed real certificate; throws if it does not parse (the generator's output always should). */
export async function parsedCert(opts: CertAt): Promise<{ pem: string; parsed: ParsedCertificate }> {
  const { pem } = await makeCert(opts);
  const result = parseCertificate(pem);
  if (!result.ok) throw new Error(`generated certificate did not parse: ${result.failure.message}`);
  return { pem, parsed: result.certificate };
}

export interface CertRecord {
  readonly id: string;
  readonly integrationId?: string;
  readonly pem: string;
  readonly enabled?: boolean | null;
  /** What the API says; default: the PEM's dates (when it parses). */
  readonly notBefore?: Date | null;
  readonly notAfter?: Date | null;
}

/** An API record and its parse result, the way scanIntegration builds them. */
export function scanned(record: CertRecord): ScannedCertificate {
  const parsed = parseCertificate(record.pem);
  const dates = parsed.ok ? parsed.certificate : { notBefore: null, notAfter: null };
  const api: ApiCertificate = {
    id: record.id,
    integrationId: record.integrationId ?? "int",
    pem: record.pem,
    enabled: record.enabled === undefined ? true : record.enabled,
    notBefore: record.notBefore === undefined ? dates.notBefore : record.notBefore,
    notAfter: record.notAfter === undefined ? dates.notAfter : record.notAfter,
  };
  return { api, parsed };
}

export function scannedIntegration(
  subject: Integration,
  certificates: readonly ScannedCertificate[] | null,
  error: Failure | null = null,
): ScannedIntegration {
  return { integration: subject, certificates, error };
}

export function account(
  name: string,
  integrations: readonly ScannedIntegration[],
  options: { readonly error?: Failure | null; readonly at?: Date } = {},
): ScannedAccount {
  const at = options.at ?? new Date("2030-01-01T00:00:00Z");
  return { account: name, startedAt: at, finishedAt: at, error: options.error ?? null, integrations };
}

export function inventoryOf(...accounts: ScannedAccount[]): Inventory {
  return { accounts };
}
