// The emulator's in-memory SendGrid account: integrations, certificates, teammates, and the history of
// every mutation made through HTTP. Records are immutable and replaced on change, so renderers may cache
// their JSON per record. Knows nothing of HTTP, wire spellings or faults.

import { randomUUID } from "node:crypto";
import { parseCertificate } from "../certs/parse.js";

/** The real service numbers certificates in the tens of millions; starting there keeps ids from looking like indexes. */
export const FIRST_CERTIFICATE_ID = 66_138_975;

export interface IntegrationRecord {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly entityId: string;
  readonly signinUrl: string;
  readonly signoutUrl: string;
  readonly completedIntegration: boolean;
  readonly lastUpdated: Date;
}

export interface CertificateRecord {
  readonly id: number;
  readonly integrationId: string;
  readonly pem: string;
  readonly enabled: boolean;
  /** From the PEM; null only for a PEM that does not parse (tests may store one directly). */
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
}

export interface SubuserAccess {
  readonly id: number;
  readonly permissionType: "admin" | "restricted";
  readonly scopes: readonly string[];
}

export interface TeammateRecord {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly isAdmin: boolean;
  readonly persona: string | null;
  readonly scopes: readonly string[];
  readonly hasRestrictedSubuserAccess: boolean;
  readonly subuserAccess: readonly SubuserAccess[];
}

export interface NewIntegration {
  readonly id?: string;
  readonly name: string;
  readonly enabled?: boolean;
  readonly entityId?: string;
  readonly signinUrl?: string;
  readonly signoutUrl?: string;
  readonly completedIntegration?: boolean;
}

export type IntegrationPatch = Partial<Omit<IntegrationRecord, "id" | "lastUpdated">>;

export interface NewCertificate {
  readonly integrationId: string;
  readonly pem: string;
  readonly enabled: boolean;
  /** Overrides the PEM's dates, so a test can make the API disagree with the certificate. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export type CertificatePatch = Partial<Pick<CertificateRecord, "integrationId" | "pem" | "enabled">>;

export type NewTeammate = Pick<TeammateRecord, "email"> & Partial<Omit<TeammateRecord, "email">>;
export type TeammatePatch = Partial<Omit<TeammateRecord, "email">>;

/** The HTTP request that caused a mutation; only mutations carrying one are written to the history. */
export interface MutationOrigin {
  readonly method: "POST" | "PATCH" | "DELETE";
  readonly path: string;
}

type Change = "created" | "updated" | "deleted";

interface HistoryBase extends MutationOrigin {
  readonly seq: number;
  readonly time: Date;
  readonly change: Change;
  /** Field names (record spelling) whose value the mutation set or changed. */
  readonly changed: readonly string[];
}

export type HistoryEntry =
  | (HistoryBase & {
      readonly kind: "integration";
      readonly integrationId: string;
      readonly before: IntegrationRecord | null;
      readonly after: IntegrationRecord | null;
      /** The certificates of every integration the mutation touched, right after it. */
      readonly certificatesAfter: Readonly<Record<string, readonly CertificateRecord[]>>;
    })
  | (HistoryBase & {
      readonly kind: "certificate";
      readonly certificateId: number;
      readonly integrationId: string;
      readonly before: CertificateRecord | null;
      readonly after: CertificateRecord | null;
      readonly certificatesAfter: Readonly<Record<string, readonly CertificateRecord[]>>;
    })
  | (HistoryBase & {
      readonly kind: "teammate";
      readonly username: string;
      readonly before: TeammateRecord | null;
      readonly after: TeammateRecord | null;
    });

export class UnknownIntegrationError extends Error {
  override readonly name = "UnknownIntegrationError";
  readonly code = "EMULATOR_UNKNOWN_INTEGRATION";
  constructor(readonly integrationId: string) {
    super(`no integration with id ${integrationId}`);
  }
}

export class UnknownCertificateError extends Error {
  override readonly name = "UnknownCertificateError";
  readonly code = "EMULATOR_UNKNOWN_CERTIFICATE";
  constructor(readonly certificateId: number | string) {
    super(`no certificate with id ${certificateId}`);
  }
}

export class UnknownTeammateError extends Error {
  override readonly name = "UnknownTeammateError";
  readonly code = "EMULATOR_UNKNOWN_TEAMMATE";
  constructor(readonly username: string) {
    super(`no teammate with username ${username}`);
  }
}

export class DuplicateError extends Error {
  override readonly name = "DuplicateError";
  readonly code = "EMULATOR_DUPLICATE";
  constructor(message: string) {
    super(message);
  }
}

function changedKeys<T extends object>(before: T | null, after: T | null): string[] {
  if (!before || !after) return Object.keys(after ?? before ?? {});
  return (Object.keys(after) as (keyof T)[])
    .filter((key) => {
      const a = before[key];
      const b = after[key];
      return a instanceof Date && b instanceof Date ? a.getTime() !== b.getTime() : a !== b;
    })
    .map(String);
}

function datesOf(pem: string): { notBefore: Date | null; notAfter: Date | null } {
  const parsed = parseCertificate(pem);
  return parsed.ok
    ? { notBefore: parsed.certificate.notBefore, notAfter: parsed.certificate.notAfter }
    : { notBefore: null, notAfter: null };
}

/** Certificate ids arrive as numbers from code and as strings from URLs and clients that keep them opaque. */
function certificateKey(id: number | string): number | null {
  if (typeof id === "number") return Number.isSafeInteger(id) ? id : null;
  return /^\d{1,15}$/.test(id) ? Number(id) : null;
}

export class EmulatorState {
  /** When true every authenticated request is answered 403, as for a key without the `sso` scopes. */
  forbidden = false;

  readonly #now: () => Date;
  readonly #integrations = new Map<string, IntegrationRecord>();
  readonly #certificates = new Map<number, CertificateRecord>();
  /** Per integration, its certificate ids in creation order: listing never scans all certificates. */
  readonly #byIntegration = new Map<string, Set<number>>();
  readonly #teammates = new Map<string, TeammateRecord>();
  readonly #history: HistoryEntry[] = [];
  #nextCertificateId = FIRST_CERTIFICATE_ID;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  get teammates(): ReadonlyMap<string, TeammateRecord> {
    return this.#teammates;
  }

  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  listIntegrations(): IntegrationRecord[] {
    return [...this.#integrations.values()];
  }

  getIntegration(id: string): IntegrationRecord | undefined {
    return this.#integrations.get(id);
  }

  addIntegration(input: NewIntegration, origin?: MutationOrigin): IntegrationRecord {
    const id = input.id ?? randomUUID();
    if (this.#integrations.has(id)) throw new DuplicateError(`integration ${id} already exists`);
    const record: IntegrationRecord = {
      id,
      name: input.name,
      enabled: input.enabled ?? true,
      entityId: input.entityId ?? `https://idp.example.test/${id}`,
      signinUrl: input.signinUrl ?? `https://idp.example.test/${id}/sso/saml`,
      signoutUrl: input.signoutUrl ?? `https://idp.example.test/${id}/slo`,
      completedIntegration: input.completedIntegration ?? true,
      lastUpdated: this.#now(),
    };
    this.#integrations.set(id, record);
    this.#byIntegration.set(id, new Set());
    if (origin) this.#recordIntegration(origin, "created", id, null, record);
    return record;
  }

  updateIntegration(id: string, patch: IntegrationPatch, origin?: MutationOrigin): IntegrationRecord {
    const before = this.#integrations.get(id);
    if (!before) throw new UnknownIntegrationError(id);
    const after: IntegrationRecord = { ...before, ...patch, id, lastUpdated: this.#now() };
    this.#integrations.set(id, after);
    if (origin) this.#recordIntegration(origin, "updated", id, before, after);
    return after;
  }

  /** Deletes the integration and, as the real service does, every certificate it holds. */
  removeIntegration(id: string, origin?: MutationOrigin): IntegrationRecord {
    const before = this.#integrations.get(id);
    if (!before) throw new UnknownIntegrationError(id);
    for (const certificateId of this.#byIntegration.get(id) ?? []) this.#certificates.delete(certificateId);
    this.#byIntegration.delete(id);
    this.#integrations.delete(id);
    if (origin) this.#recordIntegration(origin, "deleted", id, before, null);
    return before;
  }

  certificatesOf(integrationId: string): CertificateRecord[] {
    const ids = this.#byIntegration.get(integrationId);
    if (!ids) return [];
    const out: CertificateRecord[] = [];
    for (const id of ids) {
      const record = this.#certificates.get(id);
      if (record) out.push(record);
    }
    return out;
  }

  getCertificate(id: number | string): CertificateRecord | undefined {
    const key = certificateKey(id);
    return key === null ? undefined : this.#certificates.get(key);
  }

  addCertificate(input: NewCertificate, origin?: MutationOrigin): CertificateRecord {
    const ids = this.#byIntegration.get(input.integrationId);
    if (!ids) throw new UnknownIntegrationError(input.integrationId);
    const dates = datesOf(input.pem);
    const record: CertificateRecord = {
      id: this.#nextCertificateId++,
      integrationId: input.integrationId,
      pem: input.pem,
      enabled: input.enabled,
      notBefore: input.notBefore ?? dates.notBefore,
      notAfter: input.notAfter ?? dates.notAfter,
    };
    this.#certificates.set(record.id, record);
    ids.add(record.id);
    if (origin) this.#recordCertificate(origin, "created", record, null, record);
    return record;
  }

  updateCertificate(
    id: number | string,
    patch: CertificatePatch,
    origin?: MutationOrigin,
  ): CertificateRecord {
    const before = this.getCertificate(id);
    if (!before) throw new UnknownCertificateError(id);
    const integrationId = patch.integrationId ?? before.integrationId;
    const target = this.#byIntegration.get(integrationId);
    if (!target) throw new UnknownIntegrationError(integrationId);
    const pem = patch.pem ?? before.pem;
    const after: CertificateRecord = {
      ...before,
      integrationId,
      pem,
      enabled: patch.enabled ?? before.enabled,
      ...(pem === before.pem ? {} : datesOf(pem)),
    };
    this.#certificates.set(after.id, after);
    if (integrationId !== before.integrationId) {
      this.#byIntegration.get(before.integrationId)?.delete(after.id);
      target.add(after.id);
    }
    if (origin) this.#recordCertificate(origin, "updated", after, before, after);
    return after;
  }

  setCertificateEnabled(id: number | string, enabled: boolean, origin?: MutationOrigin): CertificateRecord {
    return this.updateCertificate(id, { enabled }, origin);
  }

  removeCertificate(id: number | string, origin?: MutationOrigin): CertificateRecord {
    const before = this.getCertificate(id);
    if (!before) throw new UnknownCertificateError(id);
    this.#certificates.delete(before.id);
    this.#byIntegration.get(before.integrationId)?.delete(before.id);
    if (origin) this.#recordCertificate(origin, "deleted", before, before, null);
    return before;
  }

  addTeammate(input: NewTeammate, origin?: MutationOrigin): TeammateRecord {
    if (this.#teammates.has(input.email)) throw new DuplicateError(`teammate ${input.email} already exists`);
    const record: TeammateRecord = {
      firstName: "",
      lastName: "",
      isAdmin: false,
      persona: null,
      scopes: [],
      hasRestrictedSubuserAccess: false,
      subuserAccess: [],
      ...input,
    };
    this.#teammates.set(record.email, record);
    if (origin) this.#recordTeammate(origin, "created", record.email, null, record);
    return record;
  }

  updateTeammate(username: string, patch: TeammatePatch, origin?: MutationOrigin): TeammateRecord {
    const before = this.#teammates.get(username);
    if (!before) throw new UnknownTeammateError(username);
    const after: TeammateRecord = { ...before, ...patch, email: before.email };
    this.#teammates.set(username, after);
    if (origin) this.#recordTeammate(origin, "updated", username, before, after);
    return after;
  }

  #base(origin: MutationOrigin, change: Change, changed: readonly string[]): HistoryBase {
    return {
      seq: this.#history.length + 1,
      time: this.#now(),
      method: origin.method,
      path: origin.path,
      change,
      changed,
    };
  }

  #certificatesAfter(integrationIds: readonly string[]): Record<string, readonly CertificateRecord[]> {
    return Object.fromEntries(integrationIds.map((id) => [id, this.certificatesOf(id)]));
  }

  #recordIntegration(
    origin: MutationOrigin,
    change: Change,
    integrationId: string,
    before: IntegrationRecord | null,
    after: IntegrationRecord | null,
  ): void {
    // Every PATCH bumps lastUpdated; listing it would hide whether anything else changed.
    const changed = changedKeys(before, after).filter((key) => change !== "updated" || key !== "lastUpdated");
    this.#history.push({
      ...this.#base(origin, change, changed),
      kind: "integration",
      integrationId,
      before,
      after,
      certificatesAfter: this.#certificatesAfter([integrationId]),
    });
  }

  /** `subject` is the record as it stands after the mutation, or as it was when deleted. */
  #recordCertificate(
    origin: MutationOrigin,
    change: Change,
    subject: CertificateRecord,
    before: CertificateRecord | null,
    after: CertificateRecord | null,
  ): void {
    const touched = [...new Set([before?.integrationId, after?.integrationId])].filter(
      (id): id is string => id !== undefined,
    );
    this.#history.push({
      ...this.#base(origin, change, changedKeys(before, after)),
      kind: "certificate",
      certificateId: subject.id,
      integrationId: subject.integrationId,
      before,
      after,
      certificatesAfter: this.#certificatesAfter(touched),
    });
  }

  #recordTeammate(
    origin: MutationOrigin,
    change: Change,
    username: string,
    before: TeammateRecord | null,
    after: TeammateRecord | null,
  ): void {
    this.#history.push({
      ...this.#base(origin, change, changedKeys(before, after)),
      kind: "teammate",
      username,
      before,
      after,
    });
  }
}
