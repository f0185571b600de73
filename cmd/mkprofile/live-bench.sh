#!/usr/bin/env bash
# The live side, before and after: `portwall apply --netns` and `portwall
# diff --netns` of two binaries side by side, against what nft itself takes
# for the same table (`nft -f` of the same script, `nft list table`), and
# `nft -f` of the readable layout against the sets layout. Root only: every
# table is loaded into a network namespace this script creates and deletes.
#
#   bash cmd/mkprofile/live-bench.sh [RUNS [BEFORE]]    # from the repository root
#
# RUNS (default 5) runs of each command, the binaries alternating run by
# run; BEFORE (default dd64214, the commit the live side was measured on in
# issue 18) is built from a temporary git worktree, "after" from the
# working tree. Each row prints the median wall time with its range
# (min-max), the largest max RSS of the runs (/usr/bin/time), and the
# ratio of the medians to nft's. The load average is printed with each row:
# the machine may be shared. LIVE_BENCH_SLOW=0 leaves out the rows whose
# "before" takes minutes (the groups shape at 10,000 rules and the readable
# layout of 5,000 group rules).
#
# Profiles: "simple" is N rules, each from its own /24 to one TCP port
# (the shape of Capirca's benchmarks: 10,000 rules, 10,000 set elements in
# the sets layout), written here; "groups" is `mkprofile -rules N -hosts 1
# -groups 50` (10,000 rules: 140,660 elements). apply runs into an empty
# namespace (the table deleted before each run, not timed); diff runs
# against the table nft -f loaded from the binary's own script (no drift).
set -euo pipefail

runs=${1:-5}
before_ref=${2:-dd64214}
slow=${LIVE_BENCH_SLOW:-1}
case $runs in
'' | *[!0-9]* | 0)
	echo "usage: bash cmd/mkprofile/live-bench.sh [RUNS [BEFORE]]" >&2
	exit 2
	;;
esac
if [ ! -f go.mod ] || [ ! -d cmd/mkprofile ]; then
	echo "live-bench.sh: run from the repository root" >&2
	exit 2
fi
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
for tool in nft ip /usr/bin/time; do
	if ! command -v "$tool" >/dev/null; then
		echo "live-bench.sh: $tool is missing (apt-get install -y nftables iproute2 time)" >&2
		exit 1
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "live-bench.sh: needs root (network namespaces)" >&2
	exit 1
fi

tmp=$(mktemp -d)
ns=pwlivebench$$
cleanup() {
	ip netns delete "$ns" 2>/dev/null || true
	if [ -d "$tmp/before-src" ]; then git worktree remove --force "$tmp/before-src" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/pw-after" ./cmd/portwall
go build -o "$tmp/mkprofile" ./cmd/mkprofile
git worktree add --quiet --detach "$tmp/before-src" "$before_ref"
(cd "$tmp/before-src" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/pw-before" ./cmd/portwall)
git worktree remove --force "$tmp/before-src"
ip netns add "$ns"

# simple N: N rules, each from its own /24 to one TCP port.
simple() {
	awk -v n="$1" 'BEGIN {
		print "[hosts.host-01]\naddresses = [\"10.224.0.10\", \"fd10::10\"]\n\n[groups]"
		for (i = 0; i < n; i++) printf "s-%05d = [\"10.%d.%d.0/24\"]\n", i + 1, int(i / 256), i % 256
		for (i = 0; i < n; i++) printf "\n[[allow]]\nfrom = \"s-%05d\"\nto = \"host-01\"\nprotocol = \"tcp\"\nports = [%d]\ncomment = \"rule %d\"\n", i + 1, 1024 + i % 50000, i + 1
	}'
}
simple 10000 >"$tmp/simple-10000.toml"
simple 5000 >"$tmp/simple-5000.toml"
"$tmp/mkprofile" -rules 10000 -hosts 1 -groups 50 >"$tmp/groups-10000.toml"
"$tmp/mkprofile" -rules 5000 -hosts 1 -groups 50 >"$tmp/groups-5000.toml"
"$tmp/mkprofile" -rules 1000 -hosts 1 -groups 50 >"$tmp/groups-1000.toml"

nsrun() { ip netns exec "$ns" "$@"; }
reset() { nsrun nft delete table inet portwall 2>/dev/null || true; }

# timed NAME CMD...: one run, its seconds and max RSS (KB) appended to
# $tmp/NAME. The time is the shell's clock around the run, to the
# microsecond (time's own %e counts in hundredths of a second, too coarse
# for nft -f of a few thousand rules); it includes starting time itself,
# the same for every command.
timed() {
	local name=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" || {
		echo "live-bench.sh: failed: $*" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v m="$(tail -n 1 "$tmp/t")" 'BEGIN { printf "%.6f %s\n", b - a, m }' >>"$tmp/$name"
}

# stats NAME: "median (min-max)" seconds, and the largest RSS in MiB.
stats() {
	sort -n "$tmp/$1" | awk '{ t[NR] = $1; if ($2 > m) m = $2 }
		END { med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			printf "%.3f (%.3f-%.3f)|%.0f|%.6f\n", med, t[1], t[NR], m / 1024, med }'
}

# row WHAT: one table row from the runs in $tmp/before, after, and the
# limit measured beside each (limit-before, limit-after: nft on each
# binary's own script or table).
row() {
	local what=$1 b a lb la
	b=$(stats before) a=$(stats after) lb=$(stats limit-before) la=$(stats limit-after)
	awk -v what="$what" -v b="$b" -v a="$a" -v lb="$lb" -v la="$la" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
		split(b, B, "|"); split(a, A, "|"); split(lb, LB, "|"); split(la, LA, "|")
		limit = (LB[1] == LA[1]) ? LA[1] " s" : LB[1] " s / " LA[1] " s"
		printf "| %s | %s s, %s MiB | %s s, %s MiB | %s | %.1fx | %.1fx | %s |\n", what, B[1], B[2], A[1], A[2], limit, B[3] / LB[3], A[3] / LA[3], load
	}'
	rm -f "$tmp/before" "$tmp/after" "$tmp/limit-before" "$tmp/limit-after"
}

# apply_row WHAT PROFILE LAYOUT: apply into an empty namespace, against nft
# -f of the same script (each binary's own).
apply_row() {
	local what=$1 profile=$2 layout=$3 i v
	for v in before after; do
		"$tmp/pw-$v" generate "$profile" --host host-01 --layout "$layout" >"$tmp/$v.nft"
	done
	for ((i = 0; i < runs; i++)); do
		for v in before after; do
			reset
			timed "$v" "$tmp/pw-$v" -q apply "$profile" --host host-01 --netns "$ns" --layout "$layout"
			reset
			timed "limit-$v" ip netns exec "$ns" nft -f "$tmp/$v.nft"
		done
	done
	row "$what"
}

# diff_row WHAT PROFILE LAYOUT: diff with no drift, against nft list table.
diff_row() {
	local what=$1 profile=$2 layout=$3 i v
	for v in before after; do
		"$tmp/pw-$v" generate "$profile" --host host-01 --layout "$layout" >"$tmp/$v.nft"
	done
	for ((i = 0; i < runs; i++)); do
		for v in before after; do
			reset
			nsrun nft -f "$tmp/$v.nft"
			timed "$v" "$tmp/pw-$v" diff "$profile" --host host-01 --netns "$ns" --layout "$layout"
			timed "limit-$v" ip netns exec "$ns" nft list table inet portwall
		done
	done
	row "$what"
}

# load_row WHAT PROFILE: nft -f of each binary's readable script, against
# nft -f of the sets layout.
load_row() {
	local what=$1 profile=$2 i v
	for v in before after; do
		"$tmp/pw-$v" generate "$profile" --host host-01 --layout readable >"$tmp/$v.nft"
	done
	"$tmp/pw-after" generate "$profile" --host host-01 --layout sets >"$tmp/sets.nft"
	for ((i = 0; i < runs; i++)); do
		for v in before after; do
			reset
			timed "$v" ip netns exec "$ns" nft -f "$tmp/$v.nft"
			reset
			timed "limit-$v" ip netns exec "$ns" nft -f "$tmp/sets.nft"
		done
	done
	row "$what"
}

echo "portwall live side: before $before_ref, after $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (uncommitted changes)'); $(go version | cut -d' ' -f3); $(nft --version); kernel $(uname -r)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $runs runs each, binaries alternating"
echo
echo "| What | before: median (min-max), max RSS | after | the limit (nft) | before/limit | after/limit | load average |"
echo "|---|---|---|---|---|---|---|"
apply_row "apply --netns, 10,000 simple rules (sets layout), limit nft -f" "$tmp/simple-10000.toml" sets
if [ "$slow" = 1 ]; then
	apply_row "apply --netns, mkprofile -rules 10000 -groups 50 (sets, 140,660 elements), limit nft -f" "$tmp/groups-10000.toml" sets
fi
diff_row "diff --netns, 10,000 simple rules (sets), limit nft list table" "$tmp/simple-10000.toml" sets
if [ "$slow" = 1 ]; then
	diff_row "diff --netns, mkprofile -rules 10000 -groups 50 (sets), limit nft list table" "$tmp/groups-10000.toml" sets
fi
apply_row "apply --netns, readable layout, mkprofile -rules 1000 -groups 50, limit nft -f" "$tmp/groups-1000.toml" readable
diff_row "diff --netns, readable layout, mkprofile -rules 1000 -groups 50, limit nft list table" "$tmp/groups-1000.toml" readable
load_row "nft -f of the readable layout, 5,000 simple rules, limit nft -f of the sets layout" "$tmp/simple-5000.toml"
if [ "$slow" = 1 ]; then
	load_row "nft -f of the readable layout, mkprofile -rules 5000 -groups 50, limit nft -f of the sets layout" "$tmp/groups-5000.toml"
fi
