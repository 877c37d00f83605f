// Access tokens the emulated Microsoft identity platform issues and Graph accepts: opaque random strings
// (clients must not read real ones either) bound to a client, the roles it held when the token was
// issued (as a real token's `roles` claim), and an expiry. Never logs or returns a token it did not issue.

import { randomBytes } from "node:crypto";
import type { GraphRole } from "./state.js";

export interface TokenGrant {
  readonly clientId: string;
  readonly roles: readonly GraphRole[];
  readonly expiresAt: Date;
}

export type TokenCheck =
  | { readonly ok: true; readonly grant: TokenGrant }
  | { readonly ok: false; readonly reason: "missing" | "invalid" | "expired" };

export class TokenIssuer {
  readonly #now: () => Date;
  readonly #lifetimeSeconds: number;
  readonly #grants = new Map<string, TokenGrant>();

  constructor(now: () => Date, lifetimeSeconds: number) {
    if (!(Number.isInteger(lifetimeSeconds) && lifetimeSeconds > 0))
      throw new RangeError("tokenLifetimeSeconds must be a positive integer");
    this.#now = now;
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  issue(clientId: string, roles: readonly GraphRole[]): { accessToken: string; expiresIn: number } {
    const accessToken = `emu.${randomBytes(32).toString("base64url")}`;
    const expiresAt = new Date(this.#now().getTime() + this.#lifetimeSeconds * 1000);
    this.#grants.set(accessToken, { clientId, roles: [...roles], expiresAt });
    return { accessToken, expiresIn: this.#lifetimeSeconds };
  }

  /** Reads an `Authorization: Bearer <token>` header. */
  check(header: string | undefined): TokenCheck {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
    if (token === undefined) return { ok: false, reason: "missing" };
    const grant = this.#grants.get(token);
    if (!grant) return { ok: false, reason: "invalid" };
    if (grant.expiresAt.getTime() <= this.#now().getTime()) return { ok: false, reason: "expired" };
    return { ok: true, grant };
  }

  /** Every token issued so far expires now, as if its lifetime had run out. */
  expireAll(): void {
    const now = this.#now();
    for (const [token, grant] of this.#grants) this.#grants.set(token, { ...grant, expiresAt: now });
  }
}
