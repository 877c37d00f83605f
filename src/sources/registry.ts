// The sources of the configured rotation rules, built once: file and metadata readers, and one port per
// okta/entra rule (its client keeps connections and, for Graph, a cached token). Reads every rule's
// source concurrently into Offers; never throws for a source that fails, that is an Offer saying so.
// The module of the metadata, okta and entra sources (XML parsing and signatures, the Okta and Graph
// clients) is loaded only when a rule uses that type; the file source needs nothing a scan does not.

import type { Config, RotationRule } from "../config/types.js";
import { parsePool } from "../certs/parse-pool.js";
import type { Offer } from "../core/offer.js";
import type { RequestObserver } from "../http/transport.js";
import { fileOffer, readFileSource } from "./file.js";
import { idpFailure, idpOffer } from "./idp-offer.js";
import { metadataOffer } from "./metadata-offer.js";
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

/** The sources of the configuration's rotation rules, with the modules of the source types they use. */
export async function sourcesFor(config: Config, observer?: RequestObserver): Promise<Sources> {
  const rules = config.rotation.integrations;
  const uses = (type: RotationRule["source"]["type"]) => rules.some((rule) => rule.source.type === type);
  const [metadata, okta, entra] = await Promise.all([
    uses("metadata") ? import("./metadata.js") : null,
    uses("okta") ? import("./okta.js") : null,
    uses("entra") ? import("./entra.js") : null,
  ]);
  const http = {
    timeoutMs: config.http.timeoutMs,
    maxRetries: config.http.maxRetries,
    maxConcurrency: config.http.maxConcurrency,
  };
  const ports = rules.map((rule): IdpPort | null => {
    if (rule.source.type === "okta") return okta!.oktaPort(rule.source, http, observer);
    if (rule.source.type === "entra") return entra!.entraPort(rule.source, http, observer);
    return null;
  });

  // The core judges offered certificates with parse.ts's synchronous parse. Parsed here first, in the
  // parse pool's worker, the core finds each in the cache, and the daemon's main thread never loads
  // @peculiar/x509 (several MB of heap, docs/performance.md).
  const read = async (index: number): Promise<Offer> => {
    const offer = await readSource(index);
    if (offer.ok) await parsePool.parseAll(offer.certificates.map((certificate) => certificate.text));
    return offer;
  };

  const readSource = async (index: number): Promise<Offer> => {
    const source = rules[index]!.source;
    switch (source.type) {
      case "file":
        return fileOffer(await readFileSource(source.path));
      case "metadata":
        return metadataOffer(
          await metadata!.fetchMetadata(source.url, {
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
