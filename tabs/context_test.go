package tabs

import (
	"context"
	"testing"
)

func TestContext(t *testing.T) {
	if id, ok := IDFromContext(context.Background()); ok {
		t.Errorf("IDFromContext(empty): got (%v, true), want (0, false)", id)
	}
	ctx := WithID(context.Background(), 7)
	if id, ok := IDFromContext(ctx); id != 7 || !ok {
		t.Errorf("IDFromContext: got (%v, %v), want (7, true)", id, ok)
	}
	type otherKey struct{}
	ctx = context.WithValue(ctx, otherKey{}, ID(9))
	if id, ok := IDFromContext(ctx); id != 7 || !ok {
		t.Errorf("IDFromContext under another key: got (%v, %v), want (7, true)", id, ok)
	}
}

// carrier is a context that carries a tab ID itself.
type carrier struct {
	context.Context
	id ID
}

func (c carrier) Value(key any) any {
	if IsIDKey(key) {
		return c.id
	}
	return c.Context.Value(key)
}

func TestIsIDKey(t *testing.T) {
	ctx := carrier{Context: context.Background(), id: 7}
	if id, ok := IDFromContext(ctx); !ok || id != 7 {
		t.Errorf("IDFromContext of a carrier: got %v, %v, want 7, true", id, ok)
	}
	if IsIDKey(struct{}{}) || IsIDKey("tab") {
		t.Errorf("IsIDKey accepts keys of others")
	}
}
