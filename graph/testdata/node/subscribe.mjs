// subscribe.mjs runs Subscription.scheduleChanged with the npm graphql-ws client, the real
// protocol peer of graph/subscription_node_test.go, and prints each ScheduleChange it
// receives as one JSON line on stdout. Diagnostics go to stderr.
//
//   node subscribe.mjs --url ws://127.0.0.1:8080/graphql --token <API or session token>
//        [--case-id ID] [--hearing-id ID] [--count N] [--mode stream|abrupt]
//
// --mode stream (the default) completes the subscription and closes the connection
// properly after --count changes (default 1), then exits 0. --mode abrupt destroys the TCP
// socket without a close frame right after the --count-th change, as a crashed or
// disconnected client would, then exits 0. Any error exits non-zero.

import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    'case-id': { type: 'string' },
    'hearing-id': { type: 'string' },
    count: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'stream' },
  },
});
if (!opts.url || !opts.token || !['stream', 'abrupt'].includes(opts.mode)) {
  console.error('usage: node subscribe.mjs --url URL --token TOKEN [--case-id ID] [--hearing-id ID] [--count N] [--mode stream|abrupt]');
  process.exit(64);
}
const count = Number.parseInt(opts.count, 10);

const query = `subscription($caseId: ID, $hearingId: ID) {
  scheduleChanged(caseId: $caseId, hearingId: $hearingId) {
    hearing { id sequence status startsAt endsAt courtroom case { id docket } }
    change { at by reason status sequence fromStartsAt toStartsAt }
  }
}`;
const variables = {};
if (opts['case-id']) variables.caseId = opts['case-id'];
if (opts['hearing-id']) variables.hearingId = opts['hearing-id'];

function fail(what, err) {
  const detail = err instanceof Error ? err.message
    : err && typeof err.code === 'number' ? `close ${err.code} ${err.reason}`
    : JSON.stringify(err);
  console.error(`subscribe.mjs: ${what}: ${detail}`);
  process.exit(1);
}

let socket;
let done = false;
const client = createClient({
  url: opts.url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${opts.token}` },
  lazy: true,
  retryAttempts: 0,
  keepAlive: 200, // ping every 200 ms: the server must answer pong
  on: {
    opened: (s) => { socket = s; },
    connected: () => console.error('subscribe.mjs: connected'),
    closed: (event) => { if (!done) fail('connection closed', event); },
    error: (err) => { if (!done) fail('connection error', err); },
  },
});

let received = 0;
const unsubscribe = client.subscribe({ query, variables }, {
  next: (result) => {
    if (done) return; // a change that arrived while the last one was being written
    if (result.errors) fail('errors in result', result.errors);
    received++;
    const last = received >= count;
    if (last) done = true;
    process.stdout.write(JSON.stringify(result.data.scheduleChanged) + '\n', () => {
      if (!last) return;
      if (opts.mode === 'abrupt') {
        socket.terminate(); // no close frame: the server sees the TCP connection vanish
        process.exit(0);
      }
      unsubscribe();
      client.dispose();
    });
  },
  error: (err) => fail('subscription error', err),
  complete: () => { if (!done) fail('subscription completed by the server', {}); },
});
