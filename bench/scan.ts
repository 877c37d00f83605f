// A scan's yardsticks: the least time API latency allows (one list, then ceil(N / concurrency) rounds of
// certificate lists), and one full scan by the bench's in-process monitor that throws unless it read
// every certificate.

import { certificateCount, type BenchMonitor } from "./monitor.js";

export const idealScanMs = (latencyMs: number, integrations: number, concurrency: number): number =>
  latencyMs * (1 + Math.ceil(integrations / concurrency));

/** One scan; throws when it did not read everything, since its timing would then mean nothing. */
export async function fullScan(core: BenchMonitor, expectedCertificates: number): Promise<void> {
  const result = await core.monitor.scan();
  if (!result) throw new Error("scan skipped: another was running");
  if (result.failures.length > 0) {
    throw new Error(`scan met ${result.failures.length} failures, first: ${result.failures[0]!.message}`);
  }
  const seen = certificateCount(core.monitor);
  if (seen !== expectedCertificates)
    throw new Error(`scan saw ${seen} certificates, not ${expectedCertificates}`);
}
