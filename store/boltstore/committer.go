package boltstore

import (
	"context"
	"slices"
	"sync"

	"github.com/tabkit/tabkit/store"
)

// maxBatch caps the ops one write transaction carries, so a burst does not
// turn into one huge transaction that holds its callers for long.
const maxBatch = 256

// op is one Commit, Move or Delete waiting for, or riding in, a write
// transaction.
type op struct {
	ctx   context.Context
	id    string
	delta *store.Delta // nil for a Delete
	// to is where a Move takes session id; "" for a Commit or Delete.
	to string

	// state is guarded by committer.mu.
	state opState
	// lead is closed when the op's caller is to lead the next round.
	lead chan struct{}
	// done is closed once meta, err and events are set.
	done chan struct{}
	meta store.Meta
	err  error
	// events are the sessions the op's transaction removed on its own,
	// for its caller to report once it has let go of the store.
	events removals
}

type opState int

const (
	opQueued  opState = iota
	opLeading         // queued, and its caller leads the next round
	opTaken           // in a round: it will complete whatever its ctx says
	opDone            // skipped before it was taken
)

func newOp(ctx context.Context, id string, d *store.Delta) *op {
	return &op{ctx: ctx, id: id, delta: d, lead: make(chan struct{}), done: make(chan struct{})}
}

func (o *op) finish(m store.Meta, err error) {
	o.meta, o.err = m, err
	close(o.done)
}

// committer gathers concurrent ops into shared write transactions, one
// fsync for many commits, without delaying a lone one. There is no timer:
// an op that finds no round running starts one at once (its caller is the
// leader); ops that arrive while a round runs queue up, and when the round
// ends the caller of the oldest queued op leads the next round, which
// takes everything queued by then. Leadership moves from caller to caller,
// so no caller runs more than one round beyond its own op, and the
// committer owns no goroutine.
type committer struct {
	// run executes one round and finishes every op in it.
	run func(batch []*op)

	// mu guards queue, leading and the state of queued ops.
	mu    sync.Mutex
	queue []*op
	// leading is true while some caller runs or is about to run a round;
	// when it is false the queue is empty.
	leading bool
}

// submit runs o in a round and returns its outcome. A caller whose
// context ends before its op is taken gets ctx.Err() and its op never
// runs; once taken, the op completes.
func (c *committer) submit(o *op) (store.Meta, error) {
	c.mu.Lock()
	c.queue = append(c.queue, o)
	leader := !c.leading
	if leader {
		c.leading = true
		o.state = opLeading
	}
	c.mu.Unlock()

	if !leader {
		select {
		case <-o.done:
			return o.meta, o.err
		case <-o.lead:
		case <-o.ctx.Done():
			if c.abandon(o) {
				return store.Meta{}, o.ctx.Err()
			}
			<-o.done
			return o.meta, o.err
		}
	}
	c.leadRound()
	<-o.done
	return o.meta, o.err
}

// abandon takes o out of the queue unless a round has it already, and
// passes leadership on if o held it. It reports whether o was removed.
func (c *committer) abandon(o *op) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o.state != opQueued && o.state != opLeading {
		return false
	}
	if i := slices.Index(c.queue, o); i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
	}
	if o.state == opLeading {
		c.handOverLocked()
	}
	o.state = opDone
	return true
}

// leadRound takes up to maxBatch queued ops, runs them in one round, and
// hands leadership to the oldest op still queued.
func (c *committer) leadRound() {
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := make([]*op, 0, n)
	for _, o := range c.queue[:n] {
		if err := o.ctx.Err(); err != nil {
			o.state = opDone
			o.finish(store.Meta{}, err)
			continue
		}
		o.state = opTaken
		batch = append(batch, o)
	}
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()

	if len(batch) > 0 {
		c.run(batch)
	}

	c.mu.Lock()
	c.handOverLocked()
	c.mu.Unlock()
}

// handOverLocked makes the oldest queued op's caller the next leader, or
// records that no round is running. c.mu is held.
func (c *committer) handOverLocked() {
	if len(c.queue) == 0 {
		c.leading = false
		return
	}
	next := c.queue[0]
	next.state = opLeading
	close(next.lead)
}

// queued returns the number of ops waiting for a round.
func (c *committer) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}
