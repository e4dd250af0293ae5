package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// htmxFile is the vendored htmx, its version in its name, so the URL
// changes with the file and browsers may cache it for good.
const htmxFile = "htmx-2.0.11.min.js"

// versionedName matches a file whose name carries its version.
var versionedName = regexp.MustCompile(`-\d+\.\d+\.\d+(\.min)?\.js$`)

// assets names the static files with a version in their URL: a file
// whose name carries none gets "?v=" and the start of its SHA-256, so a
// page always asks for the file it was made with, and a cached copy is
// never stale.
type assets struct {
	// hashes maps a file name to its version; read-only once loaded.
	hashes map[string]string
}

// hashLen is how many hex digits of a file's SHA-256 name its version.
const hashLen = 12

func loadAssets(static fs.FS) (*assets, error) {
	a := &assets{hashes: make(map[string]string)}
	err := fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[name] = hex.EncodeToString(sum[:])[:hashLen]
		return nil
	})
	return a, err
}

// url is the template function "asset": the URL to load a static file
// by.
func (a *assets) url(name string) string {
	v, ok := a.hashes[name]
	if !ok || versionedName.MatchString(name) {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + v
}

// immutable reports whether a request for a static file names its
// current version, so the answer may be cached for a year.
func (a *assets) immutable(r *http.Request) bool {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	v, ok := a.hashes[name]
	if !ok {
		return false
	}
	return versionedName.MatchString(name) || r.URL.Query().Get("v") == v
}

// cacheControl lets browsers keep versioned files for a year and makes
// them check the others every time (tabs.js, whose URL the kit's
// documentation fixes, or an old ?v=).
func (a *assets) cacheControl(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.immutable(c.Request()) {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set("Cache-Control", "no-cache")
		}
		return next(c)
	}
}
