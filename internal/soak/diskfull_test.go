package soak

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// tmpfsSize is the size of the file system the disk-full test fills.
const tmpfsSize = "4m"

// mountTmpfs mounts a small tmpfs for the test and unmounts it when the
// test ends. It skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the disk-full test mounts a tmpfs, which needs root")
	}
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	// Registered after t.TempDir, so it runs before the directory is
	// removed, and before any demo started later is killed.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillFS writes a ballast file in dir until the file system refuses more
// (ENOSPC), so nothing is left for anyone else.
func fillFS(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	// Large writes first, then pages, so the last free page goes too. The
	// loop is bounded by the size of the file system.
	for _, chunk := range []int{1 << 20, int(st.Bsize)} {
		buf := make([]byte, chunk)
		for range int(st.Blocks*uint64(st.Bsize))/chunk + 1 {
			if _, err = f.Write(buf); err != nil {
				break
			}
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("filling %s: got %v, want ENOSPC", dir, err)
		}
	}
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail != 0 {
		t.Fatalf("%s still has %d blocks free after filling", dir, st.Bavail)
	}
	return path
}

var noSpaceLine = regexp.MustCompile(`level=ERROR .*no space left on device`)

// maxGrowingAdds bounds the adds tried on a full file system: each puts
// a new line in a cart, so the data keeps growing and bbolt soon needs a
// page the file system cannot give.
const maxGrowingAdds = 3000

// TestDiskFull puts the database on a small tmpfs and fills it: adds then
// fail with 503 and Retry-After and the demo logs why, reads keep
// answering with the data stored before, and once space is freed the
// refused add goes through. The file passes bbolt's check afterwards.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t)
	db := filepath.Join(dir, "tabkit.db")
	d := startDemo(t, demoConfig{db: db})
	b := newBrowser(t, demoproc.NewTransport(t, 4), d.URL())
	b.SignIn(testPIN, "Ann")
	tabs := []int{0}
	for range 7 {
		tabs = append(tabs, b.OpenTab())
	}
	// acked and refused count adds by tab and product.
	acked, refused := map[int]cart{}, map[int]cart{}
	for _, tab := range tabs {
		acked[tab], refused[tab] = cart{}, cart{}
		got, err := b.Add(tab, skus[tab%len(skus)], 2)
		if err != nil || !isAck(got, tab) {
			t.Fatalf("add before filling: %v, %d to %q", err, got.Status, got.Location())
		}
		acked[tab][skus[tab%len(skus)]] += 2
	}

	ballast := fillFS(t, dir)

	// Keep adding new products until one add is refused.
	var failedTab int
	var failedSKU string
	var failed demoproc.Answer
	for i := range maxGrowingAdds {
		tab, sku := tabs[i%len(tabs)], catalogSKUs[(i/len(tabs))%len(catalogSKUs)]
		got, err := b.Add(tab, sku, 1)
		if err != nil {
			t.Fatalf("add %d on a full disk: %v", i, err)
		}
		if isAck(got, tab) {
			acked[tab][sku]++
			continue
		}
		refused[tab][sku]++
		failed, failedTab, failedSKU = got, tab, sku
		t.Logf("add %d on a full file system refused: %d", i, got.Status)
		break
	}
	if failed.Status == 0 {
		t.Fatalf("%d adds on a full file system all succeeded", maxGrowingAdds)
	}
	if failed.Status != http.StatusServiceUnavailable {
		t.Fatalf("add on a full disk: got %d, want 503\n%s", failed.Status, failed.Body)
	}
	if failed.Header.Get("Retry-After") == "" {
		t.Error("the 503 has no Retry-After")
	}
	if line, ok := d.Log().WaitFor(noSpaceLine, 5*time.Second); !ok {
		t.Errorf("the demo logged no error mentioning the full disk:\n%s", d.Log().Tail(20))
	} else {
		t.Logf("the demo logged: %s", line)
	}

	// Reads still answer, with what was stored before.
	checkCarts(t, b, tabs, acked, refused)
	// The demo commits an add and its flash together, so a refused add
	// left nothing behind: a retry will not count it twice.
	if got, want := b.Cart(failedTab)[failedSKU], acked[failedTab][failedSKU]; got != want {
		t.Errorf("cart of tab %d after the refused add of %s: got quantity %d, want %d", failedTab, failedSKU, got, want)
	}
	for _, tab := range tabs {
		page := b.Get(demoproc.TabPath(tab, "/"))
		demoproc.MustStatus(t, fmt.Sprintf("register page %d on a full disk", tab), page, http.StatusOK)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	got, err := b.Add(failedTab, failedSKU, 1)
	if err != nil || !isAck(got, failedTab) {
		t.Fatalf("the refused add once space is free: %v, %d to %q\n%s", err, got.Status, got.Location(), got.Body)
	}
	acked[failedTab][failedSKU]++
	checkCarts(t, b, tabs, acked, refused)
	other := newBrowser(t, demoproc.NewTransport(t, 1), d.URL())
	other.SignIn(testPIN, "Bob")

	d.Stop()
	checkDB(t, db)
	if stats, listed := storedSessions(t, db); stats.Sessions != 2 || listed != 2 {
		t.Errorf("%d sessions counted, %d listed; want 2", stats.Sessions, listed)
	}
}

// checkCarts checks every tab's cart holds each acknowledged add, and at
// most the refused ones beyond: the demo commits an add's cart change
// before the rest of the request, so a request refused late may have
// added its item all the same.
func checkCarts(t *testing.T, b *demoproc.Browser, tabs []int, acked, refused map[int]cart) {
	t.Helper()
	for _, tab := range tabs {
		got := b.Cart(tab)
		for sku, n := range got {
			if lo, hi := acked[tab][sku], acked[tab][sku]+refused[tab][sku]; n < lo || n > hi {
				t.Errorf("tab %d: %s × %d, want %d to %d", tab, sku, n, lo, hi)
			}
		}
		for sku, n := range acked[tab] {
			if got[sku] == 0 {
				t.Errorf("tab %d: %s × %d acknowledged, none in the cart", tab, sku, n)
			}
		}
	}
}
