// parse.mjs reads one iCalendar feed on stdin, parses it with the npm ical.js parser and prints
// the calendar's properties and each event's UID, SEQUENCE, STATUS, SUMMARY and times as JSON.
// calendar/feed_test.go runs it as a real consumer of /feeds/{secret}.ics.
import ICAL from "ical.js";

let text = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) text += chunk;

const vcal = new ICAL.Component(ICAL.parse(text));
const prop = (c, name) => {
  const v = c.getFirstPropertyValue(name);
  return v === null || v === undefined ? null : String(v);
};
const out = {
  name: vcal.name,
  method: prop(vcal, "method"),
  calname: prop(vcal, "x-wr-calname"),
  refresh: prop(vcal, "refresh-interval"),
  ttl: prop(vcal, "x-published-ttl"),
  events: vcal.getAllSubcomponents("vevent").map((c) => {
    const ev = new ICAL.Event(c);
    return {
      uid: ev.uid,
      sequence: ev.sequence,
      status: prop(c, "status"),
      summary: ev.summary,
      start: ev.startDate.toJSDate().toISOString(),
      end: ev.endDate.toJSDate().toISOString(),
    };
  }),
};
process.stdout.write(JSON.stringify(out) + "\n");
