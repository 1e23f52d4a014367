// Drives billbridge's /graphql/ws with the real `graphql-ws` client — the one the web app
// uses, taken from frontend/node_modules — and prints what each operation saw as one JSON
// object, for tests/api/ws.rs to judge. Run by that test; by hand:
//
//   node tests/api/ws_client.mjs ws://127.0.0.1:8080/graphql/ws <api token> <push run id>
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// Node 20 keeps its WebSocket behind a flag (22 and later have it on).
if (typeof WebSocket === 'undefined') {
  const again = spawnSync(
    process.execPath,
    ['--experimental-websocket', ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(again.status ?? 1);
}

const frontend = createRequire(new URL('../../frontend/package.json', import.meta.url));
let createClient;
try {
  ({ createClient } = frontend('graphql-ws'));
} catch (error) {
  console.error(`graphql-ws not found in frontend/node_modules (cargo build runs npm ci there): ${error.message}`);
  process.exit(2);
}

const [url, token, runId] = process.argv.slice(2);
if (!url || !token || !runId) {
  console.error('usage: ws_client.mjs <ws url> <api token> <push run id>');
  process.exit(2);
}

/** A client that gives up at the first close, so a refusal is reported, not retried. */
function client(bearer) {
  return createClient({
    url,
    connectionParams: { Authorization: `Bearer ${bearer}` },
    retryAttempts: 0,
    lazy: true,
  });
}

/** What the sink of one operation was told: its results, then an error or the end. */
function run(on, payload) {
  return new Promise((resolve) => {
    const seen = { next: [], error: null, complete: false };
    on.subscribe(payload, {
      next: (result) => seen.next.push(result),
      error: (error) => {
        seen.error = Array.isArray(error)
          ? { errors: error }
          : error && typeof error.code === 'number'
            ? { close: { code: error.code, reason: error.reason } }
            : { message: String(error?.message ?? error) };
        resolve(seen);
      },
      complete: () => {
        seen.complete = true;
        resolve(seen);
      },
    });
  });
}

const signedIn = client(token);
const [progress, query, invalid] = await Promise.all([
  run(signedIn, {
    query: 'subscription($id: ID!) { pushRunProgress(runId: $id) { status done total finished } }',
    variables: { id: runId },
  }),
  run(signedIn, { query: '{ levels { name } }' }),
  run(signedIn, { query: 'subscription { noSuchField }' }),
]);
await signedIn.dispose();

const refused = client('not-a-token');
const forbidden = await run(refused, { query: '{ levels { name } }' });
await refused.dispose();

console.log(JSON.stringify({ progress, query, invalid, forbidden }));
