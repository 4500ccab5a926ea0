"""A new user's session with python3-caldav, started from the server's root URL as a user
types it: discovers the principal, then twice over makes a calendar, fills it with events,
to-dos and journals, searches it (text, to-do dates, journals) and deletes it. Prints what it
saw as JSON.

Usage:
  python3 python_caldav_lifecycle.py ROOT_URL USERNAME APP_PASSWORD
"""
import datetime
import json
import logging
import sys

import caldav
from caldav.objects import Journal

url, username, password = sys.argv[1:4]
errors = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("caldav").addHandler(Collect())
client = caldav.DAVClient(url=url, username=username, password=password)


def obj(kind, uid, *props):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//python-caldav test//EN", "BEGIN:" + kind,
                        "UID:" + uid, "DTSTAMP:20261101T000000Z"] + list(props) + ["END:" + kind, "END:VCALENDAR", ""])


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.timezone.utc)


def names(objs):
    return sorted(str(o.url).rsplit("/", 1)[1] for o in objs)


principal = client.principal()
out = {"principal": str(principal.url), "rounds": []}
for _ in range(2):
    cal = principal.make_calendar(name="Work", cal_id="work")
    r = {"calendar": str(cal.url)}
    cal.save_event(obj("VEVENT", "prep", "DTSTART:20261201T090000Z", "DTEND:20261201T100000Z",
                       "SUMMARY:Sentencing prep with the Interpreter", "CATEGORIES:Court,Prep",
                       "LOCATION:Courtroom 4B", "DESCRIPTION:Bring the exhibits"))
    cal.save_event(obj("VEVENT", "lunch", "DTSTART:20261201T120000Z", "DTEND:20261201T130000Z",
                       "SUMMARY:Lunch", "CATEGORIES:Personal"))
    cal.save_todo(obj("VTODO", "due", "DUE:20261205T170000Z", "SUMMARY:File the motion"))
    cal.save_todo(obj("VTODO", "start", "DTSTART:20261210T090000Z", "SUMMARY:Call the clerk"))
    cal.save_todo(obj("VTODO", "done", "COMPLETED:20261120T100000Z", "STATUS:COMPLETED", "SUMMARY:Read the file"))
    cal.save_journal(obj("VJOURNAL", "notes", "DTSTART;VALUE=DATE:20261201", "SUMMARY:Notes on the sentencing"))
    cal.save_journal(obj("VJOURNAL", "later", "DTSTART:20261215T100000Z", "SUMMARY:Notes on the hearing"))

    r["events"] = names(cal.events())
    r["summary"] = names(cal.search(event=True, summary="Interpreter"))
    r["summary_case"] = names(cal.search(event=True, summary="interpreter"))  # i;octet: case counts
    r["category"] = names(cal.search(event=True, category="Prep"))
    r["location"] = names(cal.search(event=True, location="4B"))
    r["description"] = names(cal.search(event=True, description="exhibits"))
    r["todo_due"] = names(cal.search(todo=True, include_completed=True, start=utc(2026, 12, 4), end=utc(2026, 12, 6)))
    r["todo_start"] = names(cal.search(todo=True, include_completed=True, start=utc(2026, 12, 9), end=utc(2026, 12, 11)))
    r["todo_completed"] = names(cal.search(todo=True, include_completed=True, start=utc(2026, 11, 19), end=utc(2026, 11, 21)))
    r["pending_todos"] = names(cal.todos())
    r["journals"] = names(cal.journals())
    r["journal_range"] = names(cal.search(comp_class=Journal, start=utc(2026, 12, 1, 12), end=utc(2026, 12, 2)))
    cal.delete()
    out["rounds"].append(r)

out["calendars_after"] = sorted(str(c.url) for c in principal.calendars())
out["errors"] = errors
print(json.dumps(out))
