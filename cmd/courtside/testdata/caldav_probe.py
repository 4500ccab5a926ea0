#!/usr/bin/python3
"""Probe Courtside's CalDAV server with Debian's python3-caldav, as a calendar app would.

Usage: caldav_probe.py BASE_URL USERNAME APP_PASSWORD UID FROM TO

Discovers the principal through BASE_URL/.well-known/caldav, lists the calendars, finds the
event with UID among all events and among a time-range search, and prints one JSON object.
"""
import datetime
import json
import sys

import caldav


def main():
    base, user, password, uid, start, end = sys.argv[1:7]
    client = caldav.DAVClient(url=base + "/.well-known/caldav", username=user, password=password)
    principal = client.principal()
    calendars = principal.calendars()
    out = {"principal": str(principal.url), "calendars": [], "found": False, "in_range": False}
    for cal in calendars:
        out["calendars"].append(str(cal.url))
        for ev in cal.events():
            comp = ev.icalendar_instance.walk("VEVENT")[0]
            if str(comp.get("UID")) != uid:
                continue
            out["found"] = True
            out["calendar"] = str(cal.url)
            out["dtstart"] = comp.decoded("DTSTART").astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            out["sequence"] = int(comp.get("SEQUENCE", 0))
            out["status"] = str(comp.get("STATUS", ""))
            out["summary"] = str(comp.get("SUMMARY", ""))
        t0 = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
        t1 = datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
        for ev in cal.date_search(t0, t1):
            comp = ev.icalendar_instance.walk("VEVENT")[0]
            if str(comp.get("UID")) == uid:
                out["in_range"] = True
    print(json.dumps(out))


if __name__ == "__main__":
    main()
