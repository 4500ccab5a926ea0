package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineVictim defines Victim, ContactPoint, ContactPolicy, ChannelRule and the inputs of
// registerVictim. The legal name, contact points and contact policy are null unless the
// service filled them in for this caller (Victim.PIIVisible): its own coordinators, and the
// advocates who accompany the victim.
func (s *server) defineVictim() {
	s.contactPointType = graphql.NewObject(graphql.ObjectConfig{
		Name: "ContactPoint",
		Fields: graphql.Fields{
			"channel": {Type: nonNull(s.channelEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ContactPoint).Channel, nil
			}},
			"address": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ContactPoint).Address, nil
			}},
			"confirmedSafeAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ContactPoint).ConfirmedSafeAt, nil
			}},
		},
	})
	s.channelRuleType = graphql.NewObject(graphql.ObjectConfig{
		Name: "ChannelRule",
		Fields: graphql.Fields{
			"channel": {Type: nonNull(s.channelEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ChannelRule).Channel, nil
			}},
			"allowed": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ChannelRule).Allowed, nil
			}},
			"detail": {Type: nonNull(s.detailLevelEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ChannelRule).Detail, nil
			}},
		},
	})
	s.contactPolicyType = graphql.NewObject(graphql.ObjectConfig{
		Name: "ContactPolicy",
		Fields: graphql.Fields{
			"channels": {Type: listOf(s.channelRuleType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				if cs := p.Source.(*courtside.ContactPolicy).Channels; cs != nil {
					return cs, nil
				}
				return []courtside.ChannelRule{}, nil
			}},
			"quietHoursStart": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.ContactPolicy).QuietHoursStart), nil
			}},
			"quietHoursEnd": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.ContactPolicy).QuietHoursEnd), nil
			}},
			"neutralSender": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.ContactPolicy).NeutralSender), nil
			}},
			"timeZone": {Type: graphql.String, Description: "The victim's time zone; absent means the hearing's court's.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.ContactPolicy).TimeZone), nil
				}},
		},
	})
	s.victimType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Victim",
		Description: "A person a case concerns. Most roles see only the pseudonym.",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return formatID(p.Source.(*courtside.Victim).ID), nil
			}},
			"pseudonym": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.Victim).Pseudonym, nil
			}},
			"preferredLanguage": {Type: nonNull(graphql.String), Description: "A BCP 47 tag.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Victim).PreferredLanguage, nil
				}},
			"legalName": {Type: graphql.String, Description: "Null unless the caller is this victim's advocate or coordinator.",
				Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					v, err := s.openPII(p)
					if v == nil || err != nil {
						return nil, err
					}
					return optString(v.LegalName), nil
				})},
			"contacts": {Type: graphql.NewList(nonNull(s.contactPointType)), Description: "Null unless the caller is this victim's advocate or coordinator.",
				Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					v, err := s.openPII(p)
					if v == nil || err != nil {
						return nil, err
					}
					if v.Contacts == nil {
						return []courtside.ContactPoint{}, nil
					}
					return v.Contacts, nil
				})},
			"policy": {Type: s.contactPolicyType, Description: "Null unless the caller is this victim's advocate or coordinator.",
				Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					v, err := s.openPII(p)
					if v == nil || v.Policy == nil || err != nil {
						return nil, err
					}
					return v.Policy, nil
				})},
		},
	})
	s.contactInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "ContactInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"channel": {Type: nonNull(s.channelEnum)},
			"address": {Type: nonNull(graphql.String)},
		},
	})
	s.registerVictimInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "RegisterVictimInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"pseudonym":         {Type: nonNull(graphql.String)},
			"legalName":         {Type: graphql.String},
			"preferredLanguage": {Type: nonNull(graphql.String), Description: "A BCP 47 tag such as es or zh-Hans."},
			"contacts":          {Type: graphql.NewList(nonNull(s.contactInput))},
		},
	})
}

// defineReleases defines Release, ReleasePurpose and RecordReleaseInput: the consent ledger.
func (s *server) defineReleases() {
	if s.sharing.release != nil {
		return
	}
	s.sharing.releasePurpose = enum("ReleasePurpose", "What a victim's release allows Courtside to disclose. CASE_COORDINATION: "+
		"the recipient office sees, for its cases the victim is linked to, the victim's pseudonym, whether the victim attends and "+
		"whether an advocate accompanies them.", courtside.ReleasePurposes)
	field := func(get func(r *courtside.Release) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(*courtside.Release)), nil }
	}
	s.sharing.release = graphql.NewObject(graphql.ObjectConfig{
		Name: "Release",
		Description: "A victim's written, purpose-scoped, time-limited, revocable release of information to a prosecutor's " +
			"office (VAWA, 34 U.S.C. 12291(b)(2)). Checked at every read: once expired or revoked it discloses nothing.",
		Fields: graphql.Fields{
			"id":        {Type: nonNull(graphql.ID), Resolve: field(func(r *courtside.Release) interface{} { return formatID(r.ID) })},
			"recipient": {Type: nonNull(s.organizationType), Resolve: field(func(r *courtside.Release) interface{} { return r.Recipient })},
			"purpose":   {Type: nonNull(s.sharing.releasePurpose), Resolve: field(func(r *courtside.Release) interface{} { return r.Purpose })},
			"reference": {Type: nonNull(graphql.String), Description: "Where the signed written release is kept.",
				Resolve: field(func(r *courtside.Release) interface{} { return r.Reference })},
			"grantedAt": {Type: nonNull(s.dateTime), Description: "When the victim signed it.",
				Resolve: field(func(r *courtside.Release) interface{} { return r.GrantedAt })},
			"expiresAt":  {Type: nonNull(s.dateTime), Resolve: field(func(r *courtside.Release) interface{} { return r.ExpiresAt })},
			"revokedAt":  {Type: s.dateTime, Resolve: field(func(r *courtside.Release) interface{} { return r.RevokedAt })},
			"recordedAt": {Type: nonNull(s.dateTime), Resolve: field(func(r *courtside.Release) interface{} { return r.RecordedAt })},
			"recordedBy": {Type: graphql.String, Description: "The username of the coordinator who recorded it.",
				Resolve: field(func(r *courtside.Release) interface{} { return optString(r.RecordedBy) })},
			"active": {Type: nonNull(graphql.Boolean), Description: "Whether it allows disclosure now: signed, not expired, not revoked.",
				Resolve: field(func(r *courtside.Release) interface{} { return r.Active })},
		},
	})
	s.sharing.recordReleaseInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "RecordReleaseInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"victimId":  {Type: nonNull(graphql.ID)},
			"recipient": {Type: nonNull(graphql.String), Description: "The prosecutor's office's name, exactly."},
			"purpose":   {Type: nonNull(s.sharing.releasePurpose)},
			"reference": {Type: nonNull(graphql.String), Description: "Where the signed written release is kept, 1 to 200 characters."},
			"grantedAt": {Type: s.dateTime, Description: "When the victim signed it; now when absent. Not in the future."},
			"expiresAt": {Type: nonNull(s.dateTime), Description: "When it ends: after now, at most a year after grantedAt."},
		},
	})
}

// victim loads a victim the caller may see, redacted for the caller; NOT_FOUND otherwise.
// Interpreters never see victims.
func (s *server) victim(p graphql.ResolveParams, id int64) (*courtside.Victim, error) {
	if !courtside.CanSeeVictimPseudonym(courtside.UserFromContext(p.Context)) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	}
	v, found, err := s.loaders(p.Context).victims.load(p.Context, id)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	}
	return v, nil
}

// victimQueries returns Query.victim and Query.releases.
func (s *server) victimQueries() graphql.Fields {
	s.defineReleases()
	return graphql.Fields{
		"releases": {
			Type:        listOf(s.sharing.release),
			Description: "A victim's releases of information, newest first (coordinators of the victim's organisation); audited.",
			Args:        withFirst("Query", "releases", graphql.FieldConfigArgument{"victimId": {Type: nonNull(graphql.ID)}}),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("victimId")
				if err != nil {
					return nil, err
				}
				rs, err := s.cfg.Victims.FindReleases(p.Context, id)
				if rs == nil && err == nil {
					rs = []*courtside.Release{}
				}
				return rs, err
			}),
		},
		"victim": {
			Type:        s.victimType,
			Description: "A victim the caller may see; null with NOT_FOUND otherwise.",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("id")
				if err != nil {
					return nil, err
				}
				return s.victim(p, id)
			}),
		},
	}
}

// victimMutations returns Mutation.registerVictim, setContactPolicy, recordRelease and
// revokeRelease.
func (s *server) victimMutations() graphql.Fields {
	s.defineReleases()
	return graphql.Fields{
		"recordRelease": {
			Type: nonNull(s.sharing.release),
			Description: "Records a victim's written release of information to a prosecutor's office (coordinators of the " +
				"victim's organisation); audited.",
			Args: graphql.FieldConfigArgument{"input": {Type: nonNull(s.sharing.recordReleaseInput)}},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				in := args{m: p.Args}.input("input")
				victimID, err := in.id("victimId")
				if err != nil {
					return nil, err
				}
				expires, err := in.time("expiresAt")
				if err != nil {
					return nil, err
				}
				r := &courtside.Release{VictimID: victimID, Reference: in.str("reference"), ExpiresAt: expires}
				r.Purpose, _ = in.m["purpose"].(courtside.ReleasePurpose)
				if in.m["grantedAt"] != nil {
					if r.GrantedAt, err = in.time("grantedAt"); err != nil {
						return nil, err
					}
				}
				if err := s.cfg.Victims.RecordRelease(p.Context, r, in.str("recipient")); err != nil {
					return nil, err
				}
				return r, nil
			}),
		},
		"revokeRelease": {
			Type:        nonNull(s.sharing.release),
			Description: "Revokes a release now; disclosure under it stops at once. Revoking again changes nothing.",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("id")
				if err != nil {
					return nil, err
				}
				return s.cfg.Victims.RevokeRelease(p.Context, id)
			}),
		},
		"registerVictim": {
			Type:        nonNull(s.victimType),
			Description: "Registers a victim in the caller's advocacy organisation (coordinators).",
			Args:        graphql.FieldConfigArgument{"input": {Type: nonNull(s.registerVictimInput)}},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				in := args{m: p.Args}.input("input")
				v := &courtside.Victim{Pseudonym: in.str("pseudonym"), LegalName: in.str("legalName"),
					PreferredLanguage: in.str("preferredLanguage")}
				contacts, _ := in.m["contacts"].([]interface{})
				for _, c := range contacts {
					cm, _ := c.(map[string]interface{})
					ch, _ := cm["channel"].(courtside.Channel)
					addr, _ := cm["address"].(string)
					v.Contacts = append(v.Contacts, courtside.ContactPoint{Channel: ch, Address: addr})
				}
				if err := s.cfg.Victims.RegisterVictim(p.Context, v); err != nil {
					return nil, err
				}
				return v, nil
			}),
		},
		"setContactPolicy": {
			Type:        nonNull(s.victimType),
			Description: "Replaces a victim's contact policy (coordinators of the victim's organisation).",
			Args: graphql.FieldConfigArgument{
				"victimId": {Type: nonNull(graphql.ID)},
				"input":    {Type: nonNull(s.contactPolicyInput())},
			},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				id, err := parseID(a.m["victimId"], "victimId")
				if err != nil {
					return nil, err
				}
				in := a.input("input")
				policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{}, QuietHoursStart: in.str("quietHoursStart"),
					QuietHoursEnd: in.str("quietHoursEnd"), NeutralSender: in.str("neutralSender"), TimeZone: in.str("timeZone")}
				var confirm []courtside.Channel
				rules, _ := in.m["channels"].([]interface{})
				for _, r := range rules {
					rm, _ := r.(map[string]interface{})
					rule := courtside.ChannelRule{}
					rule.Channel, _ = rm["channel"].(courtside.Channel)
					rule.Allowed, _ = rm["allowed"].(bool)
					rule.Detail, _ = rm["detail"].(courtside.DetailLevel)
					policy.Channels = append(policy.Channels, rule)
					if safe, _ := rm["confirmedSafe"].(bool); safe {
						confirm = append(confirm, rule.Channel)
					}
				}
				return s.cfg.Victims.SetContactPolicy(p.Context, id, policy, confirm)
			}),
		},
	}
}

// contactPolicyInput returns ContactPolicyInput, defined once.
func (s *server) contactPolicyInput() *graphql.InputObject {
	if s.policyInput != nil {
		return s.policyInput
	}
	rule := graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "ChannelRuleInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"channel":       {Type: nonNull(s.channelEnum)},
			"allowed":       {Type: nonNull(graphql.Boolean)},
			"detail":        {Type: nonNull(s.detailLevelEnum)},
			"confirmedSafe": {Type: graphql.Boolean, Description: "Marks the victim's contact points on this channel as confirmed safe now."},
		},
	})
	s.policyInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "ContactPolicyInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"channels":        {Type: listOf(rule)},
			"quietHoursStart": {Type: graphql.String, Description: "HH:MM in the victim's time zone."},
			"quietHoursEnd":   {Type: graphql.String},
			"neutralSender":   {Type: graphql.String},
			"timeZone":        {Type: graphql.String, Description: "The victim's IANA time zone, for quiet hours and the dates in messages; absent means the hearing's court's."},
		},
	})
	return s.policyInput
}

// openPII returns the source victim with its PII opened, or nil when the caller may not see it.
// The PII of every victim of the request is opened (and audited) in one call, and only when a
// query asks for a PII field. A victim that came back from a mutation is already open.
func (s *server) openPII(p graphql.ResolveParams) (*courtside.Victim, error) {
	v := p.Source.(*courtside.Victim)
	if !v.PIIVisible {
		return nil, nil
	}
	if v.LegalName != "" || v.Contacts != nil || v.Policy != nil {
		return v, nil
	}
	opened, found, err := s.loaders(p.Context).victimPII.load(p.Context, v.ID)
	if err != nil || !found {
		return nil, err
	}
	return opened, nil
}
