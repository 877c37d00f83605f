// Cold `check`: fresh `node dist/cli.js check --json --config F` processes against the emulator, each
// timed from spawn to exit and watched from inside by process-probe.ts (CPU, peak RSS, event-loop
// stalls during the scan). Their state_dir exists, as where checks run on a schedule: the first run
// parses every certificate and keeps the results there (src/certs/parse-cache-file.ts), the others
// find them; the first is kept apart. A run counts only when check answered for every integration: exit 0/1/2
// (3 is UNKNOWN) and a JSON document listing all of them with no error; anything else is a problem
// the row reports instead of a time.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEY_ENV, writeConfig } from "./config-file.js";
import type { BenchEmulator } from "./emulator.js";
import { CLI, runNode, type NodeRun } from "./node-process.js";
import type { ProbeReport } from "./process-probe.js";
import { median } from "./stats.js";

/** Far above any wall measured: the row times the scan, never check's own deadline (7 s by default). */
export const CHECK_TIMEOUT = "10m";

export interface CheckSeriesOptions {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
  readonly concurrency: number;
  readonly runs: number;
}

export interface CheckRun {
  readonly wallMs: number;
  readonly code: number | null;
  readonly probe: ProbeReport;
}

export interface CheckSeries {
  readonly integrations: number;
  readonly runs: readonly CheckRun[];
  /** Why the series is not a measurement (the first bad run's reason); null when every run was good. */
  readonly problem: string | null;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

interface Expected {
  readonly integrations: number;
  readonly certificates: number;
}

interface ReportShape {
  accounts?: {
    error?: unknown;
    integrations?: { error?: unknown; certificates?: { error?: unknown }[] }[];
  }[];
}

/** Why a check run does not count, or null when it answered for everything. */
export function checkProblem(
  run: Pick<NodeRun, "code" | "stdout" | "stderr">,
  expected: Expected,
): string | null {
  const tail = run.stderr.trim().split("\n").slice(-3).join(" | ");
  if (run.code !== 0 && run.code !== 1 && run.code !== 2)
    return `exit ${run.code}${run.code === 3 ? " (UNKNOWN)" : ""}${tail ? `: ${tail}` : ""}`;
  let report: ReportShape;
  try {
    report = JSON.parse(run.stdout) as ReportShape;
  } catch {
    return "stdout is not a JSON document";
  }
  const accounts = report.accounts ?? [];
  const integrations = accounts.flatMap((account) => account.integrations ?? []);
  const certificates = integrations.flatMap((integration) => integration.certificates ?? []);
  const failed =
    accounts.filter((account) => account.error != null).length +
    integrations.filter((integration) => integration.error != null).length +
    certificates.filter((certificate) => certificate.error != null).length;
  if (integrations.length !== expected.integrations)
    return `listed ${integrations.length} of ${expected.integrations} integrations`;
  if (certificates.length !== expected.certificates)
    return `listed ${certificates.length} of ${expected.certificates} certificates`;
  if (failed > 0) return `${failed} account, integration or certificate errors in the report`;
  return null;
}

export async function checkSeries(
  emulator: BenchEmulator,
  options: CheckSeriesOptions,
): Promise<CheckSeries> {
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-check-"));
  try {
    const stateDir = join(dir, "state");
    await mkdir(stateDir);
    const config = await writeConfig(join(dir, "config.yaml"), {
      emulatorUrl: emulator.url,
      stateDir,
      concurrency: options.concurrency,
    });
    const expected = {
      integrations: options.integrations,
      certificates: options.integrations * options.certificatesPerIntegration,
    };
    const runs: CheckRun[] = [];
    let problem: string | null = null;
    for (let i = 0; i < options.runs; i++) {
      const run = await runNode([CLI, "check", "--json", "--timeout", CHECK_TIMEOUT, "--config", config], {
        env: { [KEY_ENV]: emulator.apiKey },
        probe: true,
      });
      const bad =
        checkProblem(run, expected) ??
        (run.probe === null
          ? "the probe wrote no report"
          : run.probe.requests !== 1 + options.integrations
            ? `${run.probe.requests} API requests, not ${1 + options.integrations}`
            : null);
      if (bad !== null || run.probe === null) {
        problem = `run ${i + 1}: ${bad ?? "no probe report"}`;
        break;
      }
      runs.push({ wallMs: run.wallMs, code: run.code, probe: run.probe });
    }
    const of = (pick: (run: CheckRun) => number) => (runs.length > 0 ? median(runs.map(pick)) : NaN);
    return {
      integrations: options.integrations,
      runs,
      problem,
      wallMs: of((run) => run.wallMs),
      cpuMs: of((run) => run.probe.cpuUserMs + run.probe.cpuSystemMs),
      maxRssMb: of((run) => run.probe.maxRssMb),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
