"""Parse one iCalendar feed from stdin with Debian's python3-icalendar and print, as JSON, the
calendar's properties and each event's UID, SEQUENCE, STATUS, SUMMARY and times.

calendar/feed_test.go runs it as a real consumer of /feeds/{secret}.ics.
"""

import json
import sys

import icalendar


def text(value):
    return None if value is None else str(value)


def main():
    cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
    events = []
    for ev in cal.walk("VEVENT"):
        events.append({
            "uid": text(ev.get("UID")),
            "sequence": int(ev.get("SEQUENCE", 0)),
            "status": text(ev.get("STATUS")),
            "summary": text(ev.get("SUMMARY")),
            "start": ev.decoded("DTSTART").isoformat(),
            "end": ev.decoded("DTEND").isoformat(),
        })
    json.dump({
        "name": cal.name,
        "method": text(cal.get("METHOD")),
        "calname": text(cal.get("X-WR-CALNAME")),
        "refresh": cal.get("REFRESH-INTERVAL").to_ical().decode() if cal.get("REFRESH-INTERVAL") is not None else None,
        "ttl": text(cal.get("X-PUBLISHED-TTL")),
        "errors": [str(e) for c in cal.walk() for e in getattr(c, "errors", [])],
        "events": events,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
