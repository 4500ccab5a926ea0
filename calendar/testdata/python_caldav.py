"""Discovers a Courtside calendar with python3-caldav and prints what it found as JSON.

Usage: python3 python_caldav.py URL USERNAME APP_PASSWORD START END
START and END are ISO 8601 UTC times of the date search.
"""
import datetime
import json
import logging
import sys

import caldav

url, username, password, start, end = sys.argv[1:6]
errors = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("caldav").addHandler(Collect())

client = caldav.DAVClient(url=url, username=username, password=password)
principal = client.principal()
calendars = principal.calendars()
out = {
    "principal": str(principal.url),
    "calendars": [str(c.url) for c in calendars],
    "events": [],
}
parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
for cal in calendars:
    for ev in cal.date_search(start=parse(start), end=parse(end), expand=False):
        out["events"].append({"url": str(ev.url), "data": ev.data})
out["errors"] = errors
print(json.dumps(out))
