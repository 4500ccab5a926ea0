package courtside

// The pure rules of who may do what. Storage applies the matching scopes in its queries;
// these functions decide the cases that need no I/O.

// CanCreateCourt reports whether u may create courts.
func CanCreateCourt(u *User) bool { return u != nil && u.Role == RoleAdmin }

// CanOpenCase reports whether u may open cases for its office.
func CanOpenCase(u *User) bool {
	return u != nil && u.Role == RoleProsecutor && u.OrganizationID != 0
}

// CanChangeHearingsOf reports whether u may post, reschedule and cancel hearings of a case
// owned by the organisation caseOrgID.
func CanChangeHearingsOf(u *User, caseOrgID int64) bool {
	return u != nil && u.Role == RoleProsecutor && u.OrganizationID != 0 && u.OrganizationID == caseOrgID
}

// CanManageVictimsOf reports whether u may register, link and assign advocates to victims of
// the organisation orgID.
func CanManageVictimsOf(u *User, orgID int64) bool {
	return u != nil && u.Role == RoleCoordinator && u.OrganizationID != 0 && u.OrganizationID == orgID
}

// CanSeeVictimPII reports whether u may see the victim's legal name and contact points: the
// victim's own coordinators, and advocates of the victim's organisation who accompany the
// victim.
func CanSeeVictimPII(u *User, v *Victim, accompanies bool) bool {
	if u == nil || v == nil || u.OrganizationID == 0 || u.OrganizationID != v.OrganizationID {
		return false
	}
	switch u.Role {
	case RoleCoordinator:
		return true
	case RoleAdvocate:
		return accompanies
	}
	return false
}

// CanSeeVictimPseudonym reports whether u may see victims at all by pseudonym. Interpreters
// never do.
func CanSeeVictimPseudonym(u *User) bool {
	return u != nil && u.Role != RoleInterpreter
}

// CanBookInterpreters reports whether u's role may see interpreter candidates and request
// interpreters: coordinators and prosecutors' offices. Which hearings is the hearing scope's
// business: the case must be shared with a coordinator's organisation, a prosecutor's office
// must own it.
func CanBookInterpreters(u *User) bool {
	return u != nil && u.OrganizationID != 0 && (u.Role == RoleCoordinator || u.Role == RoleProsecutor)
}
