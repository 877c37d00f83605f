import { describe, expect, it } from "vitest";
import { SendGridError, parseErrorMessages, reasonForStatus } from "../../src/sendgrid/errors.js";

describe("parseErrorMessages", () => {
  it("reads the array shape", () => {
    expect(
      parseErrorMessages(
        JSON.stringify([{ message: "integration not found", field: "id", error_id: "e-1" }]),
      ),
    ).toEqual([{ message: "integration not found", field: "id", errorId: "e-1", help: null }]);
  });

  it("reads the object shape", () => {
    expect(
      parseErrorMessages(
        JSON.stringify({
          errors: [{ message: "bad", field: null, help: "https://docs" }, { message: "worse" }],
        }),
      ),
    ).toEqual([
      { message: "bad", field: null, errorId: null, help: "https://docs" },
      { message: "worse", field: null, errorId: null, help: null },
    ]);
  });

  it("survives odd entries, odd shapes and non-JSON", () => {
    expect(
      parseErrorMessages(JSON.stringify([{ message: "ok", help: { url: "x" } }, 42, { field: "f" }])),
    ).toEqual([{ message: "ok", field: null, errorId: null, help: null }]);
    expect(parseErrorMessages('{"error":"nope"}')).toEqual([]);
    expect(parseErrorMessages("<html><body>502 Bad Gateway</body></html>")).toEqual([]);
    expect(parseErrorMessages("")).toEqual([]);
  });

  it("flattens and bounds long messages", () => {
    const [m] = parseErrorMessages(JSON.stringify([{ message: `a\n\n${"b".repeat(1000)}` }]));
    expect(m?.message.startsWith("a b")).toBe(true);
    expect(m?.message.length).toBeLessThanOrEqual(301);
  });
});

describe("SendGridError", () => {
  it("says method, templated route, status, messages and attempts", () => {
    const error = new SendGridError({
      kind: "http",
      method: "GET",
      route: "/v3/sso/integrations/:id",
      status: 404,
      reason: reasonForStatus(404),
      retryable: false,
      attempts: 1,
      detail: "integration not found (field: id)",
    });
    expect(error.message).toBe(
      "GET /v3/sso/integrations/:id -> 404 Not Found: integration not found (field: id)",
    );
    expect(error).toMatchObject({ name: "SendGridError", code: "SENDGRID_HTTP_404", reason: "http_404" });
    const timeout = new SendGridError({
      kind: "timeout",
      method: "GET",
      route: "/v3/sso/integrations",
      status: null,
      reason: "timeout",
      retryable: true,
      attempts: 3,
      detail: "no complete answer within 100 ms",
    });
    expect(timeout.message).toBe(
      "GET /v3/sso/integrations -> no complete answer within 100 ms (after 3 attempts)",
    );
    expect(timeout.code).toBe("SENDGRID_TIMEOUT");
  });

  it("maps statuses to reason codes", () => {
    expect([401, 403, 404, 429, 400, 422, 500, 503, 302].map(reasonForStatus)).toEqual([
      "http_401",
      "http_403",
      "http_404",
      "rate_limited",
      "http_4xx",
      "http_4xx",
      "http_5xx",
      "http_5xx",
      "invalid_response",
    ]);
  });
});
