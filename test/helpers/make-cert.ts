// Test certificates relative to a given instant: the only source of certificates in tests.
import { generateCertificate, type GeneratedCertificate, type KeySpec } from "../../src/certs/generate.js";

const DAY = 86_400_000;

export interface CertAt {
  readonly cn?: string;
  /** Days from `now` to notBefore (negative: in the past). Default -30. */
  readonly fromDays?: number;
  /** Days from `now` to notAfter. Default 365. */
  readonly toDays?: number;
  readonly now?: Date;
  readonly key?: KeySpec;
  readonly issuer?: GeneratedCertificate;
}

export function makeCert(opts: CertAt = {}): Promise<GeneratedCertificate> {
  const now = (opts.now ?? new Date()).getTime();
  return generateCertificate({
    commonName: opts.cn ?? "idp.example.test",
    notBefore: new Date(now + (opts.fromDays ?? -30) * DAY),
    notAfter: new Date(now + (opts.toDays ?? 365) * DAY),
    ...(opts.key ? { key: opts.key } : {}),
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
  });
}
