// Worker thread of parse-pool.ts: runs parseDer over each batch it is sent and posts the results back
// under the batch's id. Holds no state of its own; the cache stays with the main thread.

import { parentPort } from "node:worker_threads";
import { parseDer } from "./parse.js";
import type { ParseBatch, ParseReply } from "./parse-pool.js";

const port = parentPort;
if (!port) throw new Error("parse-worker.js runs as a worker thread, not as a program");

port.on("message", (batch: ParseBatch) => {
  const reply: ParseReply = { id: batch.id, results: batch.inputs.map(parseDer) };
  port.postMessage(reply);
});
