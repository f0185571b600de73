package firewalld

// The load script's fixed parts. Between them come the files, each as
//
//	portwall_file KIND/NAME.xml <<'PORTWALL_EOF'
//	...the XML...
//	PORTWALL_EOF
//
// Nothing from the profile reaches the shell outside the header's comment
// lines and these quoted here-documents, whose bodies the shell never
// expands; package fwdparse checks that the rest is exactly this text.
//
// Why a script that writes XML files, rather than firewall-cmd --permanent
// commands: the XML files are firewalld's own permanent configuration, the
// form configuration-management tools drop into /etc/firewalld; written
// whole they replace portwall's objects in one step and leave every other
// file untouched (a --permanent edit rewrites the whole file it touches).
// The script is the documented way to put them in place safely: the whole
// configuration is checked before anything changes (one invalid file makes
// firewalld fall back to its stock configuration), portwall's files from an
// earlier run that are no longer needed are removed, and a reload that
// fails puts the previous files back.

// Heredoc ends every file's here-document.
const Heredoc = "PORTWALL_EOF"

// FileFunc is the shell function each file is handed to.
const FileFunc = "portwall_file"

// Kinds are the configuration directories portwall writes into, and from
// which it removes its own old files (those named portwall*.xml).
var Kinds = []string{"zones", "policies", "services"}

// Prelude follows the header: options, checks, and the staged copy of the
// configuration that the files are written into.
const Prelude = `set -eu
umask 022
dir=/etc/firewalld
files_only=no
while [ "$#" -gt 0 ]; do
	case $1 in
	--dir)
		[ "$#" -ge 2 ] || { echo "portwall: --dir needs a directory" >&2; exit 2; }
		dir=$2
		shift 2
		;;
	--files-only)
		files_only=yes
		shift
		;;
	*)
		echo "usage: sh $0 [--dir DIR] [--files-only]" >&2
		exit 2
		;;
	esac
done
for tool in firewall-offline-cmd firewall-cmd; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "portwall: $tool not found: install firewalld" >&2
		exit 1
	fi
done
if [ ! -d "$dir" ]; then
	echo "portwall: $dir is not a directory" >&2
	exit 1
fi
stage=$(mktemp -d "${TMPDIR:-/tmp}/portwall-firewalld.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 1' HUP INT TERM
# The new configuration, staged: a copy of $dir without portwall's files,
# then portwall's new files. $dir is not touched until it passes the check.
mkdir "$stage/new" "$stage/old"
cp -pR "$dir/." "$stage/new/"
for kind in zones policies services; do
	mkdir -p "$stage/new/$kind" "$stage/old/$kind"
	rm -f "$stage/new/$kind"/portwall*.xml
	for f in "$dir/$kind"/portwall*.xml; do
		if [ -e "$f" ]; then
			cp -p "$f" "$stage/old/$kind/"
		fi
	done
done
portwall_file() {
	cat >"$stage/new/$1"
}
`

// Epilogue follows the files: the check, the install, the reload and the
// default zone.
const Epilogue = `# firewalld falls back to its stock configuration when any file is
# invalid: check the whole staged configuration first. A warning counts as
# an error, since firewalld leaves out what it warns about.
if ! out=$(firewall-offline-cmd --system-config "$stage/new" --check-config 2>&1) || [ -n "$out" ]; then
	printf '%s\n' "$out" >&2
	echo "portwall: the configuration does not pass firewall-offline-cmd --check-config: nothing was changed" >&2
	exit 1
fi
# install_files TREE puts TREE's portwall files into $dir, each renamed
# into place, and removes the portwall files TREE does not have.
install_files() {
	for kind in zones policies services; do
		mkdir -p "$dir/$kind"
		for f in "$1/$kind"/portwall*.xml; do
			if [ -e "$f" ]; then
				cp "$f" "$dir/$kind/.portwall-new.xml"
				mv -f "$dir/$kind/.portwall-new.xml" "$dir/$kind/${f##*/}"
			fi
		done
		for f in "$dir/$kind"/portwall*.xml; do
			if [ -e "$f" ] && [ ! -e "$1/$kind/${f##*/}" ]; then
				rm -f "$f"
			fi
		done
	done
}
install_files "$stage/new"
if [ "$files_only" = yes ]; then
	echo "portwall: wrote portwall's files into $dir; reload firewalld and make zone portwall the default zone to apply them"
	exit 0
fi
if [ "$(firewall-cmd --state 2>/dev/null || true)" = running ]; then
	if ! firewall-cmd --reload >/dev/null || [ "$(firewall-cmd --state 2>&1 || true)" != running ]; then
		echo "portwall: firewalld did not load the new configuration: putting portwall's previous files back" >&2
		install_files "$stage/old"
		firewall-cmd --reload >/dev/null || true
		exit 1
	fi
	if [ "$(firewall-cmd --get-default-zone)" != portwall ]; then
		# Once, on the first load: reloading again starts afresh with
		# zone portwall as the default, as every later load does.
		firewall-cmd --set-default-zone=portwall >/dev/null
		firewall-cmd --reload >/dev/null
	fi
	echo "portwall: loaded into firewalld; zone portwall is the default zone"
	others=$(firewall-cmd --get-active-zones | grep -v '^[[:space:]]' | grep -vx portwall || true)
	if [ -n "$others" ]; then
		echo "portwall: warning: zone portwall does not filter the interfaces and sources bound to" $others >&2
	fi
else
	firewall-offline-cmd --system-config "$dir" --set-default-zone=portwall >/dev/null
	echo "portwall: firewalld is not running; the configuration applies when it starts"
fi
`
