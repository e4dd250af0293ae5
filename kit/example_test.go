package kit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

// client is a browser: it keeps cookies and shows redirects instead of
// following them.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func show(resp *http.Response, err error) {
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		fmt.Println(resp.StatusCode, "→", loc)
		return
	}
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
}

// Two tabs of one browser keep their own carts, through net/http.
func ExampleManager_Wrap() {
	mem := store.NewMemory()
	defer mem.Close()
	m, err := kit.New(kit.Config{Store: mem})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		var items []string
		if _, err := kit.SessionOf(r).Tab().Get("cart", &items); err != nil {
			kit.Fail(w, r, err)
			return
		}
		fmt.Fprintf(w, "tab %d: %v", kit.SessionOf(r).Tab().ID(), items)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		var items []string
		err := kit.SessionOf(r).Tab().Update("cart", &items, func() error {
			items = append(items, r.FormValue("item"))
			return nil
		})
		if err != nil {
			kit.Fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()

	browser := client()
	show(browser.PostForm(srv.URL+"/0/cart", url.Values{"item": {"tea"}}))
	show(browser.Get(srv.URL + "/+/cart")) // a new tab
	show(browser.PostForm(srv.URL+"/1/cart", url.Values{"item": {"cake"}}))
	show(browser.Get(srv.URL + "/0/cart"))
	show(browser.Get(srv.URL + "/1/cart"))
	// Output:
	// 303 → /0/cart
	// 303 → /1/cart
	// 303 → /1/cart
	// 200 tab 0: [tea]
	// 200 tab 1: [cake]
}

// The same on Echo: Install puts the kit in front of routing, so routes
// are registered without the tab number.
func ExampleManager_Install() {
	mem := store.NewMemory()
	defer mem.Close()
	m, err := kit.New(kit.Config{Store: mem})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	e := echo.New()
	if err := m.Install(e); err != nil {
		panic(err)
	}
	e.GET("/hello", kit.Handler(func(c *kit.Context) error {
		var name string
		if _, err := c.Session().Get("name", &name); err != nil {
			return err
		}
		return c.HTML(http.StatusOK, `<a href="/hello">Hello, `+name+`</a>`)
	}))
	e.POST("/name", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Set("name", c.FormValue("name")); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/hello")
	}))
	srv := httptest.NewServer(e)
	defer srv.Close()

	browser := client()
	show(browser.Get(srv.URL + "/hello")) // a bare URL goes to a tab
	show(browser.PostForm(srv.URL+"/0/name", url.Values{"name": {"Ann"}}))
	show(browser.Get(srv.URL + "/0/hello")) // links in a tab's HTML stay in it
	// Output:
	// 303 → /0/hello
	// 303 → /0/hello
	// 200 <a href="/0/hello">Hello, Ann</a>
}

// A handler that reads a key and writes it back is refused when another
// request changed the key meanwhile: the client gets 409, never a 2xx
// for a write that was then lost. Update avoids the conflict.
func ExampleErrConflict() {
	mem := store.NewMemory()
	defer mem.Close()
	m, _ := kit.New(kit.Config{Store: mem})
	defer m.Close()
	started, proceed := make(chan bool), make(chan bool)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		s := kit.SessionOf(r)
		var n int
		_, _ = s.Get("n", &n)
		started <- true
		<-proceed // another request changes n meanwhile
		if err := s.Set("n", n+1); err != nil {
			kit.Fail(w, r, err)
			return
		}
		fmt.Fprint(w, "slow done")
	})
	mux.HandleFunc("POST /fast", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_ = kit.SessionOf(r).Update("n", &n, func() error { n += 10; return nil })
		fmt.Fprint(w, "fast done")
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()
	browser := client()
	show(browser.Post(srv.URL+"/0/fast", "", nil))
	done := make(chan bool)
	go func() {
		resp, err := browser.Post(srv.URL+"/0/slow", "", nil)
		if err == nil {
			fmt.Println(resp.StatusCode)
			resp.Body.Close()
		}
		done <- true
	}()
	<-started
	show(browser.Post(srv.URL+"/0/fast", "", nil))
	proceed <- true
	<-done
	// Output:
	// 200 fast done
	// 200 fast done
	// 409
}
