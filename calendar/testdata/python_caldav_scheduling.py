"""An interpreter answers the booking invitations of their CalDAV scheduling inbox (RFC 6638)
with python3-caldav, and prints what it saw as JSON.

Usage:
  python3 python_caldav_scheduling.py ROOT_URL USERNAME APP_PASSWORD accept|decline
      discovers the principal from ROOT_URL, reads its calendar-user-address-set and its
      inbox, and accepts (or declines) every invitation in it, storing the attendee's copy in
      the availability calendar.
"""
import json
import logging
import sys

import caldav

url, username, password, mode = sys.argv[1:5]
errors = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("caldav").addHandler(Collect())
client = caldav.DAVClient(url=url, username=username, password=password)
principal = client.principal()
inbox = principal.schedule_inbox()
out = {"addresses": principal.calendar_user_address_set(), "inbox": str(inbox.url),
       "outbox": str(principal.schedule_outbox().url), "items": [], "answered": []}
avail = next(c for c in principal.calendars() if str(c.url).endswith("/availability/"))
for item in inbox.get_items():
    out["items"].append(str(item.url))
    if item.is_invite_request():
        if mode == "accept":
            item.accept_invite(calendar=avail)
        else:
            item.decline_invite(calendar=avail)
        out["answered"].append(str(item.icalendar_component.get("uid")))
out["stored"] = sorted(str(o.url) for o in avail.events())
out["errors"] = errors
print(json.dumps(out))
