// The error of unusable TLS files, in a module of its own: the CLI maps it to exit 2 without loading the
// TLS machinery for a server that has none configured.

/** The certificate or key cannot be read, or they do not make a usable pair. */
export class TlsCredentialsError extends Error {
  override readonly name = "TlsCredentialsError";
  readonly code = "ERR_TLS_CREDENTIALS";
}
