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
