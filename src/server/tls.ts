// The server's TLS identity from web.tls_server_config: the certificate and key files, loaded at start and
// swapped in for new connections when either changes (cert-manager renews them in place). Never lets a
// broken pair replace a working one, and never puts the key's content in an error or a log line.

import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  createSecureContext,
  type SecureContextOptions,
  type SecureVersion,
  type Server as TlsServer,
} from "node:tls";
import { SecretUnavailableError } from "../config/secrets.js";
import type { TlsMinVersion, TlsServerConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { TlsCredentialsError } from "./tls-error.js";

const PROTOCOLS: Readonly<Record<TlsMinVersion, SecureVersion>> = { TLS12: "TLSv1.2", TLS13: "TLSv1.3" };

interface Pair {
  readonly cert: string;
  readonly key: string;
}

export class TlsCredentials {
  readonly #config: TlsServerConfig;
  readonly #logger: Logger;
  #current: Pair;
  #options: SecureContextOptions;
  /** The last pair that failed, so a broken renewal is tried (and reported) once, not per connection. */
  #rejected: Pair | null = null;
  #lastProblem: string | null = null;

  /** Throws TlsCredentialsError naming the files when they cannot be used. */
  constructor(config: TlsServerConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#current = this.#read();
    this.#options = this.#validate(this.#current);
  }

  /** For https.createServer. */
  get options(): SecureContextOptions {
    return this.#options;
  }

  /**
   * Checks the files before each new connection is handed to TLS, so the connection after a renewal
   * already gets the new certificate. A stat per connection when nothing changed.
   */
  attach(server: TlsServer): void {
    // Prepended: the server's own listener starts the handshake with the context current at that moment.
    server.prependListener("connection", () => {
      const next = this.#changed();
      if (next !== null) server.setSecureContext(next);
    });
  }

  #changed(): SecureContextOptions | null {
    try {
      const pair = this.#read();
      if (same(pair, this.#current) || (this.#rejected !== null && same(pair, this.#rejected))) return null;
      try {
        this.#options = this.#validate(pair);
      } catch (error) {
        this.#rejected = pair;
        throw error;
      }
      this.#current = pair;
      this.#rejected = null;
      this.#lastProblem = null;
      this.#logger.info(
        { cert_file: this.#config.cert.describe(), ...certificateFacts(pair.cert) },
        "TLS certificate reloaded",
      );
      return this.#options;
    } catch (error) {
      if (!(error instanceof TlsCredentialsError)) throw error;
      if (error.message !== this.#lastProblem) {
        this.#lastProblem = error.message;
        this.#logger.warn(
          { problem: error.message },
          "TLS files changed but cannot be used; keeping the previous certificate",
        );
      }
      return null;
    }
  }

  #read(): Pair {
    try {
      return { cert: this.#config.cert.read(), key: this.#config.key.read() };
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw new TlsCredentialsError(`TLS: ${error.message}`);
      throw error;
    }
  }

  #validate(pair: Pair): SecureContextOptions {
    const options: SecureContextOptions = {
      cert: pair.cert,
      key: pair.key,
      minVersion: PROTOCOLS[this.#config.minVersion],
    };
    let reason: string | null = null;
    try {
      // OpenSSL files a key of another type than the certificate's beside it without complaint, and
      // every handshake then fails: the pair is checked explicitly.
      if (!new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))) {
        reason = "the key does not belong to the certificate";
      } else createSecureContext(options);
    } catch (error) {
      // OpenSSL's reasons ("unsupported", "no start line") quote neither file.
      reason = error instanceof Error ? error.message : String(error);
    }
    if (reason !== null) {
      const { cert, key } = this.#config;
      throw new TlsCredentialsError(
        `TLS certificate ${cert.describe()} and key ${key.describe()} cannot be used: ${reason}`,
      );
    }
    return options;
  }
}

function same(a: Pair, b: Pair): boolean {
  return a.cert === b.cert && a.key === b.key;
}

/** What an operator checks after a renewal; a certificate is public, so this is safe to log. */
function certificateFacts(pem: string): Record<string, string> {
  try {
    const certificate = new X509Certificate(pem);
    return {
      fingerprint_sha256: certificate.fingerprint256.replaceAll(":", "").toLowerCase(),
      not_after: new Date(certificate.validTo).toISOString(),
    };
  } catch {
    return {};
  }
}
