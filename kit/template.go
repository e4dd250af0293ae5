package kit

import (
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

// TemplateFuncs returns functions for html/template:
//
//	tabURL REQUEST PATH   the URL of PATH in the request's tab (Tab.URL)
//
// REQUEST is the handler's echo.Context, *Context or *http.Request. The
// rewriter already prefixes links in a tab's HTML; tabURL is for URLs it
// cannot see, such as those in inline scripts.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"tabURL": func(req any, path string) string {
			switch r := req.(type) {
			case *http.Request:
				return SessionOf(r).Tab().URL(path)
			case echo.Context:
				return From(r).Session().Tab().URL(path)
			}
			return path
		},
	}
}
