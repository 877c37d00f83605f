// The sources of the configured rotation rules, built once: file and metadata readers, and one port per
// okta/entra rule (its client keeps connections and, for Graph, a cached token). Reads every rule's
// source concurrently into Offers; never throws for a source that fails, that is an Offer saying so.

import type { Config, RotationRule } from "../config/types.js";
import type { Offer } from "../core/offer.js";
import type { RequestObserver } from "../http/transport.js";
import { entraPort } from "./entra.js";
import { fileOffer, readFileSource } from "./file.js";
import { idpFailure, idpOffer } from "./idp-offer.js";
import { fetchMetadata } from "./metadata.js";
import { metadataOffer } from "./metadata-offer.js";
import { oktaPort } from "./okta.js";
import type { IdpPort } from "./types.js";

export interface Sources {
  readonly rules: readonly RotationRule[];
  /** The rule's source as it is now. */
  read(index: number): Promise<Offer>;
  /** Every rule's source (those `wanted`), concurrently. */
  readAll(wanted?: (index: number) => boolean): Promise<Map<number, Offer>>;
  /** The IdP behind an okta/entra rule; null for file and metadata rules. */
  port(index: number): IdpPort | null;
  close(): Promise<void>;
}

export function sourcesFor(config: Config, observer?: RequestObserver): Sources {
  const rules = config.rotation.integrations;
  const http = {
    timeoutMs: config.http.timeoutMs,
    maxRetries: config.http.maxRetries,
    maxConcurrency: config.http.maxConcurrency,
  };
  const ports = rules.map((rule): IdpPort | null => {
    if (rule.source.type === "okta") return oktaPort(rule.source, http, observer);
    if (rule.source.type === "entra") return entraPort(rule.source, http, observer);
    return null;
  });

  const read = async (index: number): Promise<Offer> => {
    const source = rules[index]!.source;
    switch (source.type) {
      case "file":
        return fileOffer(await readFileSource(source.path));
      case "metadata":
        return metadataOffer(
          await fetchMetadata(source.url, {
            timeoutMs: config.http.timeoutMs,
            entityId: source.entityId,
            requireSignature: source.requireSignature,
            signingCertificateFile: source.signingCertificateFile,
          }),
        );
      case "okta":
      case "entra":
        try {
          return idpOffer(source, await ports[index]!.read());
        } catch (error) {
          return idpFailure(source, error);
        }
    }
  };

  return {
    rules,
    read,
    async readAll(wanted = () => true) {
      const offers = new Map<number, Offer>();
      await Promise.all(
        rules.map(async (_, index) => {
          if (wanted(index)) offers.set(index, await read(index));
        }),
      );
      return offers;
    },
    port: (index) => ports[index] ?? null,
    async close() {
      await Promise.all(ports.flatMap((port) => (port ? [port.close()] : [])));
    },
  };
}
