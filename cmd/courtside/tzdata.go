package main

// Courts' time zones, daylight-saving rules and court hours need the IANA time zone database.
// Embedding it (about 450 KB) keeps them right on a machine without /usr/share/zoneinfo.
import _ "time/tzdata"
