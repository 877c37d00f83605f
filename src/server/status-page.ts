// The status page a person reads: integrations and certificates with time left, coloured by status,
// the last scan and its errors, the rotation history. Self-contained HTML (works offline, no assets);
// every value from SendGrid or the config is escaped.

import { formatDuration } from "../core/durations.js";
import type { RotationConfig } from "../config/types.js";
import { explainProblems } from "../core/explain.js";
import {
  ACTIVE_PHASES,
  ACTIVE_ROLLOVER_PHASES,
  type DisabledRecord,
  type Journal,
  type RotationRecord,
} from "../core/journal.js";
import type { Integration } from "../core/model.js";
import { matchRule } from "../core/rules.js";
import type { CertificateState, Evaluation, IntegrationState } from "../core/status.js";
import type { AccountScanStats } from "../metrics/registry.js";
import type { LocatedFailure } from "../scan/monitor.js";

export interface HistoryEntry {
  readonly time: Date;
  readonly account: string;
  readonly integrationId: string;
  readonly certificateId: string | null;
  readonly action: string;
  readonly result: string;
  readonly message?: string;
}

export interface StatusPageInput {
  readonly now: Date;
  readonly version: string;
  readonly evaluation: Evaluation | null;
  readonly stats: readonly AccountScanStats[];
  readonly failures: readonly LocatedFailure[];
  readonly scanning: boolean;
  readonly history: readonly HistoryEntry[];
  readonly journal: Journal | null;
  /** Accounts whose API calls are held by a server-requested wait (429), and until when. */
  readonly held?: readonly { readonly account: string; readonly until: Date }[];
  /** Why the daemon is not ready although it scans (a state_dir it cannot write); null: none. */
  readonly fault?: string | null;
  /** The rotation settings, to say when a rotation's next step is due; without them it says which. */
  readonly rotation?: RotationConfig;
}

/** Faults that stay visible: a held account, a state_dir that cannot be written. */
function faultsSection(input: StatusPageInput): string {
  const lines = [
    ...(input.fault ? [`<li class="critical">${escape(input.fault)}</li>`] : []),
    ...(input.held ?? []).map(
      (h) =>
        `<li class="warning">account ${escape(h.account)}: the API asked to wait; calls held until ${when(h.until, input.now)}</li>`,
    ),
  ];
  return lines.length === 0 ? "" : `<section><h2>Faults</h2><ul>${lines.join("")}</ul></section>`;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escape = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
const iso = (value: Date): string => value.toISOString().replace(".000Z", "Z");

/** A point in time, absolute and relative to the page's `now`, never wrapped mid-date. */
function when(value: Date | null, now: Date): string {
  if (!value) return "—";
  const ms = value.getTime() - now.getTime();
  const relative =
    Math.abs(ms) < 1000 ? "now" : ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
  return `<time datetime="${iso(value)}" title="${iso(value)}">${iso(value).replace("T", " ")}<span class="rel">${relative}</span></time>`;
}

const STYLE = `
:root{--ok:#1a7f37;--warning:#9a6700;--critical:#cf222e;--unknown:#6e7781;--bg:#f6f8fa;--fg:#1f2328}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header{background:#24292f;color:#fff;padding:14px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:12px;text-transform:uppercase}
tr.integration td{background:#f6f8fa;font-weight:600}td.cert{padding-left:28px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.ok,.valid,.success{background:var(--ok)}.warning,.expiring,.dry_run{background:var(--warning)}
.critical,.expired,.invalid,.failure{background:var(--critical)}.unknown,.not_yet_valid,.disabled{background:var(--unknown)}
.lockout{background:var(--critical);color:#fff;border-radius:6px;padding:8px 16px;margin-bottom:16px}.lockout code{color:#fff}
time{white-space:nowrap}time .rel{display:block;color:#57606a;font-size:12px}header time .rel{display:inline;color:#fff;margin-left:6px}
header .why{flex-basis:100%;margin:0;font-size:14px}.next{color:#57606a;font-size:12px}
code{font:12px ui-monospace,monospace}.muted{color:#57606a}.err{color:var(--critical)}
`;

function badge(status: string): string {
  return `<span class="badge ${escape(status)}">${escape(status.replace(/_/g, " "))}</span>`;
}

function timeLeft(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 0 ? `expired ${formatDuration(-ms)} ago` : formatDuration(ms);
}

function certificateRow(certificate: CertificateState, now: Date): string {
  const parsed = certificate.parsed;
  const enabled = certificate.knownEnabled === null ? "unknown" : certificate.knownEnabled ? "yes" : "no";
  return `<tr><td class="cert"><code>${escape(certificate.api.id)}</code></td>
<td>${escape(parsed?.subjectCn ?? "—")}${parsed ? `<div class="muted">SHA-256 <code>${escape(parsed.fingerprintSha256.slice(0, 16))}</code></div>` : ""}</td>
<td>${when(certificate.notAfter, now)}</td><td>${timeLeft(certificate.expiresInMs)}</td><td>${enabled}</td>
<td>${badge(certificate.knownEnabled === false && certificate.status !== "invalid" ? "disabled" : certificate.status)}${certificate.failure ? `<div class="err">${escape(certificate.failure.reason)}: ${escape(certificate.failure.message)}</div>` : ""}</td></tr>`;
}

function idpLine(state: IntegrationState, now: Date): string {
  const idp = state.idp;
  if (!idp) return "";
  const verdict =
    idp.trusted === null
      ? `${badge("unknown")} <span class="err">${escape(idp.error ?? "")}</span>`
      : idp.trusted
        ? `${badge("ok")} SendGrid trusts the certificate it signs with`
        : `${badge("critical")} <span class="err">signs with a certificate SendGrid does not trust: logins fail</span>`;
  const signing = idp.signingFingerprint
    ? ` <span class="muted">signing <code>${escape(idp.signingFingerprint.slice(0, 16))}</code>, until ${when(idp.signingNotAfter, now)}</span>`
    : "";
  return `<div>IdP (${escape(idp.source)}): ${verdict}${signing}</div>`;
}

/** Lockouts happening now, first thing on the page: they need a person before anything else. */
function lockoutSection(evaluation: Evaluation): string {
  const locked = evaluation.accounts.flatMap((account) =>
    account.integrations
      .filter((state) => state.idp?.trusted === false)
      .map(
        (state) =>
          `<li><b>${escape(state.integration.name)}</b> <code>${escape(state.integration.id)}</code> (${escape(account.account)}): the IdP (${escape(state.idp!.source)}) signs with certificate <code>${escape(state.idp!.signingFingerprint ?? "?")}</code>, which SendGrid does not hold enabled and valid. Nobody can log in through it.</li>`,
      ),
  );
  if (locked.length === 0) return "";
  return `<section class="lockout"><h2>Lockout: SSO logins are failing now</h2><ul>${locked.join("\n")}</ul></section>`;
}

function integrationRows(state: IntegrationState, now: Date): string {
  const name = `${escape(state.integration.name)} <span class="muted"><code>${escape(state.integration.id)}</code></span>`;
  const disabled = state.integration.enabled ? "" : ` ${badge("disabled")}`;
  const error =
    (state.error
      ? `<div class="err">${escape(state.error.reason)}: ${escape(state.error.message)}</div>`
      : "") + idpLine(state, now);
  return `<tr class="integration"><td colspan="2">${name}${disabled}${error}</td>
<td>${when(state.best?.notAfter ?? null, now)}</td><td>${timeLeft(state.best?.expiresInMs ?? null)}</td>
<td>${state.validCount} valid</td><td>${badge(state.status)}</td></tr>
${state.certificates.map((c) => certificateRow(c, now)).join("\n")}`;
}

function accountsSection(evaluation: Evaluation, now: Date): string {
  return evaluation.accounts
    .map(
      (account) => `<section><h2>Account ${escape(account.account)}</h2>
${account.error ? `<p class="err">${escape(account.error.reason)}: ${escape(account.error.message)}</p>` : ""}
<table><thead><tr><th>Integration / certificate</th><th>Subject CN</th><th>Not after</th><th>Time left</th><th>Enabled</th><th>Status</th></tr></thead>
<tbody>${account.integrations.map((s) => integrationRows(s, now)).join("\n") || `<tr><td colspan="6" class="muted">no SSO integrations</td></tr>`}</tbody></table></section>`,
    )
    .join("\n");
}

function scansSection(input: StatusPageInput): string {
  const { now } = input;
  const rows = input.stats
    .map(
      (
        s,
      ) => `<tr><td>${escape(s.account)}</td><td>${when(s.lastScrapeAt, now)}</td><td>${when(s.lastSuccessAt, now)}</td>
<td>${s.durationSeconds === null ? "—" : `${s.durationSeconds.toFixed(2)} s`}</td><td>${badge(s.lastScrapeAt === null ? "unknown" : s.success ? "ok" : "critical")}</td></tr>`,
    )
    .join("\n");
  const failures = input.failures
    .map(
      (f) =>
        `<tr><td>${escape(f.account)}</td><td><code>${escape(f.integrationId ?? "—")}</code></td><td><code>${escape(f.certificateId ?? "—")}</code></td><td><code>${escape(f.reason)}</code></td><td>${escape(f.message)}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Scans${input.scanning ? ` <span class="muted">(scan running)</span>` : ""}</h2>
<table><thead><tr><th>Account</th><th>Last scan</th><th>Last success</th><th>Duration</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table>
${failures ? `<h2>Errors of the last scan</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Certificate</th><th>Reason</th><th>Message</th></tr></thead><tbody>${failures}</tbody></table>` : ""}</section>`;
}

/** Names people know, with the id the commands take on a second line (and on hover). */
class Integrations {
  private readonly byKey = new Map<string, Integration>();
  constructor(evaluation: Evaluation | null) {
    for (const account of evaluation?.accounts ?? [])
      for (const state of account.integrations)
        this.byKey.set(`${account.account}\u0000${state.integration.id}`, state.integration);
  }
  get(account: string, id: string): Integration | null {
    return this.byKey.get(`${account}\u0000${id}`) ?? null;
  }
  label(account: string, id: string): string {
    const name = this.get(account, id)?.name;
    const code = `<code title="${escape(id)}">${escape(id)}</code>`;
    return name ? `${escape(name)}<div class="muted">${code}</div>` : code;
  }
}

/**
 * The step a rotation waits for, and when it is due when the rotation settings are known: verified
 * rotations wait for the overlap before the disable, disabled certificates for the delete.
 */
function nextStep(input: StatusPageInput, names: Integrations, rotation: RotationRecord): string | null {
  const { now, journal } = input;
  const settings = input.rotation ?? null;
  if (rotation.phase === "uploading" || rotation.phase === "uploaded") return "next: verify";
  if (rotation.phase === "verified") {
    const integration = names.get(rotation.account, rotation.integrationId);
    const rule =
      settings && integration ? matchRule(settings.integrations, rotation.account, integration) : null;
    const overlap = rule === null ? null : settings!.integrations[rule]!.overlapMs;
    return overlap === null || rotation.verifiedAt === null
      ? "next: disable after the overlap"
      : `next: disable at ${when(new Date(rotation.verifiedAt.getTime() + overlap), now)}`;
  }
  const pending = pendingDeletes(journal, rotation);
  if (rotation.phase !== "retired" || pending.length === 0 || settings?.deleteDisabledAfterMs == null)
    return null;
  const due = new Date(Math.max(...pending.map((d) => d.at.getTime())) + settings.deleteDisabledAfterMs);
  return `next: delete at ${when(due, now)}`;
}

/** Certificates the rotation replaced that this tool disabled and has not deleted yet. */
function pendingDeletes(journal: Journal | null, rotation: RotationRecord): DisabledRecord[] {
  const replaced = new Set(rotation.replaces.map((r) => r.certificateId));
  return (journal?.disabled ?? []).filter(
    (d) =>
      d.account === rotation.account &&
      d.integrationId === rotation.integrationId &&
      replaced.has(d.certificateId),
  );
}

function rotationSection(input: StatusPageInput, names: Integrations): string {
  const { journal, now } = input;
  if (!journal) return "";
  // A rotation stays listed until its last step: the delete of what it replaced, when that is configured.
  const shown = journal.rotations
    .map((r) => ({ r, next: nextStep(input, names, r) }))
    .filter(({ r, next }) => ACTIVE_PHASES.has(r.phase) || next !== null);
  const rollovers = journal.rollovers.filter((r) => ACTIVE_ROLLOVER_PHASES.has(r.phase));
  if (shown.length === 0 && rollovers.length === 0 && journal.backoff.length === 0) return "";
  const rolloverRows = rollovers
    .map(
      (r) =>
        `<tr><td>${escape(r.account)}</td><td>${names.label(r.account, r.integrationId)}</td><td>${escape(r.source)}: ${escape(r.phase)}</td><td>${r.key ? `key <code>${escape(r.key.id)}</code>` : "being generated"} <span class="muted">(was <code>${escape(r.previousKeyId ?? "—")}</code>)</span></td><td>${when(r.startedAt, now)}</td><td>${when(r.key?.notAfter ?? null, now)}</td></tr>`,
    )
    .join("\n");
  const rows = shown
    .map(
      ({ r, next }) =>
        `<tr><td>${escape(r.account)}</td><td>${names.label(r.account, r.integrationId)}</td><td>${escape(r.phase)}${next ? `<div class="next">${next}</div>` : ""}</td><td><code>${escape(r.certificateId ?? "—")}</code> ${escape(r.origin)}<div class="muted">SHA-256 <code>${escape(r.fingerprint.slice(0, 16))}</code></div></td><td>${when(r.startedAt, now)}</td><td>${when(r.notAfter, now)}</td></tr>`,
    )
    .join("\n");
  const backoff = journal.backoff
    .map(
      (b) =>
        `<tr><td>${escape(b.account)}</td><td>${names.label(b.account, b.integrationId)}</td><td>${b.failures}</td><td>${when(b.nextAttemptAt, now)}</td><td class="err">${escape(b.lastError)}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Rotations</h2>
${rows ? `<table><thead><tr><th>Account</th><th>Integration</th><th>Step</th><th>New certificate</th><th>Started</th><th>Valid until</th></tr></thead><tbody>${rows}</tbody></table>` : ""}
${rolloverRows ? `<h2>IdP key rollovers</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Step</th><th>New key</th><th>Started</th><th>Valid until</th></tr></thead><tbody>${rolloverRows}</tbody></table>` : ""}
${backoff ? `<h2>Backing off after failures</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Failures</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody>${backoff}</tbody></table>` : ""}</section>`;
}

function historySection(input: StatusPageInput, names: Integrations): string {
  if (input.history.length === 0) return "";
  const rows = input.history
    .map(
      (h) =>
        `<tr><td>${when(h.time, input.now)}</td><td>${escape(h.account)}</td><td>${names.label(h.account, h.integrationId)}</td><td><code>${escape(h.certificateId ?? "—")}</code></td><td>${escape(h.action)}</td><td>${badge(h.result)}</td><td>${escape(h.message ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Rotation history</h2><table><thead><tr><th>Time</th><th>Account</th><th>Integration</th><th>Certificate</th><th>Action</th><th>Result</th><th>Message</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** Why the overall status is what it is, in the header: the integrations and accounts that make it so. */
function why(evaluation: Evaluation | null): string {
  if (!evaluation) return "waiting for the first scan";
  const problems = explainProblems(evaluation, evaluation.status);
  return problems.length > 0
    ? `${evaluation.status}: ${problems.join("; ")}`
    : `${evaluation.status}: every certificate is fine`;
}

export function renderStatusPage(input: StatusPageInput): string {
  const overall = input.evaluation?.status ?? "unknown";
  const names = new Integrations(input.evaluation);
  const body = input.evaluation
    ? lockoutSection(input.evaluation) + accountsSection(input.evaluation, input.now)
    : `<section><p class="muted">Waiting for the first scan…</p></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="60"><title>SendGrid SSO certificates: ${escape(overall)}</title><style>${STYLE}</style></head>
<body><header><h1>SendGrid SSO certificates</h1>${badge(overall)}<span>as of ${iso(input.now).replace("T", " ")}</span>
<span class="muted">v${escape(input.version)} · <a style="color:#fff" href="/metrics">metrics</a> · <a style="color:#fff" href="/api/v1/inventory">inventory JSON</a></span>
<p class="why" id="why">${escape(why(input.evaluation))}</p></header>
<main>${faultsSection(input)}${body}
${scansSection(input)}
${rotationSection(input, names)}
${historySection(input, names)}</main></body></html>
`;
}
