import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { benchCertificates } from "./certs.js";
const MB = 1024 * 1024;
const show = (label: string) => { (globalThis as any).gc(); (globalThis as any).gc(); const u = process.memoryUsage(); const st = readFileSync("/proc/self/status", "utf8").split("\n").filter(l => /^(RssAnon)/.test(l)).map(l => l.replace(/\s+/g, " ")).join(", "); console.log(label, "rss", (u.rss / MB).toFixed(1), "heapTotal", (u.heapTotal / MB).toFixed(1), "used", (u.heapUsed / MB).toFixed(1), st); };
const pems = await benchCertificates(3000);
const ders = pems.map((p) => Buffer.from(p.split("\n").slice(1, -2).join(""), "base64"));
show("start");
const mode = process.argv[2];
let sink = 0;
for (let i = 0; i < 20; i++) for (let j = 0; j < pems.length; j++) {
  if (mode === "b64") sink += Buffer.from(pems[j]!.slice(28, -27).replace(/\s+/g, ""), "base64").length;
  if (mode === "hash") sink += createHash("sha256").update(ders[j]!).digest("hex").length;
  if (mode === "regex") sink += [...pems[j]!.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)].length;
}
show(`20 passes ${mode} ${sink}`);
