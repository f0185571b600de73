#!/usr/bin/env bash
# Whole runs of portwall, as users start it: one host at 10,000 rules, the
# memory curve over the rule count, and a 2,000-host fleet written for
# every target. (before-after.sh compares two revisions on the rows of
# README's performance table.)
#
#   bash cmd/mkprofile/bench.sh [RUNS]      # from the repository root; RUNS defaults to 7
#
# Each command is timed from process start to exit (reading the profile,
# the embedded catalog, resolving, rendering, writing), wall-clock median
# over RUNS runs after one warm-up with hyperfine when installed, else
# from /usr/bin/time; max RSS is the largest of the /usr/bin/time runs.
# The stages alone are go test benchmarks:
#
#   go test -run '^$' -bench . -benchmem ./cmd/mkprofile
#
# Nothing is asserted: the figures are for reading, and depend on the
# machine and on what else it runs.
set -euo pipefail

. "$(dirname "$0")/measure.sh"
start bench.sh "$@"
pw=$tmp/portwall
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "portwall $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo ' (uncommitted changes)'), $(go version | cut -d' ' -f3); $runs runs each, median wall time"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "One host, N [[allow]] rules (-hosts 1 -groups 50), to standard output:"
printf '%-7s %-22s %10s %10s %10s %14s\n' rules target "median s" "max RSS MB" "output MB" "KB/added rule"
prev_n= prev_rss=
for n in 1000 2500 5000 10000 20000; do
	"$tmp/mkprofile" -rules "$n" -hosts 1 -groups 50 >"$tmp/r$n.toml"
	for t in nftables "nftables readable" iptables; do
		set -- --target nftables
		case $t in
		"nftables readable") set -- --target nftables --layout readable ;;
		iptables) set -- --target iptables ;;
		esac
		# The memory curve is for the default target; the others at
		# 10,000 only.
		if [ "$t" != nftables ] && [ "$n" != 10000 ]; then continue; fi
		"$pw" generate "$tmp/r$n.toml" "$@" --host host-01 >"$tmp/out"
		size=$(stat -c %s "$tmp/out")
		measure "r$n" "$pw" generate "$tmp/r$n.toml" "$@" --host host-01
		# The memory curve's slope: RSS added per rule since the row
		# before (nftables rows only).
		slope=-
		if [ "$t" = nftables ]; then
			if [ -n "$prev_n" ]; then
				slope=$(awk -v a="$prev_rss" -v b="$rss" -v m="$prev_n" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / (n - m) }')
			fi
			prev_n=$n prev_rss=$rss
		fi
		printf '%-7s %-22s %10s %10s %10s %14s\n' "$n" "$t" "$median" "$(mb "$rss")" \
			"$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')" "$slope"
	done
done

echo
echo "Fleet: 2,000 hosts running the four products (-hosts 2000 -products -rules 0 -groups 50), --all-hosts into a directory:"
"$tmp/mkprofile" -hosts 2000 -products -rules 0 -groups 50 >"$tmp/fleet.toml"
printf '%-30s %10s %10s %8s %10s\n' target "median s" "max RSS MB" files "output MB"
# "every": all targets for every host, as a list (the profile declares no
# host targets, so that --target all would write the network view alone).
every=nftables,iptables,ip6tables,firewalld,netsh,powershell,fortigate,json
for t in "$every" nftables iptables ip6tables firewalld netsh powershell fortigate json; do
	out=$tmp/fleet-${t//,/+}
	"$pw" generate "$tmp/fleet.toml" --target "$t" --all-hosts --out-dir "$out"
	files=$(find "$out" -type f | wc -l)
	size=$(du -sb "$out" | cut -f1)
	# Later runs regenerate the same directory, as a CI job does (a file
	# whose bytes do not change is left as it is).
	measure "fleet-${t//,/+}" "$pw" generate "$tmp/fleet.toml" --target "$t" --all-hosts --out-dir "$out"
	label=$t
	[ "$t" = "$every" ] && label="every target (list)"
	printf '%-30s %10s %10s %8s %10s\n' "$label" "$median" "$(mb "$rss")" "$files" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
	rm -rf "$out"
done
