// Which URLs the tool may send a secret or a certificate to: https anywhere, plain http only to the
// machine itself (tests, the demo, a sidecar proxy). The config schema checks every configured URL with
// it and the metadata fetch checks every redirect hop, so the rule at load and on the wire is one rule.
// Pure: never resolves a name (a DNS answer could point anywhere, so only the written host counts).

export const LOOPBACK_HOSTS_TEXT = "127.0.0.0/8, ::1, localhost";

/** `hostname` as the WHATWG URL parser writes it: IPv4 in dotted decimal, IPv6 in brackets, lowercase. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** Why the tool must not talk to this URL, or null when it may. */
export function insecureUrlProblem(url: URL): string | null {
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname)
      ? null
      : `http:// is allowed only to a loopback host (${LOOPBACK_HOSTS_TEXT}); use https://`;
  }
  return "is not an http(s) URL";
}
