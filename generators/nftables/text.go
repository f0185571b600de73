package nftables

import "io"

// text is a large part of a script (a chain's rules, a flow set) as it is
// written, in blocks: it is never copied to grow, only once into the
// script, whose size is known when every part is written.
type text struct {
	blocks [][]byte
	n      int
}

// Blocks double from minBlock to maxBlock: a small script stays small,
// and a large one wastes at most the end of each block.
const minBlock, maxBlock = 4 << 10, 256 << 10

// room returns the last block, with room for n more bytes.
func (t *text) room(n int) *[]byte {
	if k := len(t.blocks); k > 0 && cap(t.blocks[k-1])-len(t.blocks[k-1]) >= n {
		return &t.blocks[k-1]
	}
	t.blocks = append(t.blocks, make([]byte, 0, max(n, min(maxBlock, max(minBlock, t.n)))))
	return &t.blocks[len(t.blocks)-1]
}

func (t *text) WriteString(s string) (int, error) {
	b := t.room(len(s))
	*b = append(*b, s...)
	t.n += len(s)
	return len(s), nil
}

func (t *text) Write(p []byte) (int, error) {
	b := t.room(len(p))
	*b = append(*b, p...)
	t.n += len(p)
	return len(p), nil
}

func (t *text) WriteByte(c byte) error {
	b := t.room(1)
	*b = append(*b, c)
	t.n++
	return nil
}

// Len is the number of bytes written.
func (t *text) Len() int { return t.n }

// writeTo copies the text to w (a bytes.Buffer or another text, which
// do not fail).
func (t *text) writeTo(w io.Writer) {
	for _, bl := range t.blocks {
		w.Write(bl)
	}
}
