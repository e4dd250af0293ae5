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
