package graph

import (
	"context"
	"errors"
	"fmt"

	"courtside"

	"github.com/graphql-go/graphql"
)

// Subscription.scheduleChanged: its schema, its subscribe function, and the source that turns
// the hub's events into what each subscriber may see. subscription.go runs it over WebSocket.

// scheduleChange is the source value of Subscription.scheduleChanged: the hearing as the
// subscriber may see it now, and the event that reported its change.
type scheduleChange struct {
	hearing *courtside.Hearing
	event   courtside.Event
}

// scheduleEvents are the event types Subscription.scheduleChanged reports.
var scheduleEvents = map[courtside.EventType]bool{
	courtside.EventHearingScheduled: true,
	courtside.EventHearingChanged:   true,
	courtside.EventHearingCancelled: true,
}

// subscriptionType returns the Subscription root type and defines ScheduleChange.
func (s *server) subscriptionType() *graphql.Object {
	scheduleChangeType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "ScheduleChange",
		Description: "A hearing was scheduled, changed or cancelled: the hearing as it stands when the message is sent, and the change.",
		Fields: graphql.Fields{
			"hearing": {Type: nonNull(s.hearingType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*scheduleChange).hearing, nil
			}},
			"change": {Type: nonNull(s.hearingChangeType), Description: "The change the event reports.",
				Resolve: s.resolve("", s.scheduleChangeChange)},
		},
	})
	return graphql.NewObject(graphql.ObjectConfig{
		Name: "Subscription",
		Fields: graphql.Fields{
			"scheduleChanged": {
				Type: nonNull(scheduleChangeType),
				Description: "Hearings scheduled, changed or cancelled from now on that the caller may see at the moment of each " +
					"change, optionally of one case or one hearing. Delivery is at least once: compare sequence. Over WebSocket only.",
				Args: graphql.FieldConfigArgument{
					"caseId":    {Type: graphql.ID},
					"hearingId": {Type: graphql.ID},
				},
				Subscribe: s.subscribeScheduleChanged,
				// Each event executes with fresh loaders, as each mutation does.
				Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
					sc, ok := p.Source.(*scheduleChange)
					if !ok {
						return nil, errors.New("graph: scheduleChanged resolved outside a subscription")
					}
					l := s.loaders(p.Context)
					l.reset()
					l.primeHearings([]*courtside.Hearing{sc.hearing})
					return sc, nil
				}),
			},
		},
	})
}

// scheduleChangeChange resolves ScheduleChange.change from the hearing's history, which names
// who made it; the event's own copy serves if the history does not have it.
func (s *server) scheduleChangeChange(p graphql.ResolveParams) (interface{}, error) {
	sc := p.Source.(*scheduleChange)
	cs, _, err := s.loaders(p.Context).changes.load(p.Context, sc.hearing.ID)
	if err != nil {
		return nil, err
	}
	want := sc.event.Change
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		if (want != nil && want.ID != 0 && c.ID == want.ID) || ((want == nil || want.ID == 0) && c.Sequence == sc.event.Sequence) {
			return c, nil
		}
	}
	if want != nil {
		return want, nil
	}
	return nil, fmt.Errorf("graph: event %s of hearing %d carries no change", sc.event.ID, sc.hearing.ID)
}

// subscribeScheduleChanged is Subscription.scheduleChanged's subscribe function: it checks
// the filters, joins the hub and returns the channel graphql-go reads events from (it must be
// exactly chan interface{}).
func (s *server) subscribeScheduleChanged(p graphql.ResolveParams) (res interface{}, err error) {
	op, _ := p.Context.Value(operationKey{}).(*operation)
	if op == nil {
		return nil, errors.New("graph: subscriptions run over WebSocket only")
	}
	defer func() {
		if r := recover(); r != nil {
			e := recoverError(p.Context, s.cfg.Logger, r)
			op.fail(e)
			res, err = nil, e
		}
	}()
	refuse := func(err error) (interface{}, error) {
		e := toError(p.Context, s.cfg.Logger, err, "")
		op.fail(e)
		return nil, e
	}
	ctx := p.Context
	if courtside.UserFromContext(ctx) == nil {
		return refuse(unauthenticated())
	}
	a := args{m: p.Args}
	caseID, err := a.optID("caseId")
	if err != nil {
		return refuse(err)
	}
	hearingID, err := a.optID("hearingId")
	if err != nil {
		return refuse(err)
	}
	// A filter naming what the caller cannot see is refused as Query.case and Query.hearing
	// would refuse it; afterwards each event is checked again.
	if caseID != nil {
		if _, err := s.cfg.Cases.FindCaseByID(ctx, *caseID); err != nil {
			return refuse(err)
		}
	}
	if hearingID != nil {
		if _, err := s.cfg.Hearings.FindHearingByID(ctx, *hearingID); err != nil {
			return refuse(err)
		}
	}
	sub, err := s.cfg.Hub.Subscribe(func(ev courtside.Event) bool {
		return scheduleEvents[ev.Type] && ev.HearingID != 0 &&
			(caseID == nil || ev.CaseID == *caseID) && (hearingID == nil || ev.HearingID == *hearingID)
	})
	if err != nil {
		return refuse(fmt.Errorf("graph: subscribe: %w", err))
	}
	out := make(chan interface{})
	op.started.Store(true)
	op.source.Add(1)
	go s.feed(op, sub, out)
	return out, nil
}

// feed is a subscription's source: it reads the hub and sends graphql-go each event the
// subscriber may see now, until the operation's context ends or the hub ends the
// subscription. It closes the hub subscription and out when it returns.
func (s *server) feed(op *operation, sub *HubSubscription, out chan<- interface{}) {
	defer op.source.Done()
	defer close(out)
	defer sub.Close()
	ctx := op.ctx
	for {
		var ev courtside.Event
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Events():
			if !ok {
				switch err := sub.Err(); {
				case errors.Is(err, ErrHubClosed):
					// The server is shutting down and closes the connection (1001): no
					// complete, so that the client subscribes again when it reconnects.
					<-ctx.Done()
				case errors.Is(err, ErrSlowSubscriber):
					op.stop(&Error{Code: CodeSlowSubscriber, Message: "This subscription fell too far behind the live feed and was " +
						"ended. Read the hearings you follow again, then subscribe again."})
				}
				return
			}
			ev = e
		}
		sc, err := s.scheduleChangeFor(ctx, op.conn, ev)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if courtside.ErrorCode(err) == courtside.EUNAUTHORIZED {
				op.conn.close(closeForbidden, "Forbidden")
				return
			}
			op.stop(toError(ctx, s.cfg.Logger, err, ""))
			return
		}
		if sc == nil {
			continue
		}
		select {
		case out <- sc:
		case <-ctx.Done():
			return
		}
	}
}

// scheduleChangeFor returns the source value for ev, or nil when the subscriber may not see
// the hearing now. It checks the connection's token again first.
func (s *server) scheduleChangeFor(ctx context.Context, conn *wsConn, ev courtside.Event) (*scheduleChange, error) {
	if err := conn.recheck(ctx); err != nil {
		return nil, err
	}
	h, err := s.cfg.Hearings.FindHearingByID(ctx, ev.HearingID)
	if courtside.ErrorCode(err) == courtside.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &scheduleChange{hearing: h, event: ev}, nil
}
