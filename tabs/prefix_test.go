package tabs

import "testing"

func TestPrefix(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"/cart?x=1#f", "/3/cart?x=1#f"},
		{"/", "/3/"},
		{"/cart", "/3/cart"},
		{"/?q=1", "/3/?q=1"},
		{"/#top", "/3/#top"},
		{"/static/app.css", "/3/static/app.css"},
		{"/007/x", "/3/007/x"},
		{"/1000000", "/3/1000000"},
		{" /cart", " /3/cart"},
		{"//host/x", "//host/x"},
		{"/\\host/x", "/\\host/x"},
		{"/\t/host/x", "/\t/host/x"},
		{"http://x", "http://x"},
		{"https://x/y", "https://x/y"},
		{"x/y", "x/y"},
		{"./y", "./y"},
		{"#f", "#f"},
		{"?q", "?q"},
		{"mailto:a@example.com", "mailto:a@example.com"},
		{"javascript:void(0)", "javascript:void(0)"},
		{"", ""},
		{"/3/cart", "/3/cart"},
		{"/3", "/3"},
		{"/3?x=1", "/3?x=1"},
		{"/3#f", "/3#f"},
		{"/8/cart", "/8/cart"},
		{"/3\t/cart", "/3\t/cart"},
	}
	for _, tt := range tests {
		if got := Prefix(3, tt.url); got != tt.want {
			t.Errorf("Prefix(3, %q): got %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestRewriterURL(t *testing.T) {
	r := newTestRewriter(t, Config{Exempt: []string{"/static/", "/healthz", "/api/"}, MaxID: 99})
	tests := []struct {
		url, want string
	}{
		{"/cart", "/5/cart"},
		{"/", "/5/"},
		{"/static/app.css", "/static/app.css"},
		{"/static", "/5/static"},
		{"/healthz", "/healthz"},
		{"/healthz?verbose=1", "/healthz?verbose=1"},
		{"/healthz#x", "/healthz#x"},
		{"/healthz/db", "/healthz/db"},
		{"/healthzz", "/5/healthzz"},
		{"/api/v1/items", "/api/v1/items"},
		{"/apix", "/5/apix"},
		{"/5/cart", "/5/cart"},
		{"/99/cart", "/99/cart"},
		{"/100/cart", "/5/100/cart"},
		{"//host/x", "//host/x"},
		{"https://example.com/", "https://example.com/"},
		{"cart", "cart"},
	}
	for _, tt := range tests {
		if got := r.URL(5, tt.url); got != tt.want {
			t.Errorf("URL(5, %q): got %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestRewriterIsExempt(t *testing.T) {
	r := newTestRewriter(t, Config{Exempt: []string{"/static/", "/healthz"}})
	tests := []struct {
		path string
		want bool
	}{
		{"/static/app.css", true},
		{"/static/", true},
		{"/static", false},
		{"/staticx/a", false},
		{"/healthz", true},
		{"/healthz?x", true},
		{"/healthz/ready", true},
		{"/healthzz", false},
		{"/health", false},
		{"/", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := r.IsExempt(tt.path); got != tt.want {
			t.Errorf("IsExempt(%q): got %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestRewriterParse(t *testing.T) {
	r := newTestRewriter(t, Config{MaxID: 9})
	if id, rest, ok := r.Parse("/9/x"); id != 9 || rest != "/x" || !ok {
		t.Errorf("Parse(/9/x): got (%v, %q, %v), want (9, \"/x\", true)", id, rest, ok)
	}
	if _, _, ok := r.Parse("/10/x"); ok {
		t.Errorf("Parse(/10/x): got ok, want not a prefix above MaxID 9")
	}
}
