// An IdP management API's answer (or its failure) as an Offer: every key the IdP holds, which one it
// signs with, and whether the tool may generate and activate keys there. Shared by the okta and entra
// sources, whose ports produce the same IdpKeySet.

import type { IdpSource } from "../config/types.js";
import type { IdpKeySet } from "../core/idp.js";
import type { Offer } from "../core/offer.js";
import { ApiError } from "../http/errors.js";

export function idpOffer(source: IdpSource, keys: IdpKeySet): Offer {
  return {
    ok: true,
    source: source.type,
    mode: "mirror",
    certificates: keys.keys.map((key) => ({
      origin: `${source.type} key ${key.id}`,
      text: key.pem,
      keyId: key.id,
    })),
    signing: { kind: "key", keyId: keys.activeKeyId },
    signer: null,
    manage: source.manageKeys ? { validityYears: source.validityYears } : null,
    problems: [],
  };
}

export function idpFailure(source: IdpSource, error: unknown): Offer {
  return {
    ok: false,
    source: source.type,
    message: error instanceof Error ? error.message : String(error),
    status: error instanceof ApiError ? error.status : null,
    reason: error instanceof ApiError ? error.reason : "connection",
  };
}
