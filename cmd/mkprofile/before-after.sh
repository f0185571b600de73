#!/usr/bin/env bash
# Two revisions of portwall side by side, in one run on one machine: the
# rows of the performance table (README, Performance), each measured for
# BEFORE and AFTER in alternation, so that what else the machine runs
# weighs on both alike.
#
#   bash cmd/mkprofile/before-after.sh [-n RUNS] [-f FLEET_RUNS] BEFORE [AFTER]
#
# from the repository root. BEFORE and AFTER are git revisions; AFTER
# defaults to the working tree. Each is built in a worktree of its own
# under a scratch directory (removed on exit); mkprofile comes from the
# working tree (both revisions read its profiles). RUNS (default 7) runs
# of every command per revision, FLEET_RUNS (default RUNS) of the fleet
# rows.
#
# Rows:
#   simple, groups  generate --target nftables of one host at 1,000 and
#                   10,000 rules in mkprofile's two shapes, and ferm
#                   --remote on the same policy (compare-ferm.sh checks
#                   that it is the same); peak RSS of each
#   decode          in one process (testdata/decodetime): go-toml's
#                   parser alone over the 10,000-rule simple profile,
#                   tomldoc's decode of it, profiles.Parse
#   start-up        generate of a 10-rule profile, against the process
#                   floor: a Go program that does nothing (and /bin/true)
#   fleet           generate --all-hosts of 2,000 hosts for the host
#                   targets both revisions have, named in a list (the fleet
#                   profile declares no host targets, so that --target all
#                   would write its network view alone), and for the
#                   working tree every target: into a directory on /dev/shm (tmpfs)
#                   and one under the repository's file system (the
#                   disk); one run first fills each directory, the timed
#                   runs regenerate it, as CI does; and, as a first
#                   generate into a new checkout does, into a directory
#                   that does not exist yet (removed after each run,
#                   untimed)
#
# Times are wall clock, from bash's EPOCHREALTIME around each run of
# /usr/bin/time (which gives the peak RSS); each cell is the median of
# the runs with their min-max. The load average is printed before and
# after: on a busy machine, compare the ratios, not the times. Capirca
# and Aerleon are not run (they are not packaged here); their figures are
# those issue 18 states, 11 to 13 times portwall's first version.
set -euo pipefail

runs=7 fleet_runs=
while getopts n:f: o; do
	case $o in
	n) runs=$OPTARG ;;
	f) fleet_runs=$OPTARG ;;
	*)
		echo "usage: bash cmd/mkprofile/before-after.sh [-n RUNS] [-f FLEET_RUNS] BEFORE [AFTER]" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
fleet_runs=${fleet_runs:-$runs}
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f go.mod ] || [ ! -d cmd/mkprofile ]; then
	echo "usage: bash cmd/mkprofile/before-after.sh [-n RUNS] [-f FLEET_RUNS] BEFORE [AFTER]   (from the repository root)" >&2
	exit 2
fi
before_rev=$1 after_rev=${2:-}
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
for tool in /usr/bin/time ferm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "before-after.sh: $tool is missing (apt-get install -y time ferm)" >&2
		exit 1
	fi
done

root=$PWD
tmp=$(mktemp -d "$root/.before-after.XXXXXX") # on the repository's disk
shm=$(mktemp -d /dev/shm/before-after.XXXXXX)
cleanup() {
	for w in "$tmp/before" "$tmp/after"; do
		[ -d "$w" ] && git -C "$root" worktree remove --force "$w" >/dev/null 2>&1
	done
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT

# build NAME TREE: portwall and decodetime of the source tree TREE.
build() {
	local name=$1 tree=$2
	(cd "$tree" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/portwall-$name" ./cmd/portwall)
	# decodetime goes in through an overlay: the tree is not touched.
	printf '{"Replace": {"%s": "%s"}}\n' "$tree/cmd/zz-decodetime/main.go" "$root/cmd/mkprofile/testdata/decodetime/main.go" >"$tmp/overlay-$name.json"
	(cd "$tree" && go build -overlay "$tmp/overlay-$name.json" -o "$tmp/decodetime-$name" ./cmd/zz-decodetime)
}
git worktree add --detach "$tmp/before" "$before_rev" >/dev/null 2>&1
build before "$tmp/before"
if [ -n "$after_rev" ]; then
	git worktree add --detach "$tmp/after" "$after_rev" >/dev/null 2>&1
	build after "$tmp/after"
else
	build after "$root"
fi
go build -o "$tmp/mkprofile" ./cmd/mkprofile
printf 'package main\n\nfunc main() {}\n' >"$tmp/floor.go"
(cd "$tmp" && go build -o "$tmp/floor" floor.go)

describe() {
	if [ -z "$1" ]; then
		echo "working tree $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
	else
		git rev-parse --short "$1"
	fi
}
echo "before: $(describe "$before_rev")   after: $(describe "$after_rev")   $(go version | cut -d' ' -f3); ferm $(ferm --version 2>/dev/null | head -n 1 | grep -o '[0-9][0-9.]*' | head -n 1)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $runs runs (fleet: $fleet_runs), alternating"
echo "start: $(uptime)"
echo

# Profiles.
"$tmp/mkprofile" -shape simple -rules 10 -hosts 1 >"$tmp/start.toml"
for n in 1000 10000; do
	"$tmp/mkprofile" -shape simple -rules "$n" -hosts 1 -ferm "$tmp/simple$n.ferm" >"$tmp/simple$n.toml"
	"$tmp/mkprofile" -rules "$n" -hosts 1 -groups 50 -ferm "$tmp/groups$n.ferm" >"$tmp/groups$n.toml"
done
"$tmp/mkprofile" -hosts 2000 -products -rules 0 -groups 50 >"$tmp/fleet.toml"

# once KEY CMD...: one timed run; appends seconds to $tmp/KEY.t and the
# peak RSS in KB to $tmp/KEY.m.
once() {
	local key=$1
	shift
	local t0=$EPOCHREALTIME
	/usr/bin/time -f %M -o "$tmp/$key.rss" "$@" >/dev/null
	local t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$tmp/$key.t"
	tail -n 1 "$tmp/$key.rss" >>"$tmp/$key.m"
}

# cell FILE: "median (min-max)" of the numbers in FILE, in seconds, or
# with a second argument "mb", in MB (of KB).
cell() {
	sort -n "$1" | awk -v unit="${2:-s}" '
		{ v[NR] = (unit == "mb") ? $1 / 1024 : $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			f = (unit == "mb") ? "%.1f (%.1f-%.1f)" : (m < 0.1 ? "%.4f (%.4f-%.4f)" : "%.3f (%.3f-%.3f)")
			printf f, m, v[1], v[NR]
		}'
}
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.1fx", a / b }'; }

host=host-01
for i in $(seq "$runs"); do
	for s in simple groups; do
		for n in 1000 10000; do
			once "before-$s$n" "$tmp/portwall-before" generate "$tmp/$s$n.toml" --target nftables --host "$host"
			once "after-$s$n" "$tmp/portwall-after" generate "$tmp/$s$n.toml" --target nftables --host "$host"
			once "ferm-$s$n" ferm --remote "$tmp/$s$n.ferm"
		done
	done
	once before-start "$tmp/portwall-before" generate "$tmp/start.toml" --target nftables --host "$host"
	once after-start "$tmp/portwall-after" generate "$tmp/start.toml" --target nftables --host "$host"
	once floor "$tmp/floor"
	once true /bin/true
done

printf '%-34s %-28s %-28s %-28s %s\n' "generate --target nftables" "before s" "after s" "ferm --remote s" "ferm/after (before)"
for s in simple groups; do
	for n in 1000 10000; do
		printf '%-34s %-28s %-28s %-28s %s (%s)\n' "$s, $n rules" "$(cell "$tmp/before-$s$n.t")" "$(cell "$tmp/after-$s$n.t")" "$(cell "$tmp/ferm-$s$n.t")" \
			"$(ratio "$tmp/ferm-$s$n.t" "$tmp/after-$s$n.t")" "$(ratio "$tmp/ferm-$s$n.t" "$tmp/before-$s$n.t")"
	done
done
echo
echo "Capirca and Aerleon (not run; issue 18: 11-13x portwall's first version), taken as 11x and 13x this run's before:"
for n in 1000 10000; do
	printf '  simple, %5d rules: after is %s to %s faster than that estimate\n' "$n" \
		"$(awk -v a="$(med "$tmp/before-simple$n.t")" -v b="$(med "$tmp/after-simple$n.t")" 'BEGIN { printf "%.0fx", 11 * a / b }')" \
		"$(awk -v a="$(med "$tmp/before-simple$n.t")" -v b="$(med "$tmp/after-simple$n.t")" 'BEGIN { printf "%.0fx", 13 * a / b }')"
done
echo
printf '%-34s %-28s %-28s %-28s\n' "peak RSS, MB" "before" "after" "ferm --remote"
for s in simple groups; do
	printf '%-34s %-28s %-28s %-28s\n' "$s, 10000 rules" "$(cell "$tmp/before-${s}10000.m" mb)" "$(cell "$tmp/after-${s}10000.m" mb)" "$(cell "$tmp/ferm-${s}10000.m" mb)"
done
echo
printf '%-34s %-28s %-28s %s\n' "start-up, 10 rules" "before s" "after s" "above the floor (before, after)"
fl=$(med "$tmp/floor.t")
printf '%-34s %-28s %-28s %s\n' "generate --target nftables" "$(cell "$tmp/before-start.t")" "$(cell "$tmp/after-start.t")" \
	"$(awk -v a="$(med "$tmp/before-start.t")" -v b="$(med "$tmp/after-start.t")" -v f="$fl" 'BEGIN { printf "%.1f ms, %.1f ms", (a - f) * 1000, (b - f) * 1000 }')"
printf '%-34s %-28s\n' "process floor: empty Go program" "$(cell "$tmp/floor.t")"
printf '%-34s %-28s\n' "/bin/true" "$(cell "$tmp/true.t")"
echo

printf '%-34s %-28s %-28s\n' "decoding, in one process (ms)" "before" "after"
read -r bl bd bp < <("$tmp/decodetime-before" "$tmp/simple10000.toml" "$runs")
read -r al ad ap < <("$tmp/decodetime-after" "$tmp/simple10000.toml" "$runs")
printf '%-34s %-28s %-28s\n' "go-toml parser alone (lexing)" "$bl" "$al"
printf '%-34s %-28s %-28s\n' "tomldoc decode" "$bd" "$ad"
printf '%-34s %-28s %-28s\n' "profiles.Parse (decode + checks)" "$bp" "$ap"
printf '%-34s %-28s %-28s\n' "decode, share of the whole run" \
	"$(awk -v d="$bd" -v r="$(med "$tmp/before-simple10000.t")" 'BEGIN { printf "%.0f%%", d / 10 / r }')" \
	"$(awk -v d="$ad" -v r="$(med "$tmp/after-simple10000.t")" 'BEGIN { printf "%.0f%%", d / 10 / r }')"
echo

# The fleet: each revision writes its own directories; one untimed run
# fills them. Side by side, the host targets both revisions have (the
# first version's FortiGate network view took minutes at 2,000 hosts);
# then the working tree alone with every target, ufw and fortigate
# included.
disk=$tmp/fleet
common=nftables,iptables,ip6tables,firewalld,netsh,powershell,json
every=$common,ufw,fortigate
for rev in before after; do
	"$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$shm/$rev"
	"$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$disk-$rev"
done
"$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$shm/every"
"$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$disk-every"
files=$(find "$shm/after" -type f | wc -l)
everyfiles=$(find "$shm/every" -type f | wc -l)
for i in $(seq "$fleet_runs"); do
	for rev in before after; do
		once "$rev-tmpfs" "$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$shm/$rev"
		once "$rev-disk" "$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$disk-$rev"
		once "$rev-tmpfs-new" "$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$shm/new-$rev"
		once "$rev-disk-new" "$tmp/portwall-$rev" generate "$tmp/fleet.toml" --target "$common" --all-hosts --out-dir "$disk-new-$rev"
		rm -rf "$shm/new-$rev" "$disk-new-$rev"
	done
	once every-tmpfs "$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$shm/every"
	once every-disk "$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$disk-every"
	once every-tmpfs-new "$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$shm/new-every"
	once every-disk-new "$tmp/portwall-after" generate "$tmp/fleet.toml" --target "$every" --all-hosts --out-dir "$disk-new-every"
	rm -rf "$shm/new-every" "$disk-new-every"
done
fstype=$(findmnt -no FSTYPE -T "$tmp" | head -n 1)
shmtype=$(findmnt -no FSTYPE -T "$shm" | head -n 1)
printf '%-40s %-28s %-28s\n' "fleet, 2,000 hosts, $files files ($common)" "before s" "after s"
printf '%-40s %-28s %-28s\n' "regenerated, /dev/shm ($shmtype)" "$(cell "$tmp/before-tmpfs.t")" "$(cell "$tmp/after-tmpfs.t")"
printf '%-40s %-28s %-28s\n' "regenerated, the repository's disk ($fstype)" "$(cell "$tmp/before-disk.t")" "$(cell "$tmp/after-disk.t")"
printf '%-40s %-28s %-28s\n' "  disk / tmpfs" "$(ratio "$tmp/before-disk.t" "$tmp/before-tmpfs.t")" "$(ratio "$tmp/after-disk.t" "$tmp/after-tmpfs.t")"
printf '%-40s %-28s %-28s\n' "into a new directory, /dev/shm" "$(cell "$tmp/before-tmpfs-new.t")" "$(cell "$tmp/after-tmpfs-new.t")"
printf '%-40s %-28s %-28s\n' "into a new directory, disk" "$(cell "$tmp/before-disk-new.t")" "$(cell "$tmp/after-disk-new.t")"
printf '%-40s %-28s %-28s\n' "  disk / tmpfs" "$(ratio "$tmp/before-disk-new.t" "$tmp/before-tmpfs-new.t")" "$(ratio "$tmp/after-disk-new.t" "$tmp/after-tmpfs-new.t")"
printf '%-40s %-28s %-28s\n' "peak RSS, MB (regenerated, /dev/shm)" "$(cell "$tmp/before-tmpfs.m" mb)" "$(cell "$tmp/after-tmpfs.m" mb)"
echo
printf '%-40s %-28s %-28s %s\n' "every target, $everyfiles files (after)" "regenerated s" "new directory s" ""
printf '%-40s %-28s %-28s\n' "/dev/shm ($shmtype)" "$(cell "$tmp/every-tmpfs.t")" "$(cell "$tmp/every-tmpfs-new.t")"
printf '%-40s %-28s %-28s\n' "the repository's disk ($fstype)" "$(cell "$tmp/every-disk.t")" "$(cell "$tmp/every-disk-new.t")"
printf '%-40s %-28s %-28s\n' "  disk / tmpfs" "$(ratio "$tmp/every-disk.t" "$tmp/every-tmpfs.t")" "$(ratio "$tmp/every-disk-new.t" "$tmp/every-tmpfs-new.t")"
echo
echo "end: $(uptime)"
