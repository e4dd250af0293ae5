package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static is the contents of web/static, rooted there: "app.css",
// "tabs.js".
var Static fs.FS = staticRoot()

func staticRoot() fs.FS {
	// fs.Sub fails only for an invalid path, and "static" is a valid one.
	sub, _ := fs.Sub(files, "static")
	return sub
}
