"""Syncs a Courtside calendar with python3-caldav's sync-collection support and prints the
result as JSON.

Usage: python3 python_caldav_sync.py CALENDAR_URL USERNAME APP_PASSWORD [SYNC_TOKEN]
Without SYNC_TOKEN it lists every object (etags only); with one, it lists the objects changed
since, loads them, and prints their data too.
"""
import json
import logging
import sys

import caldav
from caldav.elements import dav

url, username, password = sys.argv[1:4]
token = sys.argv[4] if len(sys.argv) > 4 else None
errors = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("caldav").addHandler(Collect())

client = caldav.DAVClient(url=url, username=username, password=password)
calendar = caldav.Calendar(client=client, url=url)
props = calendar.get_properties([dav.SyncToken()])
objects = calendar.objects_by_sync_token(sync_token=token, load_objects=token is not None)
print(json.dumps({
    "propfind_token": props.get(dav.SyncToken.tag),
    "token": objects.sync_token,
    "objects": [{"url": str(o.url), "etag": o.props.get(dav.GetEtag.tag), "data": o.data or ""} for o in objects],
    "errors": errors,
}))
