package ufw

// The load script's fixed parts. Between them come five quoted
// here-documents, each handed to a shell function that stores it:
//
//	portwall_settings <<'PORTWALL_EOF'   policies, logging, enable, IPv6
//	portwall_apps <<'PORTWALL_EOF'       the application profiles (INI)
//	portwall_rules <<'PORTWALL_EOF'      the ufw rules, as `ufw show added` prints them
//	portwall_before4 <<'PORTWALL_EOF'    portwall's block of before.rules (ICMP)
//	portwall_before6 <<'PORTWALL_EOF'    portwall's block of before6.rules (ICMPv6)
//
// Nothing from the profile reaches the shell outside the header's comment
// lines and these quoted here-documents, whose bodies the shell never
// expands; package ufwparse checks that the rest is exactly this text.
//
// Why ufw's own commands: rules go in and out with `ufw allow` and `ufw
// delete`, the interface ufw keeps stable across releases; user.rules is
// ufw's internal format (tuples, hex comments) and editing it by hand
// would bypass ufw's checks. The script compares the rules ufw reports
// (`ufw show added`, which also works while ufw is inactive) with its own
// list and changes only the difference, so that a second run changes
// nothing and portwall's rules keep their place among the others.
// portwall's rules are those that use one of its application profiles
// (portwall-*) and whose comment starts with "pw:"; every other rule is
// left as it is.
//
// Why a block in before.rules: ufw handles ICMP in /etc/ufw/before.rules
// and before6.rules (ufw allow has no ICMP), and the stock files let
// echo requests in from every address. ufw's documentation (ufw-framework(8))
// says to edit those files for ICMP; portwall keeps its part between
// "# BEGIN portwall" and "# END portwall" lines at the top of the filter
// table's rules, and touches no other line.

// Heredoc ends every here-document.
const Heredoc = "PORTWALL_EOF"

// Parts are the here-documents' functions, in script order.
var Parts = []string{"portwall_settings", "portwall_apps", "portwall_rules", "portwall_before4", "portwall_before6"}

// The markers of portwall's block in before.rules and before6.rules.
const (
	BlockBegin = "# BEGIN portwall: generated, do not edit; the host's portwall ufw script rewrites this block"
	BlockEnd   = "# END portwall"
)

// AppsFile is portwall's file of application profiles, in
// /etc/ufw/applications.d.
const AppsFile = "portwall"

// Prelude follows the header: options, checks, and the functions that
// store the here-documents.
const Prelude = `set -eu
umask 022
# ufw translates its messages; the script reads some of them.
LC_ALL=C
export LC_ALL
enable=no
while [ "$#" -gt 0 ]; do
	case $1 in
	--enable)
		enable=yes
		shift
		;;
	*)
		echo "usage: sh $0 [--enable]" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "portwall: run this script as root" >&2
	exit 1
fi
if ! command -v ufw >/dev/null 2>&1; then
	echo "portwall: ufw not found: install ufw" >&2
	exit 1
fi
# Comments on rules need ufw 0.35 or later.
version=$(ufw version | sed -n 's/^ufw \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
if [ -z "$version" ] || ! echo "$version" | awk -F. '{ exit !($1 > 0 || $2 >= 35) }'; then
	echo "portwall: ufw ${version:-of unknown version} is too old: portwall needs ufw 0.35 or later" >&2
	exit 1
fi
conf=/etc/ufw
apps=$conf/applications.d
for f in /etc/default/ufw "$conf/ufw.conf" "$conf/before.rules" "$conf/before6.rules"; do
	if [ ! -f "$f" ]; then
		echo "portwall: $f not found: is ufw installed?" >&2
		exit 1
	fi
done
if [ ! -d "$apps" ]; then
	echo "portwall: $apps is not a directory: is ufw installed?" >&2
	exit 1
fi
stage=$(mktemp -d "${TMPDIR:-/tmp}/portwall-ufw.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 1' HUP INT TERM
portwall_settings() {
	cat >"$stage/settings"
}
portwall_apps() {
	cat >"$stage/apps"
}
portwall_rules() {
	cat >"$stage/rules"
}
portwall_before4() {
	cat >"$stage/before4"
}
portwall_before6() {
	cat >"$stage/before6"
}
`

// Epilogue follows the here-documents: checks first, then the changes.
const Epilogue = `setting() {
	sed -n "s/^$1=//p" "$stage/settings"
}
if [ "$(setting enable)" = yes ]; then
	enable=yes
fi
# conf_value FILE KEY: a setting of ufw's as ufw reads it (quotes dropped,
# lower case).
conf_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1 | tr -d "\"'" | tr 'A-Z' 'a-z'
}
if [ "$(setting ipv6)" = yes ] && [ "$(conf_value /etc/default/ufw IPV6)" != yes ]; then
	echo "portwall: the host's rules need IPv6: set IPV6=yes in /etc/default/ufw (then run ufw disable and ufw enable): nothing was changed" >&2
	exit 1
fi
# ports_of FILE APP: the ports line of an application profile.
ports_of() {
	awk -v name="[$2]" '$0 == name { p = 1; next } /^\[/ { p = 0 } p && /^ports=/ { print substr($0, 7) }' "$1"
}
# ufw skips, with a warning, a profile it cannot read: check that it reads
# every one of portwall's, in a copy of the configuration (ufw --datadir),
# before anything changes.
check=$stage/check
mkdir -p "$check/etc/ufw/applications.d" "$check/etc/default" "$check/lib/ufw"
cp /etc/default/ufw "$check/etc/default/ufw"
cp "$conf"/ufw.conf "$conf"/*.rules "$check/etc/ufw/"
cp "$stage/apps" "$check/etc/ufw/applications.d/portwall"
if ! ufw --datadir="$check" app list >"$stage/listed" 2>"$stage/list-errors"; then
	cat "$stage/list-errors" >&2
	echo "portwall: ufw cannot list the application profiles: nothing was changed" >&2
	exit 1
fi
sed -n 's/^\[\(.*\)\]$/\1/p' "$stage/apps" | sort >"$stage/want-apps"
sed -n 's/^  \(portwall-.*\)$/\1/p' "$stage/listed" | sort >"$stage/listed-apps"
if ! cmp -s "$stage/want-apps" "$stage/listed-apps"; then
	cat "$stage/list-errors" >&2
	echo "portwall: ufw does not read every application profile of portwall's: nothing was changed" >&2
	exit 1
fi
# The rules ufw has: portwall's use one of its application profiles and
# their comment starts with pw:.
ufw show added >"$stage/added"
sed -n 's/^ufw //p' "$stage/added" | grep -E " portwall-[A-Za-z0-9-]+ comment 'pw:" >"$stage/current" || true
sed "s/ comment 'pw:.*//" "$stage/rules" >"$stage/want"
: >"$stage/stale"
old=$stage/old-apps
: >"$old"
if [ -f "$apps/portwall" ]; then
	cp "$apps/portwall" "$old"
fi
: >"$stage/kept"
while IFS= read -r line; do
	spec=${line%% comment \'pw:*}
	if grep -Fxq -- "$spec" "$stage/want"; then
		printf '%s\n' "$line" >>"$stage/kept"
		continue
	fi
	# ufw finds a rule to delete by its application's ports: the profile
	# must still be there.
	if [ -z "$(ports_of "$old" "${spec##* }")" ]; then
		echo "portwall: cannot remove the ufw rule \"$spec\": its application profile ${spec##* } is not in $apps/portwall (delete the rule with ufw delete): nothing was changed" >&2
		exit 1
	fi
	printf '%s\n' "$spec" >>"$stage/stale"
done <"$stage/current"
# portwall's block in before.rules (ICMP) and before6.rules (ICMPv6): the
# old block out, the new one in at the top of the filter table's rules.
# The new files are made and checked before anything changes.
for fam in 4 6; do
	file=$conf/before.rules
	if [ "$fam" = 6 ]; then
		file=$conf/before6.rules
	fi
	begins=$(grep -cx '# BEGIN portwall.*' "$file" || true)
	ends=$(grep -cx '# END portwall' "$file" || true)
	if [ "$begins" != "$ends" ] || [ "$begins" -gt 1 ]; then
		echo "portwall: $file has a broken portwall block (BEGIN and END lines do not pair): nothing was changed" >&2
		exit 1
	fi
	if ! awk -v block="$stage/before$fam" '
		/^# BEGIN portwall/ { skip = 1; next }
		skip && $0 == "# END portwall" { skip = 0; next }
		skip { next }
		/^\*filter[ \t]*$/ { filter = 1 }
		filter && !done && (/^-A / || /^COMMIT[ \t]*$/) {
			while ((getline l < block) > 0) print l
			done = 1
		}
		/^COMMIT[ \t]*$/ { filter = 0 }
		{ print }
		END { if (!done) exit 3 }' "$file" >"$stage/new-before$fam"; then
		echo "portwall: $file has no filter table (*filter ... COMMIT): nothing was changed" >&2
		exit 1
	fi
done
# From here on, things change.
added=0
updated=0
removed=0
set -f
while IFS= read -r spec; do
	ufw delete $spec >/dev/null
	removed=$((removed + 1))
done <"$stage/stale"
cp "$stage/apps" "$apps/.portwall.new"
mv -f "$apps/.portwall.new" "$apps/portwall"
# Rules of an application whose ports changed are expanded again.
while IFS= read -r app; do
	if [ "$(ports_of "$old" "$app")" != "$(ports_of "$apps/portwall" "$app")" ] && grep -q " $app comment 'pw:" "$stage/kept"; then
		ufw app update "$app" >/dev/null
	fi
done <"$stage/want-apps"
while IFS= read -r line; do
	if grep -Fxq -- "$line" "$stage/current"; then
		continue
	fi
	spec=${line%% comment \'pw:*}
	comment=${line#"$spec comment '"}
	comment=${comment%\'}
	if sed "s/ comment 'pw:.*//" "$stage/current" | grep -Fxq -- "$spec"; then
		updated=$((updated + 1))
	else
		added=$((added + 1))
	fi
	ufw $spec comment "$comment" >/dev/null
done <"$stage/rules"
set +f
# Default policies and logging, as the profile's [defaults] say.
policy() {
	case $(conf_value /etc/default/ufw "$1") in
	drop) echo deny ;;
	reject) echo reject ;;
	accept) echo allow ;;
	esac
}
if [ "$(policy DEFAULT_INPUT_POLICY)" != "$(setting incoming)" ]; then
	ufw default "$(setting incoming)" incoming >/dev/null
fi
if [ "$(policy DEFAULT_OUTPUT_POLICY)" != "$(setting outgoing)" ]; then
	ufw default "$(setting outgoing)" outgoing >/dev/null
fi
level=$(conf_value "$conf/ufw.conf" LOGLEVEL)
if [ "$(setting logging)" = off ] && [ "$level" != off ]; then
	ufw logging off >/dev/null
elif [ "$(setting logging)" = on ] && { [ -z "$level" ] || [ "$level" = off ]; }; then
	ufw logging low >/dev/null
fi
before_changed=no
for fam in 4 6; do
	file=$conf/before.rules
	if [ "$fam" = 6 ]; then
		file=$conf/before6.rules
	fi
	if ! cmp -s "$file" "$stage/new-before$fam"; then
		cp -p "$file" "$stage/old-before$fam"
		cp -p "$file" "$conf/.portwall-before.new"
		cat "$stage/new-before$fam" >"$conf/.portwall-before.new"
		mv -f "$conf/.portwall-before.new" "$file"
		before_changed=yes
	fi
done
summary="$added added, $updated updated, $removed removed"
if ufw status | grep -qx 'Status: active'; then
	if [ "$before_changed" = yes ] && ! ufw reload >"$stage/reload" 2>&1; then
		cat "$stage/reload" >&2
		echo "portwall: ufw did not load the new before.rules: putting the previous ones back" >&2
		for fam in 4 6; do
			if [ -f "$stage/old-before$fam" ]; then
				file=$conf/before.rules
				if [ "$fam" = 6 ]; then
					file=$conf/before6.rules
				fi
				cp -p "$stage/old-before$fam" "$file"
			fi
		done
		ufw reload >/dev/null 2>&1 || true
		exit 1
	fi
	echo "portwall: loaded into ufw (rules: $summary); ufw is active"
elif [ "$enable" = yes ]; then
	ufw --force enable >/dev/null
	echo "portwall: loaded into ufw (rules: $summary); ufw is enabled"
else
	echo "portwall: loaded into ufw (rules: $summary); ufw is inactive: the rules apply once it is enabled (ufw enable, or run this script with --enable)"
fi
`
