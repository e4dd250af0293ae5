package failover

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// cluster is a Redis Cluster of its own for one test, run by
// scripts/redis-cluster.sh on free loopback ports in a temporary
// directory: three masters, three replicas. It is stopped when the test
// ends.
type cluster struct {
	tb     testing.TB
	script string
	env    []string
	ports  []int
	url    string
}

// startCluster starts a cluster and waits until it is whole.
func startCluster(tb testing.TB) *cluster {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not installed")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "redis-cluster.sh"))
	if err != nil {
		tb.Fatal(err)
	}
	base := freeBase(tb)
	c := &cluster{
		tb:     tb,
		script: script,
		env: append(os.Environ(),
			"TABKIT_REDIS_CLUSTER_PORT="+strconv.Itoa(base),
			"TABKIT_REDIS_CLUSTER_DIR="+tb.TempDir()),
	}
	for i := range 6 {
		c.ports = append(c.ports, base+i)
	}
	tb.Cleanup(func() { c.run("stop") })
	c.url = c.run("start")
	return c
}

// freeBase finds six free loopback ports whose cluster bus ports (each
// + 10000) are free too, apart from the shared test cluster's 7390.
func freeBase(tb testing.TB) int {
	tb.Helper()
	for base := 7490; base < 8000; base += 10 {
		free := true
		for i := range 6 {
			for _, p := range []int{base + i, base + i + 10000} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					free = false
					break
				}
				_ = l.Close()
			}
		}
		if free {
			return base
		}
	}
	tb.Fatal("no six free loopback ports between 7490 and 8000")
	return 0
}

// run runs the script with cmd and returns what it printed.
func (c *cluster) run(cmd string) string {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", c.script, cmd)
	run.Env = c.env
	out, err := run.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		c.tb.Fatalf("redis-cluster.sh %s: %v\n%s", cmd, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// heal starts the nodes that are down and waits until the cluster is
// whole again, every master with a replica in sync.
func (c *cluster) heal() { c.run("start") }

// node is a line of CLUSTER NODES.
type node struct {
	id, addr, masterID string
	master, failed     bool
	slots              []string // "0-5460", "5461"…
}

// nodes returns the cluster as the first node that answers sees it.
func (c *cluster) nodes(ctx context.Context) ([]node, error) {
	var lastErr error
	for _, p := range c.ports {
		client := c.client(p)
		text, err := client.ClusterNodes(ctx).Result()
		_ = client.Close()
		if err != nil {
			lastErr = err
			continue
		}
		var nodes []node
		for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 {
				return nil, fmt.Errorf("CLUSTER NODES line %q", line)
			}
			addr, _, _ := strings.Cut(f[1], "@")
			nodes = append(nodes, node{
				id: f[0], addr: addr, masterID: f[3],
				master: strings.Contains(f[2], "master"),
				failed: strings.Contains(f[2], "fail"),
				slots:  f[8:],
			})
		}
		return nodes, nil
	}
	return nil, fmt.Errorf("no node answers: %w", lastErr)
}

func (c *cluster) client(port int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second,
	})
}

func (c *cluster) clientAt(addr string) *redis.Client {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return c.client(p)
}

// pid returns the process ID of the node at addr.
func (c *cluster) pid(ctx context.Context, addr string) int {
	c.tb.Helper()
	client := c.clientAt(addr)
	defer client.Close()
	info, err := client.Info(ctx, "server").Result()
	if err != nil {
		c.tb.Fatalf("INFO of %s: %v", addr, err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			if pid, err := strconv.Atoi(v); err == nil {
				return pid
			}
		}
	}
	c.tb.Fatalf("no process_id in INFO of %s", addr)
	return 0
}

// signal sends sig to the process of a node: SIGKILL is a crash, with no
// goodbye to its replica or its clients; SIGSTOP freezes it.
func (c *cluster) signal(pid int, sig syscall.Signal) {
	c.tb.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		c.tb.Fatalf("kill -%d %d: %v", sig, pid, err)
	}
}

// isMaster reports whether the node at addr answers as a master.
func (c *cluster) isMaster(ctx context.Context, addr string) bool {
	client := c.clientAt(addr)
	defer client.Close()
	role, err := client.Do(ctx, "ROLE").Slice()
	return err == nil && len(role) > 0 && role[0] == "master"
}

// slotMasters maps each slot to its master's address, as the first node
// that answers sees it.
func (c *cluster) slotMasters(ctx context.Context) (map[int]string, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int]string, 16384)
	for _, n := range nodes {
		if !n.master || n.failed {
			continue
		}
		for _, r := range n.slots {
			from, to, isRange := strings.Cut(r, "-")
			if !isRange {
				to = from
			}
			a, err1 := strconv.Atoi(from)
			b, err2 := strconv.Atoi(to)
			if err1 != nil || err2 != nil {
				continue // a slot being migrated: [slot->-id]
			}
			for slot := a; slot <= b; slot++ {
				m[slot] = n.addr
			}
		}
	}
	if len(m) != 16384 {
		return nil, fmt.Errorf("%d of 16384 slots have a master", len(m))
	}
	return m, nil
}

// slotOf asks the first node that answers for key's slot.
func (c *cluster) slotOf(ctx context.Context, key string) (int, error) {
	var lastErr error
	for _, p := range c.ports {
		client := c.client(p)
		slot, err := client.ClusterKeySlot(ctx, key).Result()
		_ = client.Close()
		if err == nil {
			return int(slot), nil
		}
		lastErr = err
	}
	return 0, fmt.Errorf("no node answers: %w", lastErr)
}

// keysOn returns the keys under prefix on the master at addr.
func (c *cluster) keysOn(ctx context.Context, addr, prefix string) ([]string, error) {
	client := c.clientAt(addr)
	defer client.Close()
	var keys []string
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}
