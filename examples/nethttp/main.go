package main

import (
	"html/template"
	"log"
	"net/http"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/web"
)

var page = template.Must(template.New("cart").Parse(`<!doctype html>
<html><head><title>Cart of tab {{.Tab}}</title><script src="/static/tabs.js" defer></script></head>
<body>
{{range .Flashes}}<p role="status">{{.}}</p>{{end}}
<h1>Cart of tab {{.Tab}}</h1>
<ul>{{range .Items}}<li>{{.}}</li>{{else}}<li>(empty)</li>{{end}}</ul>
<form method="post" action="/cart/items"><input name="item" required> <button>Add</button></form>
<p><a href="/+/cart" target="_blank">New tab</a></p>
</body></html>`))

func main() {
	mem := store.NewMemory()
	defer mem.Close()
	m, err := kit.New(kit.Config{Store: mem})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(web.Static)))
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		tab := kit.SessionOf(r).Tab()
		var items, flashes []string
		if _, err := tab.Get("cart", &items); err != nil {
			kit.Fail(w, r, err)
			return
		}
		if _, err := tab.Flashes(kit.FlashKey, &flashes); err != nil {
			kit.Fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]any{"Tab": tab.ID(), "Items": items, "Flashes": flashes})
	})
	mux.HandleFunc("POST /cart/items", func(w http.ResponseWriter, r *http.Request) {
		item := r.FormValue("item")
		var items []string
		err := kit.SessionOf(r).Tab().Update("cart", &items, func() error {
			items = append(items, item)
			return nil
		})
		if err != nil {
			kit.Fail(w, r, err) // 409, 413, 503… through Config.ErrorHandler
			return
		}
		http.Redirect(w, r, "/cart", http.StatusSeeOther) // becomes /N/cart
	})

	log.Println("net/http example on http://127.0.0.1:8081/cart")
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", m.Wrap(mux)))
}
