package main

import (
	"errors"
	"html/template"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/web"
)

// Cart is what one tab holds.
type Cart struct {
	Items []string `json:"items"`
}

// Add puts an item in the cart.
func (c *Cart) Add(item string) { c.Items = append(c.Items, item) }

var page = template.Must(template.New("cart").Parse(`<!doctype html>
<html><head><title>Cart of tab {{.Tab}}</title><script src="/static/tabs.js" defer></script></head>
<body>
{{range .Flashes}}<p role="status">{{.}}</p>{{end}}
<h1>Cart of tab {{.Tab}}</h1>
<ul>{{range .Cart.Items}}<li>{{.}}</li>{{else}}<li>(empty)</li>{{end}}</ul>
<form method="post" action="/cart/items">
  <input name="item" required placeholder="tea"> <button>Add</button>
</form>
<p><a href="/+/cart" target="_blank">New tab</a></p>
</body></html>`))

func main() {
	mem := store.NewMemory() // sessions end with the process; omit Store for a bbolt file
	defer mem.Close()
	m, err := kit.New(kit.Config{Store: mem})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	e := echo.New()
	if err := m.Install(e); err != nil {
		log.Fatal(err)
	}
	e.StaticFS("/static/", web.Static) // tabs.js; /static/ is never tab-scoped

	// GET /cart is served at /N/cart; a bare /cart is sent to a tab.
	e.GET("/cart", kit.Handler(func(c *kit.Context) error {
		var cart Cart
		if _, err := c.Session().Tab().Get("cart", &cart); err != nil {
			return err
		}
		var flashes []string
		if _, err := c.Session().Tab().Flashes("notice", &flashes); err != nil {
			return err
		}
		if _, err := c.Session().Tab().Flashes(kit.FlashKey, &flashes); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
		return page.Execute(c.Response(), map[string]any{"Tab": c.Session().Tab().ID(), "Cart": cart, "Flashes": flashes})
	}))

	// POST /N/cart/items adds to this tab's cart, atomically.
	e.POST("/cart/items", kit.Handler(func(c *kit.Context) error {
		item := c.FormValue("item")
		if item == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "an item is needed")
		}
		// Queued first, so the flash lands in the same commit as the add.
		if err := c.Session().Tab().Flash("notice", "Added "+item); err != nil {
			return err
		}
		var cart Cart
		if err := c.Session().Tab().Update("cart", &cart, func() error { cart.Add(item); return nil }); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/cart") // becomes /N/cart
	}))

	log.Println("cart example on http://127.0.0.1:8081/cart")
	if err := e.Start("127.0.0.1:8081"); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
