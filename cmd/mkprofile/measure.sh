# Sourced by compare-ferm.sh and bench.sh; expects $tmp (a scratch
# directory), $runs (runs per command) and $hyperfine (its path, or empty).
#
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
