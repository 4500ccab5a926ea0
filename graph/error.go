package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"courtside"

	"github.com/graphql-go/graphql/gqlerrors"
)

// The codes every GraphQL error carries in extensions.code. Parse errors, validation errors
// (the specification's rules and ours: depth, aliases, introspection) and bad variable values
// are all INVALID: the caller must change the request. Our own validation rules add
// extensions.rule naming the limit.
const (
	CodeInvalid         = "INVALID"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeInternal        = "INTERNAL"
	// CodeRateLimited refuses an attempt made too often (sign-in); the answer's HTTP status is
	// 429 with Retry-After, and extensions.retryAfter gives the same seconds.
	CodeRateLimited = "RATE_LIMITED"
	// CodeTimeout reports that the request's deadline passed before the operation finished:
	// the work was stopped, and what had not been resolved is null.
	CodeTimeout = "TIMEOUT"
)

// internalMessage is the only message an INTERNAL error ever shows.
const internalMessage = "Internal error."

// Error is a GraphQL error with a code. It implements gqlerrors.ExtendedError itself, because
// graphql-go finds extensions by type assertion on the error a resolver returns, not with
// errors.As: resolvers return it unwrapped.
type Error struct {
	Code    string
	Message string
	// Field is the input field path an INVALID error concerns, such as "input.endsAt".
	Field string
	// Rule names the validation rule that refused the document, for our own rules.
	Rule string
	// RetryAfter is, for RATE_LIMITED, how long to wait before trying again.
	RetryAfter time.Duration
}

// Error returns the message, which is always safe to show to the caller.
func (e *Error) Error() string { return e.Message }

// Extensions returns extensions.code and, when set, extensions.field and extensions.rule.
func (e *Error) Extensions() map[string]interface{} {
	ext := map[string]interface{}{"code": e.Code}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	if e.Rule != "" {
		ext["rule"] = e.Rule
	}
	if e.RetryAfter > 0 {
		ext["retryAfter"] = retryAfterSeconds(e.RetryAfter)
	}
	return ext
}

var _ gqlerrors.ExtendedError = (*Error)(nil)

// invalid returns an INVALID error about the input field path field.
func invalid(field, format string, args ...interface{}) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// retryAfterSeconds renders a wait in whole seconds, rounded up, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// unauthenticated is the answer of every resolver that needs a user when there is none.
func unauthenticated() *Error {
	return &Error{Code: CodeUnauthenticated, Message: "Sign in first: send Authorization: Bearer <API token>."}
}

// codeOf maps a courtside error code to the GraphQL one.
func codeOf(code string) string {
	switch code {
	case courtside.EINVALID:
		return CodeInvalid
	case courtside.ENOTFOUND:
		return CodeNotFound
	case courtside.ECONFLICT:
		return CodeConflict
	case courtside.EUNAUTHORIZED:
		return CodeUnauthenticated
	case courtside.EFORBIDDEN:
		return CodeForbidden
	case courtside.ERATELIMITED:
		return CodeRateLimited
	}
	return CodeInternal
}

// toError converts any error a service returned into an *Error. prefix is the path of the
// argument that holds the input object ("input."), prepended to the field an EINVALID error
// names. Internal errors are logged with their detail and shown as "Internal error.".
func toError(ctx context.Context, logger *slog.Logger, err error, prefix string) *Error {
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	code := codeOf(courtside.ErrorCode(err))
	if code == CodeInternal {
		logInternal(ctx, logger, err)
		return &Error{Code: CodeInternal, Message: internalMessage}
	}
	e := &Error{Code: code, Message: courtside.ErrorMessage(err), RetryAfter: courtside.ErrorRetryAfter(err)}
	if field := courtside.ErrorField(err); field != "" && code == CodeInvalid {
		e.Field = prefix + field
	}
	return e
}

// logInternal logs an internal error. A request the client abandoned is not an error of ours.
func logInternal(ctx context.Context, logger *slog.Logger, err error) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		logger.InfoContext(ctx, "graphql: request ended early", slog.String("error", err.Error()))
		return
	}
	logger.ErrorContext(ctx, "graphql: internal error", slog.String("error", err.Error()))
}

// recoverError turns a resolver panic into an INTERNAL error and logs it with its stack.
func recoverError(ctx context.Context, logger *slog.Logger, r interface{}) *Error {
	logger.ErrorContext(ctx, "graphql: panic in resolver", slog.String("panic", fmt.Sprint(r)),
		slog.String("stack", string(debug.Stack())))
	return &Error{Code: CodeInternal, Message: internalMessage}
}

// variableField finds the variable path in graphql-go's message about a bad variable value:
// `Variable "$input" got invalid value ... In field "endsAt": ...` gives "input.endsAt".
var (
	variableName  = regexp.MustCompile(`^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"`)
	variableInner = regexp.MustCompile(`In field "([_A-Za-z][_0-9A-Za-z]*)"`)
)

// classify gives a code to an error graphql-go produced without one. Errors about the request
// itself (bad variables, unknown operation) are INVALID; anything else, such as a non-null
// field that resolved to null, is an internal fault: logged, and shown as "Internal error.".
func classify(ctx context.Context, logger *slog.Logger, fe gqlerrors.FormattedError) gqlerrors.FormattedError {
	if _, ok := fe.Extensions["code"]; ok {
		return fe
	}
	msg := fe.Message
	switch {
	case variableName.MatchString(msg):
		field := variableName.FindStringSubmatch(msg)[1]
		for _, m := range variableInner.FindAllStringSubmatch(msg, -1) {
			field += "." + m[1]
		}
		fe.Extensions = map[string]interface{}{"code": CodeInvalid, "field": field}
	case strings.HasPrefix(msg, "Unknown operation named"),
		strings.HasPrefix(msg, "Must provide operation name"),
		strings.HasPrefix(msg, "Must provide an operation"),
		strings.HasPrefix(msg, "GraphQL cannot execute a request containing"):
		fe.Extensions = map[string]interface{}{"code": CodeInvalid}
	default:
		logInternal(ctx, logger, errors.New(msg))
		fe.Message = internalMessage
		fe.Extensions = map[string]interface{}{"code": CodeInternal}
	}
	return fe
}

// formatted returns err as a located-less GraphQL error for answers outside execution.
func formatted(e *Error) gqlerrors.FormattedError {
	return gqlerrors.FormattedError{Message: e.Message, Extensions: e.Extensions()}
}
