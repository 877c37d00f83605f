// One HTTP call to an emulator over a real socket (undici), with the test key unless told otherwise.
import { request } from "undici";
import type { Emulator } from "../../src/emulator/server.js";
import { TEST_API_KEY } from "../helpers/start-emulator.js";

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  /** The parsed body; undefined when empty. */
  readonly json: unknown;
}

export interface CallOptions {
  readonly body?: unknown;
  /** Sent verbatim instead of JSON-encoding `body`. */
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** null: no Authorization header at all. */
  readonly key?: string | null;
}

export async function call(
  emulator: Emulator,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const key = options.key === undefined ? TEST_API_KEY : options.key;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await request(`${emulator.url}${path}`, {
    method: method as "GET",
    headers: {
      ...(key !== null && { authorization: `Bearer ${key}` }),
      ...(body !== undefined && { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(body !== undefined && { body }),
  });
  const text = await response.body.text();
  const headers = Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(", ") : (value ?? ""),
    ]),
  );
  return {
    status: response.statusCode,
    headers,
    text,
    json: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

/** A record view of a JSON body for property assertions. */
export function obj(reply: Reply): Record<string, unknown> {
  return reply.json as Record<string, unknown>;
}

export function list(reply: Reply): Record<string, unknown>[] {
  return reply.json as Record<string, unknown>[];
}
