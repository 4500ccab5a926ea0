package courtside

import "context"

// contextKey is the unexported type of the keys this package stores in a context.
type contextKey int

const (
	userContextKey = contextKey(iota + 1)
	clientAddrContextKey
)

// NewContextWithUser returns a copy of ctx that carries the authenticated user.
func NewContextWithUser(ctx context.Context, user *User) context.Context {
	return context.WithValue(ctx, userContextKey, user)
}

// UserFromContext returns the authenticated user carried by ctx, or nil.
func UserFromContext(ctx context.Context) *User {
	user, _ := ctx.Value(userContextKey).(*User)
	return user
}

// UserIDFromContext returns the ID of the authenticated user carried by ctx, or 0.
func UserIDFromContext(ctx context.Context) int64 {
	if user := UserFromContext(ctx); user != nil {
		return user.ID
	}
	return 0
}

// NewContextWithClientAddr returns a copy of ctx that carries the address of the client that
// made the request (an IP address, without port): the peer of the connection, or, behind a
// proxy the operator trusts, the address the proxy reports. Sign-in attempts are throttled by it.
func NewContextWithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrContextKey, addr)
}

// ClientAddrFromContext returns the client address carried by ctx, or "".
func ClientAddrFromContext(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrContextKey).(string)
	return addr
}
