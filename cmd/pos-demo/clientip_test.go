package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies, err := parseTrustedProxies("10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		realIP  string
		trusted []netip.Prefix
		want    string
	}{
		{"peer only", "192.0.2.1:5000", nil, "", nil, "192.0.2.1"},
		{"headers ignored without trusted proxies", "192.0.2.1:5000", []string{"203.0.113.5"}, "203.0.113.6", nil, "192.0.2.1"},
		{"headers ignored from an untrusted peer", "192.0.2.1:5000", []string{"203.0.113.5"}, "203.0.113.6", proxies, "192.0.2.1"},
		{"forwarded by a trusted proxy", "10.1.2.3:5000", []string{"203.0.113.5"}, "", proxies, "203.0.113.5"},
		{"the nearest untrusted hop wins", "10.1.2.3:5000", []string{"198.51.100.1, 203.0.113.5, 10.9.9.9"}, "", proxies, "203.0.113.5"},
		{"several headers are one list", "10.1.2.3:5000", []string{"198.51.100.1", "203.0.113.5,10.9.9.9"}, "", proxies, "203.0.113.5"},
		{"a spoofed left part is not believed", "10.1.2.3:5000", []string{"1.2.3.4, 203.0.113.5"}, "", proxies, "203.0.113.5"},
		{"garbage stops the walk at the last trusted hop", "10.1.2.3:5000", []string{"203.0.113.5, junk, 10.9.9.9"}, "", proxies, "10.9.9.9"},
		{"all hops trusted", "10.1.2.3:5000", []string{"10.7.7.7"}, "", proxies, "10.7.7.7"},
		{"X-Real-IP without X-Forwarded-For", "[::1]:5000", nil, "2001:db8::5", proxies, "2001:db8::5"},
		{"X-Real-IP of garbage", "[::1]:5000", nil, "nope", proxies, "::1"},
		{"v4-mapped peer", "[::ffff:10.1.2.3]:5000", []string{"203.0.113.5"}, "", proxies, "203.0.113.5"},
		{"zone dropped", "[fe80::1%eth0]:5000", nil, "", nil, "fe80::1"},
		{"no port", "192.0.2.9", nil, "", nil, "192.0.2.9"},
		{"unusable peer", "@", nil, "", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			if got := clientIP(r, tt.trusted).String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"invalid IP", "invalid Prefix"},
	}
	for _, tt := range tests {
		if got := clientKey(tt.in).String(); got != tt.want {
			t.Errorf("clientKey(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzClientIP: whatever the headers say, the answer is the peer or an
// address the headers named, and the peer whenever it is not trusted.
func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:80", "203.0.113.5, 10.9.9.9", "198.51.100.1", true)
	f.Add("192.0.2.1:80", "1.2.3.4", "", true)
	f.Add("[::1]:80", ",,, ,::ffff:1.2.3.4%x", "::1", true)
	f.Add("10.0.0.1", "", "", false)
	trusted, _ := parseTrustedProxies("10.0.0.0/8,::1")
	f.Fuzz(func(t *testing.T, remote, xff, realIP string, useTrusted bool) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Real-IP", realIP)
		var list []netip.Prefix
		if useTrusted {
			list = trusted
		}
		got := clientIP(r, list)
		peer := parseIP(hostOnly(remote))
		if got == peer {
			return
		}
		if !peer.IsValid() || !isTrusted(peer, list) {
			t.Fatalf("peer %v is not trusted, yet the client is %v", peer, got)
		}
		if !got.IsValid() {
			t.Fatalf("an invalid client %v from a trusted peer", got)
		}
		named := false
		for _, s := range append(strings.Split(xff, ","), realIP) {
			if parseIP(strings.TrimSpace(s)) == got {
				named = true
			}
		}
		if !named {
			t.Fatalf("client %v is neither the peer %v nor in the headers %q / %q", got, peer, xff, realIP)
		}
	})
}
