#!/usr/bin/env bash
# Side by side: portwall and ferm rendering the same inbound policy of one
# host, at 1,000 and 10,000 [[allow]] rules, in both of mkprofile's shapes.
#
#   bash cmd/mkprofile/compare-ferm.sh [RUNS]      # from the repository root; RUNS defaults to 7
#
# What is compared (see the package comment of cmd/mkprofile): mkprofile
# writes a one-host profile and, with -ferm, the same rules as a ferm
# configuration, in two shapes:
#
#   simple (-shape simple -hosts 1): one /24 and one TCP port per rule,
#     the policy Capirca's and Aerleon's benchmarks time; ferm's file is
#     IPv4 only, each rule's network inline (ferm's fastest form);
#   groups (-hosts 1 -groups 50): rules over groups of several IPv4 and
#     IPv6 networks, which ferm expands into one rule per network and
#     portwall's nftables target keeps in address sets.
#
# No two rules merge in either. Each tool turns its input into rules
# without loading them:
#
#   portwall generate P --target nftables --host host-01   (IPv4 and IPv6, one file)
#   portwall generate P --target iptables --host host-01   (IPv4 only)
#   ferm --remote F                                        (IPv4 and IPv6)
#   ferm --remote --domain ip F                            (IPv4 only)
#
# ferm/portwall ratios pair runs that cover the same families: ferm
# against nftables, ferm --domain ip against iptables. Before timing, the
# script checks that ferm's and portwall's iptables outputs hold the same
# number of rule lines from the [[allow]] entries, or the comparison would
# not be fair. portwall writes to standard output, discarded: `-o /dev/null`
# is not used, because -o writes a temporary file and renames it over the
# target, which as root replaces the /dev/null device with a regular file.
#
# Times are wall-clock medians over RUNS runs after one warm-up, with
# hyperfine when installed (apt-get install -y hyperfine), else from
# /usr/bin/time; max RSS is the largest of the /usr/bin/time runs (one run
# with hyperfine, RUNS without). Nothing is asserted: the figures are for
# reading, and depend on the machine and on what else it runs.
set -euo pipefail

. "$(dirname "$0")/measure.sh"
if ! PATH="$PATH:/usr/sbin:/sbin" command -v ferm >/dev/null 2>&1; then
	echo "compare-ferm.sh: ferm is not installed; install it with:" >&2
	echo "    apt-get install -y ferm" >&2
	echo "(Debian asks whether to load ferm's rules at boot; answer no, or preseed: echo 'ferm ferm/enable boolean false' | debconf-set-selections)" >&2
	exit 1
fi
start compare-ferm.sh "$@"
host=host-01
sizes=(1000 10000)
shapes=(simple groups)
for shape in "${shapes[@]}"; do
	for n in "${sizes[@]}"; do
		r=$shape$n
		if [ "$shape" = simple ]; then
			"$tmp/mkprofile" -shape simple -rules "$n" -hosts 1 -ferm "$tmp/$r.ferm" >"$tmp/$r.toml"
		else
			"$tmp/mkprofile" -rules "$n" -hosts 1 -groups 50 -ferm "$tmp/$r.ferm" >"$tmp/$r.toml"
		fi
		"$tmp/portwall" -q validate "$tmp/$r.toml"
	done
done

# allowlines FILE: rule lines that come from [[allow]] entries.
allowlines() { grep -c '^-A .*allow\[' "$1" || true; }

# Same policy? Count the rule lines each tool writes for the [[allow]]
# entries, per family. The simple shape has no IPv6 rule: portwall's
# ip6tables output must hold none, and ferm's file has no ip6 domain.
for shape in "${shapes[@]}"; do
	for n in "${sizes[@]}"; do
		r=$shape$n
		"$tmp/portwall" generate "$tmp/$r.toml" --target iptables --host "$host" >"$tmp/$r.pw4"
		"$tmp/portwall" generate "$tmp/$r.toml" --target ip6tables --host "$host" >"$tmp/$r.pw6"
		ferm --remote --domain ip "$tmp/$r.ferm" >"$tmp/$r.ferm4"
		if [ "$shape" = simple ]; then
			: >"$tmp/$r.ferm6"
		else
			ferm --remote --domain ip6 "$tmp/$r.ferm" >"$tmp/$r.ferm6"
		fi
		for f in 4 6; do
			pw=$(allowlines "$tmp/$r.pw$f")
			fe=$(allowlines "$tmp/$r.ferm$f")
			if [ "$pw" != "$fe" ] || { [ "$pw" = 0 ] && ! [ "$shape$f" = simple6 ]; }; then
				echo "compare-ferm.sh: $shape, $n rules, IPv$f: portwall wrote $pw rule lines, ferm $fe: not the same policy, no comparison" >&2
				exit 1
			fi
			printf -v "lines${f}_$r" '%s' "$pw"
		done
	done
done

echo "portwall vs ferm, one host's inbound policy; $runs runs each, median wall time"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
timer=/usr/bin/time
[ -n "$hyperfine" ] && timer="hyperfine $("$hyperfine" --version | cut -d' ' -f2)"
echo "portwall $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo ' (uncommitted changes)'), $(go version | cut -d' ' -f3); ferm $(ferm --version 2>/dev/null | head -n 1 | grep -o '[0-9][0-9.]*' | head -n 1); timing: $timer"
echo
printf '%-7s %-7s %-36s %7s %9s %10s %10s %9s\n' shape rules tool "rules4" "rules6" "median s" "max RSS MB" "ferm/pw"
for shape in "${shapes[@]}"; do
	for n in "${sizes[@]}"; do
		r=$shape$n
		l4=lines4_$r l6=lines6_$r
		measure "pw-nft-$r" "$tmp/portwall" generate "$tmp/$r.toml" --target nftables --host "$host"
		pw_nft=$median
		printf '%-7s %-7s %-36s %7s %9s %10s %10.1f %9s\n' "$shape" "$n" "portwall nftables" "${!l4}" "${!l6}" "$median" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" -
		measure "pw-ipt-$r" "$tmp/portwall" generate "$tmp/$r.toml" --target iptables --host "$host"
		pw_ipt=$median
		printf '%-7s %-7s %-36s %7s %9s %10s %10.1f %9s\n' "$shape" "$n" "portwall iptables" "${!l4}" - "$median" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" -
		measure "ferm-$r" ferm --remote "$tmp/$r.ferm"
		printf '%-7s %-7s %-36s %7s %9s %10s %10.1f %9s\n' "$shape" "$n" "ferm --remote (vs nftables)" "${!l4}" "${!l6}" "$median" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
			"$(awk -v a="$median" -v b="$pw_nft" 'BEGIN { printf "%.1fx", a / b }')"
		measure "ferm4-$r" ferm --remote --domain ip "$tmp/$r.ferm"
		printf '%-7s %-7s %-36s %7s %9s %10s %10.1f %9s\n' "$shape" "$n" "ferm --remote --domain ip (vs ipt)" "${!l4}" - "$median" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
			"$(awk -v a="$median" -v b="$pw_ipt" 'BEGIN { printf "%.1fx", a / b }')"
	done
done
echo
echo "rules4/rules6: rule lines from the [[allow]] entries in each tool's iptables/ip6tables output (equal, checked);"
echo "portwall nftables writes the same policy with address sets. ferm/pw: ferm's median over portwall's."
