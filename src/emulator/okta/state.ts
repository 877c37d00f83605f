// The emulated Okta org's SAML apps: each app's fields, its signing keys (real RSA 2048 certificates) and
// the one it signs with (`credentials.signing.kid`), and a history of every key generation and activation,
// from the API or "the Admin Console", so a test can tell at any instant which key the IdP signed SAML
// responses with. Knows nothing of HTTP, tokens or wire shapes.
//
// Behaviour follows the Okta Management API reference, Apps API (developer.okta.com/docs/reference/api/
// apps): "Generate new application key credential" (validityYears 2..10; the new key is not used until
// the app is updated with its kid), "Update key credential for application" (PUT the app with the new
// `credentials.signing.kid`) and "Replace an application" (PUT replaces the app's settings as sent).

import { createHash, randomBytes } from "node:crypto";
import { generateCertificate } from "../../certs/generate.js";
import { webcrypto } from "../../certs/x509.js";

export type ChangeOrigin = "api" | "console";

export interface OktaKeyRecord {
  readonly kid: string;
  readonly created: Date;
  readonly lastUpdated: Date;
  readonly expiresAt: Date;
  /** DER of the certificate (`x5c[0]` is its base64). */
  readonly der: Uint8Array;
  readonly pem: string;
  /** base64url SHA-256 of the DER. */
  readonly x5tS256: string;
  /** The RSA public key as JWK members (base64url). */
  readonly e: string;
  readonly n: string;
}

/** What a PUT may replace: everything but the identity, lifecycle and key store. */
export interface OktaAppFields {
  readonly label: string;
  readonly accessibility: Readonly<Record<string, unknown>>;
  readonly visibility: Readonly<Record<string, unknown>>;
  readonly features: readonly unknown[];
  readonly settings: Readonly<Record<string, unknown>>;
  readonly userNameTemplate: Readonly<Record<string, unknown>>;
}

export interface OktaAppRecord extends OktaAppFields {
  readonly id: string;
  /** The app's key in the Okta Integration Network (`template_saml_2_0`, or e.g. `sendgrid`). */
  readonly name: string;
  readonly signOnMode: "SAML_2_0";
  readonly status: "ACTIVE" | "INACTIVE";
  /** Path segment of the public metadata URL (/app/{name}/{externalKey}/sso/saml/metadata). */
  readonly externalKey: string;
  readonly created: Date;
  readonly lastUpdated: Date;
  /** `credentials.signing.kid`: the key SAML responses are signed with; null before any. */
  readonly activeKid: string | null;
  readonly keys: readonly OktaKeyRecord[];
}

export interface KeyEvent {
  readonly time: Date;
  readonly appId: string;
  readonly kind: "generate" | "activate";
  readonly kid: string;
  readonly origin: ChangeOrigin;
}

export interface AddAppInit {
  readonly id?: string;
  readonly name?: string;
  readonly label: string;
  readonly status?: "ACTIVE" | "INACTIVE";
  /** Keys made "in the console" at creation, oldest first; the last one is active. Default 1. */
  readonly keys?: number;
  readonly validityYears?: number;
  readonly settings?: Readonly<Record<string, unknown>>;
}

export const MIN_VALIDITY_YEARS = 2;
export const MAX_VALIDITY_YEARS = 10;

export class UnknownAppError extends Error {
  constructor(readonly appId: string) {
    super(`no app ${appId}`);
  }
}

export class UnknownKeyError extends Error {
  constructor(
    readonly appId: string,
    readonly kid: string,
  ) {
    super(`app ${appId} has no key ${kid}`);
  }
}

/** Okta-shaped random ids: a 3-letter type prefix and 17 letters or digits. */
export function oktaId(prefix: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return prefix + [...randomBytes(17)].map((b) => alphabet[b % alphabet.length]).join("");
}

function defaultFields(label: string, settings?: Readonly<Record<string, unknown>>): OktaAppFields {
  return {
    label,
    accessibility: { selfService: false, errorRedirectUrl: null, loginRedirectUrl: null },
    visibility: { autoSubmitToolbar: false, hide: { iOS: false, web: false }, appLinks: { login: true } },
    features: [],
    settings: settings ?? { app: {}, notifications: { vpn: { network: { connection: "DISABLED" } } } },
    userNameTemplate: { template: "${source.login}", type: "BUILT_IN" },
  };
}

export class OktaEmulatorState {
  readonly #now: () => Date;
  /** The org's name, e.g. "dev-123456": the CN of every certificate it makes, as Okta's carry. */
  readonly orgName: string;
  readonly #apps = new Map<string, OktaAppRecord>();
  readonly #history: KeyEvent[] = [];

  constructor(now: () => Date, orgName: string) {
    this.#now = now;
    this.orgName = orgName;
  }

  get history(): readonly KeyEvent[] {
    return this.#history;
  }

  apps(): readonly OktaAppRecord[] {
    return [...this.#apps.values()];
  }

  app(appId: string): OktaAppRecord | undefined {
    return this.#apps.get(appId);
  }

  /** Adds an app "in the console" with `keys` signing keys, the newest active. */
  async addApp(init: AddAppInit): Promise<OktaAppRecord> {
    const id = init.id ?? oktaId("0oa");
    if (this.#apps.has(id)) throw new Error(`app ${id} exists`);
    const time = this.#now();
    this.#apps.set(id, {
      ...defaultFields(init.label, init.settings),
      id,
      name: init.name ?? "template_saml_2_0",
      signOnMode: "SAML_2_0",
      status: init.status ?? "ACTIVE",
      externalKey: oktaId("exk"),
      created: time,
      lastUpdated: time,
      activeKid: null,
      keys: [],
    });
    for (let i = 0; i < (init.keys ?? 1); i++) {
      const key = await this.generateKey(id, init.validityYears ?? MAX_VALIDITY_YEARS);
      this.activateKey(id, key.kid);
    }
    return this.#get(id);
  }

  /** A new key in the app's key store; the app keeps signing with its active key until activateKey. */
  async generateKey(
    appId: string,
    validityYears: number,
    origin: ChangeOrigin = "console",
  ): Promise<OktaKeyRecord> {
    this.#get(appId);
    if (
      !Number.isInteger(validityYears) ||
      validityYears < MIN_VALIDITY_YEARS ||
      validityYears > MAX_VALIDITY_YEARS
    )
      throw new RangeError(`validityYears must be ${MIN_VALIDITY_YEARS}..${MAX_VALIDITY_YEARS}`);
    // Whole seconds, as Okta's timestamps (".000Z") and the certificate's validity carry them.
    const created = new Date(Math.floor(this.#now().getTime() / 1000) * 1000);
    const expiresAt = new Date(created);
    expiresAt.setUTCFullYear(expiresAt.getUTCFullYear() + validityYears);
    const cert = await generateCertificate({
      commonName: this.orgName,
      notBefore: created,
      notAfter: expiresAt,
      key: { kind: "rsa", bits: 2048 },
    });
    const jwk = await webcrypto.subtle.exportKey("jwk", cert.keys.publicKey);
    const key: OktaKeyRecord = {
      kid: randomBytes(32).toString("base64url"),
      created,
      lastUpdated: created,
      expiresAt,
      der: cert.der,
      pem: cert.pem,
      x5tS256: createHash("sha256").update(cert.der).digest("base64url"),
      e: jwk.e ?? "",
      n: jwk.n ?? "",
    };
    // Re-read: the app may have changed while the certificate was being made.
    const app = this.#get(appId);
    this.#apps.set(appId, { ...app, keys: [...app.keys, key] });
    this.#history.push({ time: created, appId, kind: "generate", kid: key.kid, origin });
    return key;
  }

  /** Makes `kid` the key SAML responses are signed with from now on. */
  activateKey(appId: string, kid: string, origin: ChangeOrigin = "console"): void {
    const app = this.#get(appId);
    if (!app.keys.some((k) => k.kid === kid)) throw new UnknownKeyError(appId, kid);
    const time = this.#now();
    this.#apps.set(appId, { ...app, activeKid: kid, lastUpdated: time });
    if (app.activeKid !== kid) this.#history.push({ time, appId, kind: "activate", kid, origin });
  }

  /** What a PUT from the API does: replaces the app's fields and, via activateKey, its signing key. */
  replaceApp(appId: string, fields: OktaAppFields, kid: string): OktaAppRecord {
    const app = this.#get(appId);
    if (!app.keys.some((k) => k.kid === kid)) throw new UnknownKeyError(appId, kid);
    this.#apps.set(appId, { ...app, ...fields, lastUpdated: this.#now() });
    this.activateKey(appId, kid, "api");
    return this.#get(appId);
  }

  /** The kid the app signed with at `time` (history replayed); null before its first activation. */
  signingKeyAt(appId: string, time: Date): string | null {
    let kid: string | null = null;
    for (const event of this.#history) {
      if (event.time.getTime() > time.getTime()) break;
      if (event.appId === appId && event.kind === "activate") kid = event.kid;
    }
    return kid;
  }

  #get(appId: string): OktaAppRecord {
    const app = this.#apps.get(appId);
    if (!app) throw new UnknownAppError(appId);
    return app;
  }
}
