package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client runs the operations through Handler in another process, with
// the same methods and errors as Admin.
type Client struct {
	base string
	hc   *http.Client
}

// maxResponse caps what the client reads of one answer.
const maxResponse = 64 << 20

// NewClient returns a client of the Handler served at baseURL (such as
// "http://127.0.0.1:9090"). A nil hc means http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("admin: %q is not an http:// or https:// URL", baseURL)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), hc: hc}, nil
}

// Sessions is Admin.Sessions in the server's process.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var list []Session
	return list, c.do(ctx, http.MethodGet, "/admin/sessions", &list)
}

// SessionsOf is Admin.SessionsOf in the server's process.
func (c *Client) SessionsOf(ctx context.Context, p string) ([]Session, error) {
	var list []Session
	return list, c.do(ctx, http.MethodGet, "/admin/sessions?"+principalQuery(p), &list)
}

// EndSessionsOf is Admin.EndSessionsOf in the server's process.
func (c *Client) EndSessionsOf(ctx context.Context, p string) (int, error) {
	var res endResult
	return res.Ended, c.do(ctx, http.MethodPost, "/admin/end?"+principalQuery(p), &res)
}

func principalQuery(p string) string { return url.Values{"principal": {p}}.Encode() }

// Rekey is Admin.Rekey in the server's process.
func (c *Client) Rekey(ctx context.Context) (RekeyResult, error) {
	var res RekeyResult
	return res, c.do(ctx, http.MethodPost, "/admin/rekey", &res)
}

// Show is Admin.Show in the server's process.
func (c *Client) Show(ctx context.Context, id string) (Detail, error) {
	var d Detail
	return d, c.do(ctx, http.MethodGet, "/admin/sessions/"+url.PathEscape(id), &d)
}

// Delete is Admin.Delete in the server's process.
func (c *Client) Delete(ctx context.Context, id string) (Session, error) {
	var s Session
	return s, c.do(ctx, http.MethodDelete, "/admin/sessions/"+url.PathEscape(id), &s)
}

// Clear is Admin.Clear in the server's process.
func (c *Client) Clear(ctx context.Context, force bool) (int, error) {
	path := "/admin/clear"
	if force {
		path += "?force=1"
	}
	var res clearResult
	return res.Deleted, c.do(ctx, http.MethodPost, path, &res)
}

// Stats is Admin.Stats in the server's process.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	return st, c.do(ctx, http.MethodGet, "/admin/stats", &st)
}

// GC is Admin.GC in the server's process.
func (c *Client) GC(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	return res, c.do(ctx, http.MethodPost, "/admin/gc", &res)
}

// Compact is Admin.Compact in the server's process.
func (c *Client) Compact(ctx context.Context) (CompactResult, error) {
	var res CompactResult
	return res, c.do(ctx, http.MethodPost, "/admin/compact", &res)
}

func (c *Client) do(ctx context.Context, method, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	req.Header.Set(HeaderName, "1")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("admin: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return remoteError(resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("admin: decoding the answer: %w", err)
	}
	return nil
}

// remoteError turns an error answer back into an error that matches the
// sentinel the server matched.
func remoteError(status int, body []byte) error {
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		return fmt.Errorf("admin: server answered %d: %s", status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	for _, c := range errorCodes {
		if c.code == e.Code {
			return &remote{msg: e.Error, is: c.err}
		}
	}
	return errors.New(e.Error)
}

// remote is an error from the server: its message as the server wrote
// it, matching the sentinel the server named.
type remote struct {
	msg string
	is  error
}

func (e *remote) Error() string { return e.msg }
func (e *remote) Unwrap() error { return e.is }
