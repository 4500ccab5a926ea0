package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// Instances. On PostgreSQL several `courtside serve` processes may serve one database behind
// one address. What they share lives in the database (the write lock orders every writer of
// every instance; the routers' offsets, delivery leases, sessions and sign-in throttles are
// rows), and two things travel by PostgreSQL's LISTEN/NOTIFY (storage.Listen):
//
//   - storage.ChannelEvents: a commit that appended events wakes every instance's router at once
//     instead of at its next poll;
//   - storage.ChannelLive: the event that one instance's live feed handed to its GraphQL
//     subscriptions, which every other instance reads from the log and hands to its own, since
//     the live-feed consumer group handles each event once, on whichever instance's router
//     took it.
//
// On SQLite there is one service per database file and none of this runs.

// instanceID names this process among the database's instances, in live-feed notifications.
type instanceID string

// newInstanceID returns a fresh random instance ID.
func newInstanceID() instanceID {
	b := make([]byte, 8)
	rand.Read(b)
	return instanceID(hex.EncodeToString(b))
}

// shareLive tells the other instances, within the live feed's transaction, of an event handed
// to this instance's subscriptions.
func (m *Main) shareLive(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	return m.DB.Notify(ctx, tx, storage.ChannelLive, string(m.instance)+" "+ev.ID)
}

// startListening follows the other instances' notifications until Close, on PostgreSQL.
func (m *Main) startListening(ctx context.Context) {
	if !m.DB.Postgres() {
		return
	}
	ctx, m.stopListen = context.WithCancel(context.WithoutCancel(ctx))
	m.listenDone = make(chan struct{})
	go func() {
		defer close(m.listenDone)
		m.DB.Listen(ctx, []string{storage.ChannelEvents, storage.ChannelLive}, func(channel, payload string) {
			switch channel {
			case storage.ChannelEvents, "":
				m.Router.Wake()
			case storage.ChannelLive:
				m.relayLive(ctx, payload)
			}
		}, func(err error) {
			m.Logger.Warn("instances: notifications lost; listening again", "err", err)
		})
	}()
}

// relayLive hands the event another instance's live feed saw to this instance's
// subscriptions.
func (m *Main) relayLive(ctx context.Context, payload string) {
	from, id, ok := strings.Cut(payload, " ")
	if !ok || instanceID(from) == m.instance || m.Hub.Subscribers() == 0 {
		return // nobody here to hand it to: no read of the log (an import's backlog is thousands)
	}
	ev, err := events.Find(ctx, m.DB.Reader, id)
	if err != nil {
		if ctx.Err() == nil {
			m.Logger.Warn("instances: live event", "event", id, "err", err)
		}
		return
	}
	m.Hub.Publish(ev)
}

// stopListening stops following notifications and waits for the listener to end.
func (m *Main) stopListening() {
	if m.stopListen != nil {
		m.stopListen()
		<-m.listenDone
	}
}
