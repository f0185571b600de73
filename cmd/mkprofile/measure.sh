# Sourced by compare-ferm.sh and bench.sh.

# start SCRIPT [RUNS]: what both scripts begin with. RUNS (default 7)
# into $runs; the checks; hyperfine's path (or nothing) into $hyperfine;
# a scratch directory $tmp, removed on exit; portwall and mkprofile built
# into it.
start() {
	local script=$1
	runs=${2:-7}
	case $runs in
	'' | *[!0-9]* | 0)
		echo "usage: bash cmd/mkprofile/$script [RUNS]   (RUNS: a positive number, default 7)" >&2
		exit 2
		;;
	esac
	if [ ! -f go.mod ] || [ ! -d cmd/mkprofile ]; then
		echo "$script: run from the repository root: bash cmd/mkprofile/$script [RUNS]" >&2
		exit 2
	fi
	export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
	if [ ! -x /usr/bin/time ]; then
		echo "$script: /usr/bin/time is missing (max RSS comes from it); install it with:" >&2
		echo "    apt-get install -y time" >&2
		exit 1
	fi
	hyperfine=
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine=$(command -v hyperfine)
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/portwall" ./cmd/portwall
	go build -o "$tmp/mkprofile" ./cmd/mkprofile
}

# measure NAME CMD...: median seconds into $median, max RSS (KB) into $rss.
measure() {
	local name=$1
	shift
	local i t m
	rss=0
	: >"$tmp/$name.times"
	local rssruns=$runs
	[ -n "$hyperfine" ] && rssruns=1
	for ((i = 0; i < rssruns; i++)); do
		/usr/bin/time -f '%e %M' -o "$tmp/$name.time" "$@" >/dev/null
		read -r t m <"$tmp/$name.time"
		echo "$t" >>"$tmp/$name.times"
		if ((m > rss)); then rss=$m; fi
	done
	if [ -n "$hyperfine" ]; then
		"$hyperfine" --shell=none --runs "$runs" --warmup 1 --style none \
			--export-json "$tmp/$name.json" -- "$(printf '%q ' "$@")" >/dev/null
		# The first "median" of the export is the command's (one command).
		median=$(grep -o '"median": *[0-9.eE+-]*' "$tmp/$name.json" | head -n 1 | sed 's/.*: *//')
		median=$(awk -v m="$median" 'BEGIN { printf "%.3f", m }')
	else
		median=$(sort -n "$tmp/$name.times" | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m }')
	fi
}
