package graph

import (
	"time"

	"courtside"

	"github.com/graphql-go/graphql"
)

// deliveryQueries returns Query.deliveries: the evidence that notice was given.
func (s *server) deliveryQueries() graphql.Fields {
	deliveryStatus := graphql.NewEnum(graphql.EnumConfig{Name: "DeliveryStatus", Values: graphql.EnumValueConfigMap{
		"PENDING": {Value: courtside.DeliveryPending}, "SENT": {Value: courtside.DeliverySent},
		"DELIVERED": {Value: courtside.DeliveryDelivered}, "FAILED": {Value: courtside.DeliveryFailed},
		"SUPPRESSED": {Value: courtside.DeliverySuppressed},
	}})
	optTime := func(t *time.Time) interface{} {
		if t == nil {
			return nil
		}
		return *t
	}
	field := func(get func(d *courtside.Delivery) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(*courtside.Delivery)), nil }
	}
	deliveryType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Delivery",
		Description: "One message to one person on one channel: whether, when, how and how long before the hearing notice was given.",
		Fields: graphql.Fields{
			"id":        {Type: nonNull(graphql.ID), Resolve: field(func(d *courtside.Delivery) interface{} { return formatID(d.ID) })},
			"kind":      {Type: nonNull(graphql.String), Resolve: field(func(d *courtside.Delivery) interface{} { return string(d.Kind) })},
			"channel":   {Type: nonNull(s.channelEnum), Resolve: field(func(d *courtside.Delivery) interface{} { return d.Channel })},
			"language":  {Type: nonNull(graphql.String), Resolve: field(func(d *courtside.Delivery) interface{} { return d.Language })},
			"status":    {Type: nonNull(deliveryStatus), Resolve: field(func(d *courtside.Delivery) interface{} { return d.Status })},
			"createdAt": {Type: nonNull(s.dateTime), Resolve: field(func(d *courtside.Delivery) interface{} { return d.CreatedAt })},
			"sentAt": {Type: s.dateTime, Resolve: field(func(d *courtside.Delivery) interface{} {
				if d.SentAt == nil {
					return nil
				}
				return *d.SentAt
			})},
			"leadTimeMinutes": {Type: graphql.Int, Description: "How long before the hearing's start the message was sent.",
				Resolve: field(func(d *courtside.Delivery) interface{} {
					if d.LeadTimeMinutes == nil {
						return nil
					}
					return *d.LeadTimeMinutes
				})},
			"reason": {Type: graphql.String, Description: "Why a delivery failed, was suppressed or waits (quiet hours, a retry); never an address.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optString(d.Reason) })},
			"hearingId": {Type: graphql.ID, Description: "The hearing the message is about.",
				Resolve: field(func(d *courtside.Delivery) interface{} {
					if d.HearingID == 0 {
						return nil
					}
					return formatID(d.HearingID)
				})},
			"hearingSequence": {Type: nonNull(graphql.Int), Description: "The hearing's sequence the message is about: which version, so which change, it told of.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return d.Sequence })},
			"audience": {Type: graphql.String, Description: "VICTIM, ADVOCATE, INTERPRETER or COORDINATOR.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optString(string(d.Audience)) })},
			"detail": {Type: graphql.String, Description: "The detail level the message was sent at: FULL, MINIMAL or CONTENT_FREE.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optString(string(d.Detail)) })},
			"attempts": {Type: nonNull(graphql.Int), Description: "How many sends were tried.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return d.Attempts })},
			"idempotencyKey": {Type: nonNull(graphql.String), Description: "The key the receiving side saw (Message-ID, Idempotency-Key, webhook-id).",
				Resolve: field(func(d *courtside.Delivery) interface{} { return d.IdempotencyKey })},
			"acknowledgedAt": {Type: s.dateTime, Description: "When the victim said they got the notice (its link, or a text reply).",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optTime(d.AcknowledgedAt) })},
			"acknowledgedBy": {Type: s.ackMethodEnum, Description: "How: LINK or SMS_REPLY.",
				Resolve: field(func(d *courtside.Delivery) interface{} {
					if d.AcknowledgedBy == "" {
						return nil
					}
					return d.AcknowledgedBy
				})},
			"escalateAt": {Type: s.dateTime, Description: "When the notice escalates to the victim's advocate unless acknowledged.",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optTime(d.EscalateAt) })},
			"escalatedAt": {Type: s.dateTime, Description: "When the unacknowledged notice escalated (NOTICE_UNACKNOWLEDGED).",
				Resolve: field(func(d *courtside.Delivery) interface{} { return optTime(d.EscalatedAt) })},
		},
	})
	return graphql.Fields{
		"deliveries": {
			Type:        listOf(deliveryType),
			Description: "Notice evidence: the deliveries the caller may see, oldest first, for a victim and/or a hearing.",
			Args: graphql.FieldConfigArgument{
				"victimId":  {Type: graphql.ID},
				"hearingId": {Type: graphql.ID},
				"sequence":  {Type: graphql.Int, Description: "Only the messages about this version of the hearing (its sequence after a change)."},
				"first":     firstArg("Query", "deliveries")["first"],
			},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				var f courtside.DeliveryFilter
				var err error
				if f.VictimID, err = a.optID("victimId"); err != nil {
					return nil, err
				}
				if f.HearingID, err = a.optID("hearingId"); err != nil {
					return nil, err
				}
				if v, ok := p.Args["sequence"].(int); ok {
					f.Sequence = &v
				}
				ds, err := s.cfg.Deliveries.FindDeliveries(p.Context, f)
				if ds == nil && err == nil {
					ds = []*courtside.Delivery{}
				}
				return ds, err
			}),
		},
	}
}
