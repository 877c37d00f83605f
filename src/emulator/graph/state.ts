// The emulated Entra tenant's directory: app registrations that may call Graph (client id, secret,
// application roles), service principals with their key and password credentials, and a history of
// every signing-certificate addition and activation, from the API or "the portal", so a test can tell at
// any instant which key the IdP signed SAML responses with. Knows nothing of HTTP, tokens or wire shapes.
//
// Behaviour follows Microsoft Graph v1.0 "servicePrincipal: addTokenSigningCertificate" (a Sign and a
// Verify keyCredential plus a passwordCredential sharing one customKeyIdentifier; startDateTime = now;
// endDateTime at most three years ahead; displayName must start with "CN=") and the servicePrincipal
// resource (`preferredTokenSigningKeyThumbprint` picks the SAML signing certificate).

import { randomUUID } from "node:crypto";
import { generateCertificate } from "../../certs/generate.js";
import { certificateThumbprint, normalizeThumbprint } from "../../graph/thumbprint.js";

/** Application permissions of Microsoft Graph that bear on service principals. */
export const GRAPH_ROLES = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Application.ReadWrite.OwnedBy",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
] as const;
export type GraphRole = (typeof GRAPH_ROLES)[number];

export type ChangeOrigin = "api" | "console";

/** An app registration allowed to use the client credentials flow. */
export interface ClientRecord {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly roles: readonly GraphRole[];
}

export interface KeyCredentialRecord {
  /** Base64 of the certificate's SHA-1 thumbprint bytes, shared by the Sign/Verify/password trio. */
  readonly customKeyIdentifier: string;
  readonly displayName: string;
  readonly startDateTime: Date;
  readonly endDateTime: Date;
  readonly keyId: string;
  readonly type: "AsymmetricX509Cert";
  readonly usage: "Sign" | "Verify";
  /** The certificate's DER for a Verify credential; null for the private (Sign) half, never exposed. */
  readonly key: Uint8Array | null;
}

export interface PasswordCredentialRecord {
  readonly customKeyIdentifier: string;
  readonly displayName: string;
  readonly startDateTime: Date;
  readonly endDateTime: Date;
  /** Same as the Sign credential's keyId: it opens that key's PFX. */
  readonly keyId: string;
}

export interface ServicePrincipalRecord {
  /** The object id Graph addresses it by. */
  readonly id: string;
  readonly appId: string;
  readonly displayName: string;
  readonly preferredSingleSignOnMode: "saml" | null;
  /** Stored as written (Graph keeps the caller's spelling); compared case-insensitively. */
  readonly preferredTokenSigningKeyThumbprint: string | null;
  readonly keyCredentials: readonly KeyCredentialRecord[];
  readonly passwordCredentials: readonly PasswordCredentialRecord[];
  /** Client ids of the app registrations that own it (Application.ReadWrite.OwnedBy). */
  readonly owners: readonly string[];
}

/** What addTokenSigningCertificate returns: the public half, as Graph's selfSignedCertificate. */
export interface SigningCertificateRecord {
  readonly thumbprint: string;
  readonly customKeyIdentifier: string;
  readonly displayName: string;
  readonly startDateTime: Date;
  readonly endDateTime: Date;
  /** keyId of the Verify credential. */
  readonly keyId: string;
  readonly der: Uint8Array;
  readonly pem: string;
}

export type GraphHistoryEntry =
  | {
      readonly time: Date;
      readonly kind: "certificate_added";
      readonly servicePrincipalId: string;
      readonly thumbprint: string;
      readonly origin: ChangeOrigin;
    }
  | {
      readonly time: Date;
      readonly kind: "activated";
      readonly servicePrincipalId: string;
      /** As written by the caller; null clears the preference. */
      readonly thumbprint: string | null;
      readonly origin: ChangeOrigin;
    };

export interface NewServicePrincipal {
  readonly id?: string;
  readonly appId?: string;
  readonly displayName: string;
  /** Default "saml": these are SAML enterprise apps. */
  readonly preferredSingleSignOnMode?: "saml" | null;
  readonly owners?: readonly string[];
}

export interface NewSigningCertificate {
  /** Must start with "CN=". */
  readonly displayName: string;
  /** Default three years from now; at most three years from now. */
  readonly endDateTime?: Date;
}

/** Graph's limit on addTokenSigningCertificate's endDateTime. */
export const MAX_SIGNING_CERTIFICATE_YEARS = 3;

export class GraphStateError extends Error {
  override readonly name = "GraphStateError";
  constructor(
    readonly code: "not_found" | "invalid_display_name" | "invalid_end_date",
    message: string,
  ) {
    super(message);
  }
}

function yearsAfter(date: Date, years: number): Date {
  const later = new Date(date.getTime());
  later.setUTCFullYear(later.getUTCFullYear() + years);
  return later;
}

export class GraphEmulatorState {
  readonly #now: () => Date;
  readonly #clients = new Map<string, ClientRecord>();
  readonly #principals = new Map<string, ServicePrincipalRecord>();
  readonly #history: GraphHistoryEntry[] = [];

  constructor(now: () => Date) {
    this.#now = now;
  }

  /** Every certificate addition and activation, oldest first. */
  get history(): readonly GraphHistoryEntry[] {
    return this.#history;
  }

  addClient(client: ClientRecord): void {
    this.#clients.set(client.clientId, { ...client, roles: [...client.roles] });
  }

  client(clientId: string): ClientRecord | undefined {
    return this.#clients.get(clientId);
  }

  /** Replaces a client's application roles, as an admin granting or revoking consent. */
  setClientRoles(clientId: string, roles: readonly GraphRole[]): void {
    const client = this.#clients.get(clientId);
    if (!client) throw new GraphStateError("not_found", `no client ${clientId}`);
    this.#clients.set(clientId, { ...client, roles: [...roles] });
  }

  addServicePrincipal(init: NewServicePrincipal): ServicePrincipalRecord {
    const record: ServicePrincipalRecord = {
      id: init.id ?? randomUUID(),
      appId: init.appId ?? randomUUID(),
      displayName: init.displayName,
      preferredSingleSignOnMode:
        init.preferredSingleSignOnMode === undefined ? "saml" : init.preferredSingleSignOnMode,
      preferredTokenSigningKeyThumbprint: null,
      keyCredentials: [],
      passwordCredentials: [],
      owners: [...(init.owners ?? [])],
    };
    this.#principals.set(record.id, record);
    return record;
  }

  servicePrincipal(id: string): ServicePrincipalRecord | undefined {
    return this.#principals.get(id);
  }

  servicePrincipalByAppId(appId: string): ServicePrincipalRecord | undefined {
    return [...this.#principals.values()].find((sp) => sp.appId === appId);
  }

  servicePrincipals(): readonly ServicePrincipalRecord[] {
    return [...this.#principals.values()];
  }

  /** Throws GraphStateError for a displayName or endDateTime Graph would refuse. */
  checkSigningCertificate(request: NewSigningCertificate): void {
    if (!request.displayName.startsWith("CN=") || request.displayName.length <= 3) {
      throw new GraphStateError(
        "invalid_display_name",
        "displayName must start with 'CN=' and name a subject",
      );
    }
    const now = this.#now();
    const end = request.endDateTime;
    if (end !== undefined) {
      if (Number.isNaN(end.getTime()) || end.getTime() <= now.getTime())
        throw new GraphStateError("invalid_end_date", "endDateTime must be in the future");
      if (end.getTime() > yearsAfter(now, MAX_SIGNING_CERTIFICATE_YEARS).getTime())
        throw new GraphStateError(
          "invalid_end_date",
          `endDateTime must be at most ${MAX_SIGNING_CERTIFICATE_YEARS} years after the certificate is created`,
        );
    }
  }

  /**
   * Creates a self-signed RSA certificate and adds its Sign and Verify keyCredentials and its
   * passwordCredential; does not change which certificate signs. "console" is an admin in the portal.
   */
  async addTokenSigningCertificate(
    servicePrincipalId: string,
    request: NewSigningCertificate,
    origin: ChangeOrigin = "console",
  ): Promise<SigningCertificateRecord> {
    this.#require(servicePrincipalId);
    this.checkSigningCertificate(request);
    const start = this.#now();
    const end = request.endDateTime ?? yearsAfter(start, MAX_SIGNING_CERTIFICATE_YEARS);
    const generated = await generateCertificate({
      commonName: request.displayName.slice("CN=".length),
      notBefore: start,
      notAfter: end,
      key: { kind: "rsa", bits: 2048 },
    });
    const thumbprint = certificateThumbprint(generated.der);
    const customKeyIdentifier = Buffer.from(thumbprint, "hex").toString("base64");
    const signKeyId = randomUUID();
    const common = {
      customKeyIdentifier,
      displayName: request.displayName,
      startDateTime: start,
      endDateTime: end,
    };
    const verify: KeyCredentialRecord = {
      ...common,
      keyId: randomUUID(),
      type: "AsymmetricX509Cert",
      usage: "Verify",
      key: generated.der,
    };
    const sign: KeyCredentialRecord = { ...verify, keyId: signKeyId, usage: "Sign", key: null };
    // Re-read after the await: the record may have been replaced meanwhile.
    const current = this.#require(servicePrincipalId);
    this.#principals.set(servicePrincipalId, {
      ...current,
      keyCredentials: [...current.keyCredentials, sign, verify],
      passwordCredentials: [...current.passwordCredentials, { ...common, keyId: signKeyId }],
    });
    this.#history.push({
      time: this.#now(),
      kind: "certificate_added",
      servicePrincipalId,
      thumbprint,
      origin,
    });
    return { ...common, thumbprint, keyId: verify.keyId, der: generated.der, pem: generated.pem };
  }

  /** PATCH preferredTokenSigningKeyThumbprint, or an admin choosing "Make certificate active". */
  setPreferredThumbprint(
    servicePrincipalId: string,
    thumbprint: string | null,
    origin: ChangeOrigin = "console",
  ): void {
    const current = this.#require(servicePrincipalId);
    this.#principals.set(servicePrincipalId, { ...current, preferredTokenSigningKeyThumbprint: thumbprint });
    this.#history.push({ time: this.#now(), kind: "activated", servicePrincipalId, thumbprint, origin });
  }

  setDisplayName(servicePrincipalId: string, displayName: string): void {
    const current = this.#require(servicePrincipalId);
    this.#principals.set(servicePrincipalId, { ...current, displayName });
  }

  /**
   * The Verify credential whose certificate signed SAML responses at `at`: the one the latest activation
   * at or before `at` named, if the service principal held it; null when none was named or it was not held.
   */
  signingCredentialAt(servicePrincipalId: string, at: Date): KeyCredentialRecord | null {
    let named: string | null = null;
    for (const entry of this.#history) {
      if (entry.time.getTime() > at.getTime()) break;
      if (entry.kind === "activated" && entry.servicePrincipalId === servicePrincipalId)
        named = entry.thumbprint;
    }
    if (named === null) return null;
    const wanted = normalizeThumbprint(named);
    const sp = this.#require(servicePrincipalId);
    return (
      sp.keyCredentials.find(
        (credential) =>
          credential.usage === "Verify" &&
          credential.key !== null &&
          credential.startDateTime.getTime() <= at.getTime() &&
          certificateThumbprint(credential.key) === wanted,
      ) ?? null
    );
  }

  /** The thumbprint (uppercase) of the certificate signing now, or null. */
  signingThumbprint(servicePrincipalId: string): string | null {
    const credential = this.signingCredentialAt(servicePrincipalId, this.#now());
    return credential?.key ? certificateThumbprint(credential.key) : null;
  }

  #require(id: string): ServicePrincipalRecord {
    const record = this.#principals.get(id);
    if (!record) throw new GraphStateError("not_found", `no service principal ${id}`);
    return record;
  }
}
