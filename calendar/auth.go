package calendar

import (
	"log/slog"
	"net/http"

	"courtside"
)

// realmHeader is the challenge of every 401: HTTP Basic with an app password.
const realmHeader = `Basic realm="Courtside", charset="UTF-8"`

// authenticate checks the request's HTTP Basic credentials: a username and one of that user's
// app passwords (never the account password). It returns the user, or writes the error
// response and returns nil. Every failure that is the caller's answers 401 alike, so that the
// answer does not tell whether the username exists.
func authenticate(w *responseWriter, r *http.Request, tokens courtside.TokenService, logger *slog.Logger) *courtside.User {
	username, secret, ok := r.BasicAuth()
	if !ok || username == "" || secret == "" {
		unauthorized(w)
		return nil
	}
	user, err := tokens.AuthenticateAppPassword(r.Context(), username, secret)
	if err == nil && user == nil {
		err = courtside.Errorf(courtside.EUNAUTHORIZED, "Unauthorized.")
	}
	if err != nil {
		if courtside.ErrorCode(err) == courtside.EINTERNAL {
			logger.LogAttrs(r.Context(), slog.LevelError, "calendar: authenticate", slog.String("error", err.Error()))
			w.fail(http.StatusInternalServerError, "")
			return nil
		}
		unauthorized(w)
		return nil
	}
	return user
}

// unauthorized writes a 401 with the Basic challenge.
func unauthorized(w *responseWriter) {
	w.Header().Set("WWW-Authenticate", realmHeader)
	w.fail(http.StatusUnauthorized, "")
}
