// Prints billbridge's and PostGraphile's figures side by side, from the two JSON files
// `billbridge bench api --json` wrote: throughput and p99 with their ratios, and CPU per
// request (the server's + PostgreSQL's).
// Usage: node compare.mjs billbridge.json postgraphile.json
import { readFileSync } from "node:fs";

const [ours, theirs] = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, "utf8")));
const n = (x, digits = 0) =>
  x == null ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (x) => `${n(x, 1)} ms`;
const cpu = (row) =>
  row.server_cpu_us == null
    ? "–"
    : `${n(row.server_cpu_us)} µs + ${row.postgres_cpu_us == null ? "–" : `${n(row.postgres_cpu_us)} µs`} in PG`;
const ratio = (a, b) => (a && b ? `${n(a / b, 2)}×` : "–");

console.log(
  `\n${ours.system} on ${ours.engine ?? "?"} vs ${theirs.system}, same database (${n(ours.accounts)} accounts), ` +
    `${ours.connections} connections, ${ours.duration_s} s per shape` +
    `${ours.rate_limiter === false ? ", billbridge's rate limiter off" : ""}; ` +
    `RSS peak ${n(ours.peak_rss_mb, 1)} MB vs ${n(theirs.peak_rss_mb, 1)} MB\n`,
);
console.log(
  `| shape | ${ours.system} | ${theirs.system} | rps ratio | p99 ratio | ${ours.system} CPU/request | ${theirs.system} CPU/request |`,
);
console.log("|---|---|---|--:|--:|--:|--:|");
let failed = false;
for (const row of ours.rows) {
  const other = theirs.rows.find((r) => r.shape === row.shape);
  if (!other) continue;
  failed ||= row.failed > 0 || other.failed > 0;
  const cell = (r) => (r.failed > 0 ? "FAILED" : `${n(r.rps)} rps, p99 ${ms(r.p99_ms)}`);
  console.log(
    `| ${row.shape} | ${cell(row)} | ${cell(other)} | ${ratio(row.rps, other.rps)} | ` +
      `${ratio(row.p99_ms, other.p99_ms)} | ${cpu(row)} | ${cpu(other)} |`,
  );
}
console.log("\nrps ratio: billbridge ÷ PostGraphile (higher is better); p99 ratio: billbridge ÷ PostGraphile (lower is better).");
process.exit(failed ? 1 : 0);
