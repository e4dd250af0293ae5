package tabs

import (
	"io"
	"sync"
)

// Writer rewrites an HTML response on its way to dst, putting the tab
// prefix into the URLs of the tags it streams through. It scans the bytes
// once, copies everything it does not change as is, and buffers no more
// than one tag (up to MaxTagBytes) when a tag arrives split across Write
// calls. It must be closed to flush that tail. A Writer is not safe for
// concurrent use.
type Writer struct {
	r   *Rewriter
	dst io.Writer
	err error

	// prefix is "/N" for the writer's tab, kept in prefixBuf. The buffer
	// is a little longer than any prefix so that insertPrefix can copy
	// all of it with two stores instead of a call to memmove.
	prefix    []byte
	prefixBuf [prefixBufSize]byte

	mode    scanMode
	script  scriptState
	rawName string // lower-case name of the element whose end tag ends raw text
	comment commentState
	tag     tagState

	// flushed is the index in the buffer being scanned up to which output
	// has been emitted.
	flushed int
	buf     *buffers
	warned  bool
	closed  bool
}

// buffers are the allocations of a Writer, pooled across responses.
type buffers struct {
	out     []byte     // output collected between writes to dst
	carry   []byte     // bytes of a construct that a Write call split
	decoded []byte     // an attribute value with references decoded
	value   []byte     // a rewritten attribute value, escaped and quoted
	attrs   []attrSpan // candidate attributes of the current tag
	points  []int      // where prefixes go in the current value
	spans   []span     // srcset candidates of the current value
}

const (
	// outBufferSize bounds the output collected from small pieces before a
	// write to dst, so that a page with many links costs few writes.
	outBufferSize = 4 << 10
	// maxPooledBytes keeps unusually large buffers out of the pool.
	maxPooledBytes = 64 << 10
)

var buffersPool = sync.Pool{New: func() any {
	return &buffers{out: make([]byte, 0, outBufferSize)}
}}

// NewWriter returns a Writer that rewrites the HTML written to it for tab
// id and writes the result to dst. Close flushes it; Close does not close
// dst. id should not exceed the Rewriter's MaxID, or the prefixes it
// writes will not be recognised as prefixes.
func (r *Rewriter) NewWriter(dst io.Writer, id ID) *Writer {
	w := &Writer{r: r}
	w.Reset(dst, id)
	return w
}

// Reset discards the Writer's state, including any unflushed tail, and
// makes it write to dst for tab id, so that one Writer can serve many
// responses.
func (w *Writer) Reset(dst io.Writer, id ID) {
	buf := w.buf
	if buf != nil {
		buf.out = buf.out[:0]
		buf.carry = buf.carry[:0]
		buf.attrs = buf.attrs[:0]
	}
	*w = Writer{r: w.r, dst: dst, buf: buf}
	w.prefix = appendID(w.prefixBuf[:0], id)
}

// Write rewrites p and writes the result to dst, except for the start of a
// construct that p leaves incomplete, which waits for the next Write or
// Close. It reports len(p) unless dst failed, in which case it returns the
// error from dst, also on every later call.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.buf == nil {
		w.buf = buffersPool.Get().(*buffers)
	}
	n := len(p)
	if len(w.buf.carry) > 0 {
		p = w.joinCarry(p)
	}
	if len(p) > 0 {
		if done := w.scan(p); done < len(p) {
			w.buf.carry = append(w.buf.carry[:0], p[done:]...)
		}
	}
	w.flushOut()
	if w.err != nil {
		return 0, w.err
	}
	return n, nil
}

// joinCarry continues the construct held in the carry with the first bytes
// of p, a few at a time so that the bytes copied stay few, until the
// construct is complete. It returns the part of p still to be scanned.
func (w *Writer) joinCarry(p []byte) []byte {
	b := w.buf
	for len(p) > 0 {
		old := len(b.carry)
		take := w.joinStep(p, old)
		b.carry = append(b.carry, p[:take]...)
		done := w.scan(b.carry)
		if done >= old {
			// The carried construct is complete. What scan left over came
			// from p and is scanned again in place.
			b.carry = b.carry[:0]
			return p[done-old:]
		}
		b.carry = b.carry[:copy(b.carry, b.carry[done:])]
		p = p[take:]
	}
	return p
}

// joinStep returns how many bytes of p to add to a carry of carried bytes.
// A tag can only end at a '>', and its length is capped, so a tag takes
// bytes up to the next '>' and never more than the cap; anything else
// needs a few bytes of lookahead only.
func (w *Writer) joinStep(p []byte, carried int) int {
	if w.mode != modeTag {
		return min(len(p), 16)
	}
	take := len(p)
	for i, c := range p {
		if c == '>' {
			take = i + 1
			break
		}
	}
	return min(take, max(1, w.r.maxTagBytes+1-carried))
}

// Close writes out whatever a construct left incomplete at the end of the
// response, unchanged, as an HTML parser would see it at end of input. It
// does not close dst. It returns the first error from dst, if any.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.buf == nil {
		return w.err
	}
	if w.err == nil {
		w.emit(w.buf.carry)
		w.flushOut()
	}
	w.release()
	return w.err
}

// release returns the buffers to the pool.
func (w *Writer) release() {
	b := w.buf
	w.buf = nil
	if cap(b.carry) > maxPooledBytes || cap(b.decoded) > maxPooledBytes || cap(b.value) > maxPooledBytes {
		return
	}
	b.out, b.carry, b.attrs = b.out[:0], b.carry[:0], b.attrs[:0]
	buffersPool.Put(b)
}

// emit queues p for dst, writing directly what is too large to queue.
func (w *Writer) emit(p []byte) {
	if len(p) == 0 || w.err != nil {
		return
	}
	b := w.buf
	if len(b.out)+len(p) <= cap(b.out) {
		b.out = append(b.out, p...)
		return
	}
	w.flushOut()
	if len(p) < cap(b.out)/2 {
		b.out = append(b.out, p...)
		return
	}
	if w.err == nil {
		_, w.err = w.dst.Write(p)
	}
}

// flushOut writes the queued output to dst.
func (w *Writer) flushOut() {
	b := w.buf
	if len(b.out) > 0 && w.err == nil {
		_, w.err = w.dst.Write(b.out)
	}
	b.out = b.out[:0]
}

// emitUpTo emits the bytes of buf not yet emitted before index end.
func (w *Writer) emitUpTo(buf []byte, end int) {
	p := buf[w.flushed:end]
	w.flushed = end
	if b := w.buf; len(b.out)+len(p) <= cap(b.out) {
		b.out = append(b.out, p...)
		return
	}
	w.emit(p)
}

// prefixBufSize holds the longest prefix, '/' and maxIDDigits digits.
const prefixBufSize = 16

var _ [prefixBufSize - 1 - maxIDDigits]struct{} // fails to compile if too short

// insertPrefix emits the bytes of buf not yet emitted before index at,
// then the tab prefix.
func (w *Writer) insertPrefix(buf []byte, at int) {
	p := buf[w.flushed:at]
	w.flushed = at
	if b := w.buf; len(b.out)+len(p)+prefixBufSize <= cap(b.out) {
		b.out = append(b.out, p...)
		n := len(b.out)
		*(*[prefixBufSize]byte)(b.out[n : n+prefixBufSize]) = w.prefixBuf
		b.out = b.out[:n+len(w.prefix)]
		return
	}
	w.emit(p)
	w.emit(w.prefix)
}

// overflow gives up on rewriting: the current tag is longer than
// MaxTagBytes, so it and everything after it pass through unchanged.
func (w *Writer) overflow() {
	w.mode = modePassthrough
	w.buf.attrs = w.buf.attrs[:0]
	if !w.warned {
		w.warned = true
		w.r.warn("tabs: tag longer than MaxTagBytes; the rest of the response is not rewritten",
			"max_tag_bytes", w.r.maxTagBytes, "tab", string(w.prefix[1:]))
	}
}
