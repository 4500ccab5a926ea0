"""Drives a user's Courtside availability calendar (or answers a booking in the hearings
calendar) with python3-caldav, and prints what it saw as JSON.

Usage:
  python3 python_caldav_availability.py availability URL USERNAME APP_PASSWORD
      discovers from URL, then in the availability calendar: saves an event, overwrites it,
      saves a weekly event, searches a time range holding only its third instance, takes a
      sync token, deletes the first event, and syncs from the token.
  python3 python_caldav_availability.py partstat URL USERNAME APP_PASSWORD HEARING_URL PARTSTAT
      loads the hearing, sets the user's own ATTENDEE PARTSTAT and saves it (event.save()).
"""
import datetime
import json
import logging
import sys

import caldav

mode, url, username, password = sys.argv[1:5]
errors = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("caldav").addHandler(Collect())
client = caldav.DAVClient(url=url, username=username, password=password)


def event(uid, start, end, extra=""):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//python-caldav test//EN", "BEGIN:VEVENT",
        "UID:" + uid, "DTSTAMP:20261101T000000Z", "DTSTART:" + start, "DTEND:" + end, "SUMMARY:Busy",
    ] + ([extra] if extra else []) + ["END:VEVENT", "END:VCALENDAR", ""])


if mode == "partstat":
    hearing_url, partstat = sys.argv[5:7]
    cal = caldav.Calendar(client=client, url=hearing_url.rsplit("/", 1)[0] + "/")
    ev = cal.event_by_url(hearing_url)
    ev.load()
    vevent = ev.icalendar_instance.walk("VEVENT")[0]
    attendees = vevent.get("ATTENDEE")
    if not isinstance(attendees, list):
        attendees = [attendees]
    for a in attendees:
        if str(a).endswith(":" + username):
            a.params["PARTSTAT"] = partstat
    ev.data = ev.icalendar_instance.to_ical().decode()
    status = "saved"
    try:
        ev.save()
    except Exception as e:  # the server's refusal
        status = type(e).__name__
    print(json.dumps({"status": status, "errors": errors}))
    sys.exit(0)

principal = client.principal()
cal = next(c for c in principal.calendars() if str(c.url).endswith("/availability/"))
out = {"calendar": str(cal.url), "components": cal.get_supported_components()}

first = cal.save_event(event("py-1", "20261201T130000Z", "20261201T140000Z"))
out["first_url"] = str(first.url)
first.load()
first.data = event("py-1", "20261201T130000Z", "20261201T150000Z")
first.save()  # overwrite
weekly = cal.save_event(event("py-weekly", "20261202T090000Z", "20261202T100000Z", "RRULE:FREQ=WEEKLY;COUNT=5"))
out["weekly_url"] = str(weekly.url)

# Only the third instance (16 Dec) lies in this range.
found = cal.date_search(start=datetime.datetime(2026, 12, 16, 0, 0, tzinfo=datetime.timezone.utc),
                        end=datetime.datetime(2026, 12, 17, 0, 0, tzinfo=datetime.timezone.utc), expand=False)
out["search"] = sorted(str(o.url) for o in found)

synced = cal.objects_by_sync_token()
out["sync_first"] = sorted(str(o.url) for o in synced)
token = synced.sync_token
cal.event_by_url(out["first_url"]).delete()
weekly.load()
weekly.data = event("py-weekly", "20261202T100000Z", "20261202T110000Z", "RRULE:FREQ=WEEKLY;COUNT=5")
weekly.save()
changed = cal.objects_by_sync_token(sync_token=token, load_objects=False)
out["sync_changed"] = sorted(str(o.url) for o in changed)
out["sync_token_moved"] = changed.sync_token != token
out["remaining"] = sorted(str(o.url) for o in cal.objects())
out["errors"] = errors
print(json.dumps(out))
