package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request came from, for throttling and logs.
// It is the peer's address, unless the peer is one of trusted (a proxy
// in front of the demo): then it is the nearest address in
// X-Forwarded-For that is not a trusted proxy, or X-Real-IP when there is
// no X-Forwarded-For. Anyone can send those headers, so without trusted
// proxies they are ignored. An unusable peer address gives the zero Addr,
// one bucket shared by all such requests.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseIP(hostOnly(r.RemoteAddr))
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		return fromForwardedFor(xff, peer, trusted)
	}
	if real := parseIP(strings.TrimSpace(r.Header.Get("X-Real-IP"))); real.IsValid() {
		return real
	}
	return peer
}

// fromForwardedFor walks X-Forwarded-For from the right (the hop next to
// peer) and returns the first address not a trusted proxy's. Left of an
// entry that does not parse, nothing can be believed, so the walk stops
// at the last trusted hop.
func fromForwardedFor(headers []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip := parseIP(strings.TrimSpace(hops[i]))
		if !ip.IsValid() {
			return last
		}
		if !isTrusted(ip, trusted) {
			return ip
		}
		last = ip
	}
	return last
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseIP reads an address, IPv4-mapped IPv6 as IPv4, without a zone.
func parseIP(s string) netip.Addr {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap().WithZone("")
}

func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return hostport
}

// parseTrustedProxies reads -trusted-proxy: addresses or CIDR prefixes,
// separated by commas.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var list []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("-trusted-proxy %q: %w", f, err)
			}
			list = append(list, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxy %q: %w", f, err)
		}
		ip = ip.Unmap()
		list = append(list, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return list, nil
}
