// sync.mjs drives the npm tsdav CalDAV client against a Courtside server, one step at a time,
// for calendar/tsdav_test.go.
//
// Usage: node sync.mjs SERVER_URL USERNAME APP_PASSWORD
//
// It logs in with HTTP Basic (createDAVClient: discovery through /.well-known/caldav, the
// principal and the calendar home), lists the calendars (fetchCalendars), loads every object of
// the `hearings` calendar (fetchCalendarObjects) and prints one JSON line {"step": "listed", ...}.
// Then, for each line "sync" read on standard input, it runs smartCollectionSyncDetailed from the
// sync token and objects it holds, prints {"step": "synced", created, updated, deleted, ...} and
// keeps the result as its new local state, as a calendar app does. It ends at end of input or on
// the line "quit". Each printed step also lists the requests tsdav sent for it, so the test can
// check that it really used sync-collection. Any failure prints {"step": "error", ...} and exits 1.
import readline from "node:readline";
import { createDAVClient } from "tsdav";

const [serverUrl, username, password] = process.argv.slice(2);
if (!serverUrl || !username || !password) {
  process.stderr.write("usage: node sync.mjs SERVER_URL USERNAME APP_PASSWORD\n");
  process.exit(2);
}

let requests = [];
// recordingFetch is the fetch tsdav uses: it notes each request's method, path and, for a
// REPORT, the report's element and sync token.
const recordingFetch = async (input, init = {}) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  const req = { method: init.method ?? "GET", path: url.pathname };
  if (typeof init.body === "string" && req.method === "REPORT") {
    req.report = /<(?:[\w-]+:)?(sync-collection|calendar-multiget|calendar-query)\b/.exec(init.body)?.[1] ?? "other";
    req.syncToken = /<(?:[\w-]+:)?sync-token>([^<]*)</.exec(init.body)?.[1] ?? "";
  }
  const resp = await fetch(input, init);
  req.status = resp.status;
  requests.push(req);
  return resp;
};

const print = (step, value) => {
  process.stdout.write(JSON.stringify({ step, ...value, requests }) + "\n");
  requests = [];
};

const object = (o) => ({ url: new URL(o.url, serverUrl).pathname, etag: o.etag ?? "", data: o.data ?? "" });

try {
  const client = await createDAVClient({
    serverUrl,
    credentials: { username, password },
    authMethod: "Basic",
    defaultAccountType: "caldav",
    fetch: recordingFetch,
  });
  const calendars = await client.fetchCalendars();
  const hearings = calendars.find((c) => /\/hearings\/?$/.test(new URL(c.url).pathname));
  if (!hearings) {
    throw new Error(`no hearings calendar among ${calendars.map((c) => c.url).join(", ")}`);
  }
  let objects = await client.fetchCalendarObjects({ calendar: hearings });
  let syncToken = hearings.syncToken;
  print("listed", {
    calendars: calendars.map((c) => ({
      url: new URL(c.url).pathname,
      displayName: c.displayName ?? "",
      ctag: c.ctag == null ? "" : String(c.ctag),
      syncToken: c.syncToken == null ? "" : String(c.syncToken),
      reports: c.reports ?? [],
      components: c.components ?? [],
    })),
    objects: objects.map(object),
  });

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const command = line.trim();
    if (command === "quit") break;
    if (command !== "sync") throw new Error(`unknown command ${JSON.stringify(command)}`);
    const result = await client.smartCollectionSyncDetailed({
      collection: { ...hearings, syncToken, objects, objectMultiGet: client.calendarMultiGet },
    });
    const { created, updated, deleted } = result.objects;
    const gone = (o) => deleted.some((d) => d.url === o.url);
    const replaced = (o) => updated.find((u) => u.url === o.url) ?? o;
    objects = [...objects.filter((o) => !gone(o)).map(replaced), ...created];
    const previous = syncToken;
    syncToken = result.syncToken;
    print("synced", {
      previousToken: previous == null ? "" : String(previous),
      syncToken: syncToken == null ? "" : String(syncToken),
      created: created.map(object),
      updated: updated.map(object),
      deleted: deleted.map(object),
      objects: objects.map(object),
    });
  }
} catch (err) {
  print("error", { error: String(err?.stack ?? err) });
  process.exit(1);
}
