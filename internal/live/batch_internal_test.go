package live

import (
	"bytes"
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	nftgen "github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/nftables/nftparse"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// TestElementMessagesAsLibrary: the named sets' elements, which Batch
// encodes itself, are encoded byte for byte as github.com/google/nftables
// encodes them (AddSet with the elements), for every example host in
// both layouts: interval address sets, sets of ports and ICMP types, and
// the sets layout's concatenations with key ends and comments.
func TestElementMessagesAsLibrary(t *testing.T) {
	t.Parallel()
	sets := 0
	for _, f := range rulestest.Examples(t) {
		rs := rulestest.Ruleset(t, f)
		for _, layout := range []nftgen.Layout{nftgen.LayoutReadable, nftgen.LayoutSets} {
			for _, h := range rs.HostNames() {
				v, _ := rs.HostView(h)
				script, err := nftgen.Render(v, nftgen.Settings{Layout: layout})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := nftparse.Parse(script); err != nil {
					t.Fatal(err)
				}
				o, err := Compile(script)
				if err != nil {
					t.Fatal(err)
				}
				for i := range o.Sets {
					s := &o.Sets[i]
					if s.elems.Len() == 0 {
						continue
					}
					sets++
					var lib []netlink.Message
					nft, _ := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
						lib = append(lib, req...)
						return nil, nil
					}))
					ns := *s.Set
					ns.ID = 42
					if err := nft.AddSet(&ns, s.elems.setElements()); err != nil {
						t.Fatal(err)
					}
					if err := nft.Flush(); err != nil {
						t.Fatal(err)
					}
					var want []netlink.Message
					for _, m := range lib {
						if m.Header.Type == nftType(unix.NFT_MSG_NEWSETELEM) {
							want = append(want, m)
						}
					}
					got := elementMessages(t, s, 42)
					for k, m := range got {
						// A restore sends elements without a timeout as
						// they are.
						if a, b := agedElements(m.Data[4:], 1000), rebuiltElements(m.Data[4:], 1000); !bytes.Equal(a, b) {
							t.Fatalf("%s %s %s: message %d: agedElements gives\n%x\nrebuilt\n%x", f, h, s.Set.Name, k, a, b)
						}
					}
					if len(got) != len(want) {
						t.Fatalf("%s %s %s: %d element messages, the library %d", f, h, s.Set.Name, len(got), len(want))
					}
					for k := range got {
						if got[k].Header.Type != want[k].Header.Type || got[k].Header.Flags != want[k].Header.Flags || !bytes.Equal(got[k].Data, want[k].Data) {
							t.Fatalf("%s %s %s: message %d differs from the library's:\n got %x\nwant %x", f, h, s.Set.Name, k, got[k].Data, want[k].Data)
						}
					}
				}
			}
		}
	}
	if sets == 0 {
		t.Fatal("no set with elements")
	}
	t.Logf("%d sets", sets)
}

// TestLargeSetSplitsAsLibrary: a set too large for one message is split
// where the library splits it.
func TestLargeSetSplitsAsLibrary(t *testing.T) {
	t.Parallel()
	s := &SetObject{Set: &nftables.Set{Name: "in_tcp_v4", Table: table, KeyType: nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService), Concatenation: true, Interval: true}, elems: &elemList{}}
	for i := range 70000 {
		k := []byte{10, byte(i >> 16), byte(i >> 8), byte(i), 0, 22, 0, 0}
		s.elems.add(k, k, false, "pw:r0123456789ab allow[3]")
	}
	var lib []netlink.Message
	nft, _ := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		lib = append(lib, req...)
		return nil, nil
	}))
	ns := *s.Set
	ns.ID = 7
	if err := nft.AddSet(&ns, s.elems.setElements()); err != nil {
		t.Fatal(err)
	}
	if err := nft.Flush(); err != nil {
		t.Fatal(err)
	}
	got := elementMessages(t, s, 7)
	var want []netlink.Message
	for _, m := range lib {
		if m.Header.Type == nftType(unix.NFT_MSG_NEWSETELEM) {
			want = append(want, m)
		}
	}
	if len(got) < 2 || len(got) != len(want) {
		t.Fatalf("%d messages, the library %d (want more than one)", len(got), len(want))
	}
	for k := range got {
		if !bytes.Equal(got[k].Data, want[k].Data) {
			t.Fatalf("message %d differs from the library's", k)
		}
	}
}

// elementMessages encodes s's elements alone, as messages, and checks
// that elementMessagesSize knew their size: the batch's buffer is sized
// once.
func elementMessages(t *testing.T, s *SetObject, id uint32) []netlink.Message {
	t.Helper()
	w := &wireBatch{}
	appendElementMessages(w, s, id)
	if n, size := len(w.buf), elementMessagesSize(s); n != size {
		t.Errorf("set %s: %d bytes of element messages, elementMessagesSize says %d", s.Set.Name, n, size)
	}
	return w.messages()
}
