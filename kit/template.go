package kit

import (
	"html/template"

	"github.com/labstack/echo/v4"
)

// TemplateFuncs returns functions for html/template:
//
//	tabURL CONTEXT PATH   the URL of PATH in the request's tab (Tab.URL)
//
// The rewriter already prefixes links in a tab's HTML; tabURL is for URLs
// it cannot see, such as those in data attributes it does not know or in
// inline scripts.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"tabURL": func(c echo.Context, path string) string {
			return From(c).Session().Tab().URL(path)
		},
	}
}
