// Who may read the server's endpoints: HTTP basic auth against bcrypt hashes and a bearer token read from
// a file, either one enough, as the Prometheus exporter-toolkit does it. Never logs, stores or echoes a
// presented credential: only SHA-256 digests of verified logins are kept, to spare a bcrypt round per scrape.

import { createHash, timingSafeEqual } from "node:crypto";
import { SecretUnavailableError } from "../config/secrets.js";
import type { SecretSource, WebConfig } from "../config/types.js";
import type { Logger } from "../log.js";

export const AUTH_REALM = "sendgrid-sso-certs";
/** Sent with every 401, so a browser asks for a user name and password. */
export const WWW_AUTHENTICATE = `Basic realm="${AUTH_REALM}"`;
/** Verified logins remembered; past this the oldest is forgotten and costs one bcrypt round again. */
export const MAX_REMEMBERED_LOGINS = 100;

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

export class Authenticator {
  readonly #users: ReadonlyMap<string, string>;
  readonly #token: SecretSource | null;
  readonly #logger: Logger;
  /** An unknown user is checked against this so that answers take as long as for a known one. */
  readonly #decoy: string | undefined;
  readonly #remembered = new Set<string>();
  #tokenProblem: string | null = null;

  /** null when the configuration asks for no authentication. */
  static from(web: WebConfig, logger: Logger): Authenticator | null {
    if (web.basicAuthUsers.size === 0 && web.bearerToken === null) return null;
    return new Authenticator(web.basicAuthUsers, web.bearerToken, logger);
  }

  private constructor(users: ReadonlyMap<string, string>, token: SecretSource | null, logger: Logger) {
    this.#users = users;
    this.#token = token;
    this.#logger = logger;
    this.#decoy = users.values().next().value;
  }

  /** Whether the Authorization header carries a valid basic login or bearer token. */
  async allows(authorization: string | undefined): Promise<boolean> {
    const match = /^([A-Za-z]+) +(\S+) *$/.exec(authorization ?? "");
    if (match === null) return false;
    const scheme = match[1]!.toLowerCase();
    if (scheme === "bearer") return this.#bearer(match[2]!);
    if (scheme !== "basic") return false;
    const login = Buffer.from(match[2]!, "base64").toString("utf8");
    const colon = login.indexOf(":");
    return colon > 0 && this.#basic(login.slice(0, colon), login.slice(colon + 1));
  }

  async #basic(user: string, password: string): Promise<boolean> {
    if (this.#decoy === undefined) return false;
    const digest = sha256(JSON.stringify([user, password])).toString("hex");
    if (this.#remembered.has(digest)) return true;
    const hash = this.#users.get(user);
    // Loaded by the first basic login to check: a server without basic auth never loads bcryptjs.
    const { compare } = await import("bcryptjs");
    const matches = await compare(password, hash ?? this.#decoy);
    if (!matches || hash === undefined) return false;
    if (this.#remembered.size >= MAX_REMEMBERED_LOGINS) {
      this.#remembered.delete(this.#remembered.values().next().value!);
    }
    this.#remembered.add(digest);
    return true;
  }

  #bearer(presented: string): boolean {
    if (this.#token === null) return false;
    let expected: string;
    try {
      expected = this.#token.read();
      this.#tokenProblem = null;
    } catch (error) {
      if (!(error instanceof SecretUnavailableError)) throw error;
      // Reported once per problem: every scrape would repeat it. The message names the file, not a value.
      if (error.message !== this.#tokenProblem) {
        this.#tokenProblem = error.message;
        this.#logger.error({ problem: error.message }, "bearer token unavailable; refusing bearer tokens");
      }
      return false;
    }
    // Digests have equal lengths, so the comparison takes the same time whatever was presented.
    return timingSafeEqual(sha256(presented), sha256(expected));
  }
}
