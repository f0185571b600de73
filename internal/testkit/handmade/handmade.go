// Package handmade holds tables inet portwall as people change them by
// hand, one nftables construct each: what apply must be able to put back
// exactly when a change is not confirmed (or refuse to start).
package handmade

import (
	"regexp"
	"strings"

	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// A Table is an nft script that creates table inet portwall holding one
// construct (or, in Everything, all of them at once).
type Table struct {
	Name string
	// Script is loaded with nft -f into a namespace without the table.
	Script string
	// Device: the construct needs a network device of this name (a veth
	// is made).
	Device string
}

// Tables: each construct of issue 12, item 7.
var Tables = []Table{
	{Name: "vmap-jump", Script: `
table inet portwall {
	chain side {
		accept
	}
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport vmap { 7777 : jump side, 7778 : goto side }
	}
}`},
	{Name: "named-vmap", Script: `
table inet portwall {
	chain side {
		counter packets 3 bytes 120 accept
	}
	map m_vmap {
		type inet_service : verdict
		elements = { 7777 : jump side, 8888 : drop }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport vmap @m_vmap
	}
}`},
	{Name: "chains", Script: `
table inet portwall {
	chain regular {
		comment "a regular chain"
		ip saddr 10.0.0.0/8 return
		accept
	}
	chain input {
		comment "a base chain"
		type filter hook input priority -5; policy drop;
		jump regular
	}
	chain out {
		type filter hook output priority 10; policy accept;
		goto regular
	}
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		notrack
	}
}`},
	{Name: "anonymous-chains", Script: `
table inet portwall {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 jump {
			counter packets 1 bytes 60
			ip saddr 10.0.0.0/8 accept
			drop
		}
		udp dport 53 goto {
			accept
		}
	}
}`},
	{Name: "set-timeout", Script: `
table inet portwall {
	set s_timeout {
		type ipv4_addr
		flags timeout
		timeout 1h
		elements = { 10.0.0.1 timeout 30m, 10.0.0.2, 10.0.0.3 timeout 10m }
	}
}`},
	{Name: "set-dynamic", Script: `
table inet portwall {
	set s_dyn {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 1m
	}
	chain input {
		type filter hook input priority filter; policy accept;
		update @s_dyn { ip saddr timeout 30s }
		add @s_dyn { ip saddr }
	}
}`},
	{Name: "set-interval", Script: `
table inet portwall {
	set s_interval {
		type ipv4_addr
		flags interval
		auto-merge
		comment "set comment"
		elements = { 10.0.0.0/8, 172.16.0.0-172.16.3.255, 192.168.0.0/16 comment "element comment" }
	}
	set s_concat {
		type ipv4_addr . inet_service
		flags interval
		elements = { 10.0.0.0/8 . 20-30 comment "x", 192.0.2.1 . 443 }
	}
	set s_constant {
		type ipv6_addr
		flags constant
		elements = { 2001:db8::1, 2001:db8::2 }
	}
}`},
	{Name: "set-counter", Script: `
table inet portwall {
	set s_counter {
		type inet_service
		counter
		elements = { 22 counter packets 3 bytes 180, 80 counter packets 0 bytes 0 }
	}
}`},
	{Name: "maps", Script: `
table inet portwall {
	counter c80 {
		packets 1 bytes 2
	}
	map m_data {
		type ipv4_addr : mark
		elements = { 10.1.1.1 : 0x00000001, 10.1.1.2 : 0x00000002 }
	}
	map m_objref {
		type inet_service : counter
		elements = { 80 : "c80" }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		meta mark set ip saddr map @m_data
		counter name tcp dport map @m_objref
	}
}`},
	{Name: "counters", Script: `
table inet portwall {
	counter cnt1 {
		comment "named counter"
		packets 5 bytes 300
	}
	chain input {
		type filter hook input priority filter; policy accept;
		counter name "cnt1"
		counter packets 10 bytes 1000 accept comment "anonymous counter"
	}
}`},
	{Name: "quotas", Script: `
table inet portwall {
	quota q1 {
		over 100 mbytes used 10 mbytes
	}
	chain input {
		type filter hook input priority filter; policy accept;
		quota name "q1" drop
		quota over 100 mbytes used 12 kbytes drop
		quota until 500 mbytes accept
	}
}`},
	{Name: "limits", Script: `
table inet portwall {
	limit lim1 {
		rate 10/second burst 7 packets
	}
	limit lim2 {
		rate over 1 mbytes/second burst 10 kbytes
	}
	chain input {
		type filter hook input priority filter; policy accept;
		limit name "lim1" accept
		limit rate 10/second burst 20 packets accept
		limit rate over 5/minute drop
	}
}`},
	{Name: "ct-helper", Script: `
table inet portwall {
	ct helper ftp-standard {
		type "ftp" protocol tcp
		l3proto inet
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-standard"
		ct count over 5 drop
	}
}`},
	{Name: "flowtable", Device: "pwft0", Script: `
table inet portwall {
	flowtable ft {
		hook ingress priority filter
		devices = { pwft0 }
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto tcp flow add @ft
	}
}`},
	{Name: "comments", Script: `
table inet portwall {
	comment "table comment"
	set s {
		type ipv4_addr
		comment "set comment"
		elements = { 10.0.0.1 comment "element comment" }
	}
	chain input {
		comment "chain comment"
		type filter hook input priority filter; policy drop;
		tcp dport 22 accept comment "rule comment"
	}
}`},
	{Name: "unreadable-expressions", Script: `
table inet portwall {
	chain input {
		type filter hook input priority filter; policy accept;
		socket transparent 1 accept
		meta mark set 0x10 ct mark set meta mark
		log prefix "p: " level info
		reject with icmpx admin-prohibited
	}
}`},
}

// Everything is all the constructs in one table (but the flowtable, which
// needs a kernel built with it).
func Everything() Table {
	var b strings.Builder
	b.WriteString("table inet portwall {\n")
	for _, t := range Tables {
		if t.Device != "" {
			continue
		}
		body := t.Script[strings.Index(t.Script, "{")+1 : strings.LastIndex(t.Script, "}")]
		// Every table has its own chains and sets: prefix their names.
		body = names.ReplaceAllString(body, "${1}"+strings.ReplaceAll(t.Name, "-", "_")+"_${2}")
		body = refs.ReplaceAllString(body, "${1}"+strings.ReplaceAll(t.Name, "-", "_")+"_${2}")
		b.WriteString(body)
	}
	b.WriteString("}\n")
	return Table{Name: "everything", Script: b.String()}
}

var (
	names = regexp.MustCompile(`(?m)(^\t(?:chain|set|map|counter|quota|limit|ct helper|flowtable) )([a-z0-9_-]+)`)
	refs  = regexp.MustCompile(`((?:jump|goto) |@|name "|set "|: ")([a-z0-9_-]+)`)
)

// Load creates the table in ns (and the device it needs). It reports
// false when the kernel lacks the construct (flowtables need
// CONFIG_NF_FLOW_TABLE), with nft's message.
func (t Table) Load(ns *kerneltest.Netns) (bool, string) {
	if t.Device != "" {
		ns.MustRun("ip", "link", "add", t.Device, "type", "veth", "peer", "name", t.Device+"p")
	}
	out, err := ns.RunStdin([]byte(t.Script), "nft", "-f", "-")
	if err != nil {
		return false, out
	}
	return true, ""
}

// expires matches the time an element with a timeout has left, which
// changes while the test runs.
var expires = regexp.MustCompile(` expires [0-9hms]+`)

// Listing is `nft list table inet portwall` with the elements' remaining
// time masked.
func Listing(ns *kerneltest.Netns) string {
	return expires.ReplaceAllString(ns.MustRun("nft", "list", "table", "inet", "portwall"), " expires …")
}
