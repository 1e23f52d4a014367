// The GraphQL-over-HTTP audit suite (npm `graphql-http`, `auditServer`) against a running
// billbridge: starts nothing, audits the URL it is given, sending the token on every request.
// Prints the count of each result status and every result that is not ok; exits 1 on any
// warning (a failed SHOULD), error (a failed MUST) or notice (a failed MAY), 2 on bad usage.
//
//   node .ci/audit-http.mjs http://127.0.0.1:8080/graphql "$TOKEN"
//   BILLBRIDGE_TOKEN=… node .ci/audit-http.mjs http://127.0.0.1:8080/graphql
import { auditServer } from 'graphql-http';

const [url, token = process.env.BILLBRIDGE_TOKEN] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node .ci/audit-http.mjs <graphql url> <bearer token>  (or BILLBRIDGE_TOKEN)');
  process.exit(2);
}

// Every audit request carries the token; the audits set everything else themselves.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;

console.log(
  `graphql-http ${results.length} audits of ${url}: ` +
    Object.entries(counts)
      .map(([status, n]) => `${n} ${status}`)
      .join(', '),
);
for (const result of results.filter((r) => r.status !== 'ok')) {
  let body = '';
  try {
    body = await result.response.text();
  } catch {
    // the body was already read by the audit
  }
  console.log(
    `  ${result.status.toUpperCase()} ${result.id} ${result.name}\n` +
      `    ${result.reason}; got ${result.response.status} ` +
      `${result.response.headers.get('content-type') ?? '(no content-type)'} ${body.slice(0, 300)}`,
  );
}
process.exit(results.length > 0 && results.every((r) => r.status === 'ok') ? 0 : 1);
