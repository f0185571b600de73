package nftables

// text is a part of a script (the header and declarations, a chain's
// rules) as it is written, in blocks: it is never copied to grow, only
// once into the script, whose size is known when every part is written.
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

// adopt moves u's blocks to the end of t, without copying them, and
// leaves u empty.
func (t *text) adopt(u *text) {
	t.blocks = append(t.blocks, u.blocks...)
	t.n += u.n
	*u = text{}
}

// copyTo copies the text to the start of dst and returns the rest of dst.
func (t *text) copyTo(dst []byte) []byte {
	for _, bl := range t.blocks {
		dst = dst[copy(dst, bl):]
	}
	return dst
}

// place is where a part of the script of a known size goes: a slice of
// the script with no length and the part's size as capacity. Writing past
// its end is a miscount: what does not fit is dropped, never moved
// elsewhere, and n no longer matches the size, which the caller turns
// into an error. A place without room (nil) counts what is written to it,
// to size the part first.
type place struct {
	b []byte
	n int // bytes written, or that would have been
}

func (p *place) fits(n int) bool {
	p.n += n
	return p.b != nil && len(p.b)+n <= cap(p.b)
}

func (p *place) Write(b []byte) (int, error) {
	if p.fits(len(b)) {
		p.b = append(p.b, b...)
	}
	return len(b), nil
}

func (p *place) WriteString(s string) (int, error) {
	if p.fits(len(s)) {
		p.b = append(p.b, s...)
	}
	return len(s), nil
}

func (p *place) WriteByte(c byte) error {
	if p.fits(1) {
		p.b = append(p.b, c)
	}
	return nil
}
