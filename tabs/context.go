package tabs

import "context"

// idKey is the context key for the tab ID; unexported so that only
// WithID and IDFromContext can reach the value.
type idKey struct{}

// WithID returns a copy of ctx that carries the tab ID id.
func WithID(ctx context.Context, id ID) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// IDFromContext returns the tab ID stored by WithID, and whether there is
// one.
func IDFromContext(ctx context.Context) (ID, bool) {
	id, ok := ctx.Value(idKey{}).(ID)
	return id, ok
}

// IsIDKey reports whether key is the one IDFromContext looks up. A
// context type that already carries a tab ID (a framework's per-request
// state) answers its Value(key) with the ID for such a key, instead of
// wrapping itself in WithID: one allocation less per request.
func IsIDKey(key any) bool {
	_, ok := key.(idKey)
	return ok
}
