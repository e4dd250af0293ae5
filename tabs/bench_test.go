package tabs

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"golang.org/x/net/html"
)

// benchConfig is a typical htmx application's configuration.
var benchConfig = Config{
	Exempt: []string{"/static/", "/api/"},
	Attrs:  []string{"hx-get", "hx-post", "hx-delete", "data-href"},
}

// benchPage returns a back-office page of a point-of-sale system, about
// 70 KB: navigation, a product table with links, forms, htmx buttons and
// responsive images, inline script and style, and comments.
func benchPage() []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Products &middot; Back office</title>
<link rel="stylesheet" href="/static/css/app.css">
<link rel="icon" href="/static/favicon.ico">
<script src="/static/js/htmx.min.js" defer></script>
<script src="/static/js/tabs.js" defer></script>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  nav a[aria-current="page"] { font-weight: 600; }
  .badge { background: url(/static/img/badge.svg) no-repeat; }
  table > tbody > tr:nth-child(odd) { background: #f6f6f6; }
</style>
</head>
<body class="backoffice">
<!-- Navigation: one entry per area of the back office. -->
<header class="top">
  <a class="brand" href="/"><img src="/static/img/logo.svg" alt="Shop" width="120" height="32"></a>
  <nav aria-label="Main">
`)
	for _, area := range []string{"dashboard", "orders", "products", "customers", "inventory", "reports", "settings", "registers"} {
		fmt.Fprintf(&b, "    <a href=\"/%s\" class=\"nav-link\" hx-get=\"/%s\" hx-target=\"#main\" hx-push-url=\"true\">%s</a>\n", area, area, area)
	}
	b.WriteString(`  </nav>
  <form class="search" action="/search" method="get" role="search">
    <input type="search" name="q" placeholder="Search products, orders, customers" autocomplete="off">
    <button type="submit" class="btn">Search</button>
  </form>
</header>
<main id="main">
<h1>Products</h1>
<p class="lead">Prices include VAT. Stock is updated every minute from the registers.</p>
<table class="products">
<thead><tr><th>SKU</th><th>Product</th><th class="num">Price</th><th class="num">Stock</th><th>Image</th><th>Actions</th></tr></thead>
<tbody>
`)
	for i := 1; i <= 72; i++ {
		if i%15 == 0 {
			fmt.Fprintf(&b, "<!-- page break: products %d to %d -->\n", i, i+14)
		}
		fmt.Fprintf(&b, `<tr id="row-%d" data-id="%d" class="%s">
  <td><code>SKU-%05d</code></td>
  <td><a href="/products/%d" title="Open product %d">Product number %d &ndash; blue, size M</a></td>
  <td class="num">%d.%02d&nbsp;&euro;</td>
  <td class="num"><span class="badge">%d</span></td>
  <td><img src="/img/products/%d.jpg" srcset="/img/products/%d.jpg 1x, /img/products/%d@2x.jpg 2x" alt="" width="48" height="48" loading="lazy"></td>
  <td class="actions">
    <form action="/cart/add" method="post" class="inline">
      <input type="hidden" name="product" value="%d"><input type="number" name="qty" value="1" min="1" max="99">
      <button type="submit" class="btn btn-primary">Add</button>
    </form>
    <button class="btn" hx-get="/products/%d/edit" hx-target="#row-%d" hx-swap="outerHTML">Edit</button>
    <button class="btn btn-danger" hx-delete="/products/%d" hx-confirm="Delete product %d?">Delete</button>
  </td>
</tr>
`, i, i, []string{"odd", "even"}[i%2], i, i, i, i, i*3%100, i*7%100, i*13%50, i, i, i, i, i, i, i, i)
	}
	b.WriteString(`</tbody>
</table>
<nav class="pagination" aria-label="Pages">
`)
	for p := 1; p <= 10; p++ {
		fmt.Fprintf(&b, "  <a href=\"/products?page=%d&amp;sort=name&amp;dir=asc\" data-href=\"/products?page=%d\">%d</a>\n", p, p, p)
	}
	b.WriteString(`</nav>
</main>
<footer>
  <p>Signed in as <a href="/account">cashier 4</a> &middot; <a href="/logout">Sign out</a> &middot; <a href="https://example.com/help" rel="noopener">Help</a></p>
</footer>
<script>
  // Keyboard shortcuts for the register. Values below are compared with < and >.
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement.tagName !== "INPUT") {
      e.preventDefault();
      document.querySelector("form.search input").focus();
    }
    var n = parseInt(e.key, 10);
    if (n > 0 && n < 9) {
      htmx.ajax("GET", "/registers/" + n, "#main");
    }
  });
  fetch("/api/stock?since=" + Date.now()).then(function (r) { return r.json(); });
  var tpl = "<a href=\"/products/new\">New product</a>";
</script>
</body>
</html>
`)
	return b.Bytes()
}

func BenchmarkRewrite(b *testing.B) {
	r := newTestRewriter(b, benchConfig)
	page := benchPage()
	w := r.NewWriter(io.Discard, 3)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(io.Discard, 3)
		w.Write(page)
		w.Close()
	}
}

func BenchmarkRewriteSmallWrites(b *testing.B) {
	r := newTestRewriter(b, benchConfig)
	page := benchPage()
	chunks := splitEvery(page, 512)
	w := r.NewWriter(io.Discard, 3)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(io.Discard, 3)
		for _, c := range chunks {
			w.Write(c)
		}
		w.Close()
	}
}

// BenchmarkTokenize is the baseline: tokenizing the same page with the
// html package and copying each token's raw bytes, without rewriting.
func BenchmarkTokenize(b *testing.B) {
	page := benchPage()
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		z := html.NewTokenizer(bytes.NewReader(page))
		for z.Next() != html.ErrorToken {
			io.Discard.Write(z.Raw())
		}
	}
}

// TestWriterAllocations holds the writer to what the benchmarks show: no
// allocation per response in the steady state, also with the data-hx-
// spellings of htmx attributes in the page.
func TestWriterAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	r := newTestRewriter(t, benchConfig)
	page := append(benchPage(), `<div data-hx-get="/rows" DATA-HX-POST='/cart' data-hx-delete=/x hx-push-url="true"></div>`...)
	w := r.NewWriter(io.Discard, 3)
	for _, chunk := range []int{len(page), 512} {
		chunks := splitEvery(page, chunk)
		n := testing.AllocsPerRun(20, func() {
			w.Reset(io.Discard, 3)
			for _, c := range chunks {
				w.Write(c)
			}
			w.Close()
		})
		if n != 0 {
			t.Errorf("writes of %d bytes: got %v allocations per response, want 0", chunk, n)
		}
	}
	var out bytes.Buffer
	w.Reset(&out, 3)
	w.Write(page)
	w.Close()
	if !bytes.Contains(out.Bytes(), []byte(`data-hx-get="/3/rows" DATA-HX-POST='/3/cart' data-hx-delete=/3/x`)) {
		t.Errorf("the data-hx- attributes were not rewritten: %q", out.Bytes()[len(out.Bytes())-120:])
	}
}
