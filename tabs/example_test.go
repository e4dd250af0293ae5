package tabs_test

import (
	"fmt"
	"os"

	"github.com/tabkit/tabkit/tabs"
)

func ExamplePrefix() {
	fmt.Println(tabs.Prefix(3, "/cart?x=1#f"))
	fmt.Println(tabs.Prefix(3, "/"))
	fmt.Println(tabs.Prefix(3, "/7/cart"))
	fmt.Println(tabs.Prefix(3, "https://example.com/"))
	fmt.Println(tabs.Prefix(3, "details"))
	// Output:
	// /3/cart?x=1#f
	// /3/
	// /7/cart
	// https://example.com/
	// details
}

func ExampleRewriter_NewWriter() {
	r, err := tabs.New(tabs.Config{Attrs: []string{"hx-get"}})
	if err != nil {
		panic(err)
	}
	w := r.NewWriter(os.Stdout, 3)
	fmt.Fprint(w, `<link rel="stylesheet" href="/static/app.css">
<a href="/cart">Cart</a> <a href="https://example.com/">Help</a>
<button hx-get="/rows?page=2">More</button>
<script>fetch("/api/stock")</script>`)
	if err := w.Close(); err != nil {
		panic(err)
	}
	// Output:
	// <link rel="stylesheet" href="/static/app.css">
	// <a href="/3/cart">Cart</a> <a href="https://example.com/">Help</a>
	// <button hx-get="/3/rows?page=2">More</button>
	// <script>fetch("/api/stock")</script>
}

func ExampleParse() {
	id, rest, ok := tabs.Parse("/3/cart")
	fmt.Println(id, rest, ok)
	_, _, ok = tabs.Parse("/03/cart")
	fmt.Println(ok)
	// Output:
	// 3 /cart true
	// false
}

func ExampleLocalPath() {
	// A redirect built from the request path, to the same page in a new
	// tab: whatever the client sent, the browser stays on this host.
	for _, rest := range []string{"/cart?x=1", "//evil.example/x", "/%2F%5Cevil.example", "/\t/evil.example"} {
		fmt.Println(tabs.Prefix(4, tabs.LocalPath(rest)))
	}
	// Output:
	// /4/cart?x=1
	// /4/evil.example/x
	// /4/evil.example
	// /4/evil.example
}

func ExampleRewriter_Header() {
	r, err := tabs.New(tabs.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Header(3, "Location", "/cart"))
	fmt.Println(r.Header(3, "Refresh", "5; url=/done"))
	fmt.Println(r.Header(3, "Hx-Location", `{"path":"/orders","target":"#main"}`))
	fmt.Println(r.Header(3, "Hx-Push-Url", "false"))
	fmt.Println(r.Header(3, "Location", "https://example.com/"))
	fmt.Println(r.Header(3, "Content-Type", "text/html"))
	// Output:
	// /3/cart
	// 5; url=/3/done
	// {"path":"/3/orders","target":"#main"}
	// false
	// https://example.com/
	// text/html
}

func ExampleSplitPrefix() {
	path := "/77"
	if id, n, ok := tabs.SplitPrefix(path, tabs.DefaultMaxID); ok {
		rest := path[n:]
		if rest == "" {
			rest = "/"
		}
		fmt.Println(id, n, rest)
	}
	// Output:
	// 77 3 /
}
