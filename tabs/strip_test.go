package tabs

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStripPrefix(t *testing.T) {
	r := newTestRewriter(t, Config{})
	tests := []struct {
		target      string
		wantPath    string
		wantRawPath string
		wantID      ID
		wantOK      bool
	}{
		{"/3/cart", "/cart", "", 3, true},
		{"/3", "/", "", 3, true},
		{"/77", "/", "", 77, true},
		{"/77/7", "/7", "", 77, true},
		{"/5/%2F%2Fx", "///x", "/%2F%2Fx", 5, true},
		{"/0/", "/", "", 0, true},
		{"/12/a%2Fb/c", "/a/b/c", "/a%2Fb/c", 12, true},
		{"/cart", "/cart", "", 0, false},
		{"/007/cart", "/007/cart", "", 0, false},
		{"/%31/cart", "/1/cart", "/%31/cart", 0, false},
		{"/1000000/x", "/1000000/x", "", 0, false},
	}
	for _, tt := range tests {
		var gotPath, gotRawPath string
		var gotID ID
		var gotOK bool
		h := r.StripPrefix(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			gotPath, gotRawPath = req.URL.Path, req.URL.RawPath
			gotID, gotOK = IDFromContext(req.Context())
		}))
		req := httptest.NewRequest("GET", tt.target, nil)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if gotPath != tt.wantPath || gotRawPath != tt.wantRawPath || gotID != tt.wantID || gotOK != tt.wantOK {
			t.Errorf("%s: got (%q, %q, %v, %v), want (%q, %q, %v, %v)", tt.target,
				gotPath, gotRawPath, gotID, gotOK, tt.wantPath, tt.wantRawPath, tt.wantID, tt.wantOK)
		}
		if req.URL.Path != mustParseTarget(t, tt.target) {
			t.Errorf("%s: the original request was modified: %q", tt.target, req.URL.Path)
		}
	}
}

func mustParseTarget(t *testing.T, target string) string {
	t.Helper()
	return httptest.NewRequest("GET", target, nil).URL.Path
}
