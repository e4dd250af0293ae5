package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLedger keeps sales in Redis, for -store redis://: every process of
// the shop then rings into, and lists, one ledger. Its keys share one hash
// tag, so on Redis Cluster they sit in one slot and a Lua script can
// change them together.
//
// Layout, under prefix P: P+"sales" hashes sale ID to JSON, P+"keys"
// hashes an idempotency key to a sale ID, P+"order" lists IDs in the
// order recorded, P+"totals" holds "count" and "cents".
type redisLedger struct {
	client                     *redis.Client
	prefix                     string
	sales, keys, order, totals string
}

// defaultLedgerPrefix keeps the ledger apart from the session store's
// "tabkit:" keys.
const defaultLedgerPrefix = "pos:{ledger}:"

// openRedisLedger connects to the Redis at url (the -store URL) with a
// connection of its own and checks it answers.
func openRedisLedger(url, prefix string) (*redisLedger, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("sales ledger: %w", err)
	}
	// As the session store does: fail within seconds when Redis is down.
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 2 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 2 * time.Second
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), opts.DialTimeout+opts.ReadTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("sales ledger: ping %s: %w", opts.Addr, err)
	}
	return &redisLedger{
		client: client, prefix: prefix,
		sales: prefix + "sales", keys: prefix + "keys", order: prefix + "order", totals: prefix + "totals",
	}, nil
}

// recordScript stores a sale unless its key is taken, in one step.
// KEYS: sales, keys, order, totals. ARGV: id, key, JSON, cents.
// It answers {1, prior JSON} for a taken key, {0, ""} when stored.
var recordScript = redis.NewScript(`
if ARGV[2] ~= '' then
  local prior = redis.call('HGET', KEYS[2], ARGV[2])
  if prior then return {1, redis.call('HGET', KEYS[1], prior)} end
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then
  return redis.error_reply('sale recorded twice')
end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[1]) end
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'count', 1)
redis.call('HINCRBY', KEYS[4], 'cents', ARGV[4])
return {0, ''}
`)

func (l *redisLedger) Record(ctx context.Context, sale Sale) (Sale, bool, error) {
	value, err := json.Marshal(sale)
	if err != nil {
		return Sale{}, false, err
	}
	res, err := recordScript.Run(ctx, l.client, []string{l.sales, l.keys, l.order, l.totals},
		sale.ID, sale.Key, value, sale.TotalCents).Slice()
	if err != nil {
		return Sale{}, false, fmt.Errorf("sales ledger: %w", err)
	}
	if len(res) != 2 {
		return Sale{}, false, fmt.Errorf("sales ledger: unexpected answer %v", res)
	}
	if n, _ := res[0].(int64); n == 1 {
		prior, _ := res[1].(string)
		s, found, err := decodeSale([]byte(prior), nil)
		if err == nil && !found {
			err = errors.New("sales ledger: a key names a missing sale")
		}
		return s, true, err
	}
	return sale, false, nil
}

func (l *redisLedger) Sale(ctx context.Context, id string) (Sale, bool, error) {
	raw, err := l.client.HGet(ctx, l.sales, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Sale{}, false, nil
	}
	return decodeSale(raw, err)
}

func (l *redisLedger) SaleByKey(ctx context.Context, key string) (Sale, bool, error) {
	id, err := l.client.HGet(ctx, l.keys, key).Result()
	if errors.Is(err, redis.Nil) {
		return Sale{}, false, nil
	}
	if err != nil {
		return Sale{}, false, fmt.Errorf("sales ledger: %w", err)
	}
	return l.Sale(ctx, id)
}

func (l *redisLedger) Recent(ctx context.Context, n int) ([]Sale, LedgerTotals, error) {
	var totals LedgerTotals
	if n <= 0 {
		n = 1 // LRANGE -0 would mean "from the start"
	}
	ids, err := l.client.LRange(ctx, l.order, int64(-n), -1).Result()
	if err != nil {
		return nil, totals, fmt.Errorf("sales ledger: %w", err)
	}
	t, err := l.client.HMGet(ctx, l.totals, "count", "cents").Result()
	if err != nil {
		return nil, totals, fmt.Errorf("sales ledger: %w", err)
	}
	totals.Sales, totals.Cents = redisInt(t[0]), redisInt(t[1])
	if len(ids) == 0 {
		return []Sale{}, totals, nil
	}
	values, err := l.client.HMGet(ctx, l.sales, ids...).Result()
	if err != nil {
		return nil, totals, fmt.Errorf("sales ledger: %w", err)
	}
	sales := make([]Sale, 0, len(values))
	for i := len(values) - 1; i >= 0; i-- {
		raw, _ := values[i].(string)
		s, found, err := decodeSale([]byte(raw), nil)
		if err != nil {
			return nil, totals, err
		}
		if found {
			sales = append(sales, s)
		}
	}
	return sales, totals, nil
}

// redisInt reads an HMGET field that holds a number, or nothing.
func redisInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func (l *redisLedger) Close() error { return l.client.Close() }
