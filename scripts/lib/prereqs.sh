# Shared by the scripts in scripts/: messages, and installing what they need on a Debian
# machine, quietly, only when it is missing, and safely when two scripts do it at once.
# Source it; it defines functions and variables only.

# Every message names the script that says it.
IKERD_SCRIPT=${IKERD_SCRIPT:-$(basename "$0")}
say() { printf '%s: %s\n' "$IKERD_SCRIPT" "$*" >&2; }
die() {
	say "$*"
	exit 2
}

IKERD_CACHE=${IKERD_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ikerd}

# virtme-ng boots the VM; pinned so the runner behaves the same on every machine.
VIRTME_NG_VERSION=1.42
# strongSwan's Python VICI client, for the root tests that run it against ikerd: the newest
# 5.9 release on PyPI (Debian 12's strongSwan is 5.9.8, which PyPI does not have).
PYVICI_VERSION=5.9.11

# Cargo's tools are installed per user; a non-login shell may not have them on PATH.
case ":$PATH:" in
*":${HOME:-/root}/.cargo/bin:"*) ;;
*) [ -d "${HOME:-/root}/.cargo/bin" ] && PATH="${HOME:-/root}/.cargo/bin:$PATH" ;;
esac

# Runs "$@" holding the cache lock, so concurrent installs do not interleave.
with_cache_lock() {
	mkdir -p "$IKERD_CACHE"
	(
		flock 9
		"$@"
	) 9>"$IKERD_CACHE/lock"
}

# need_apt PACKAGE...: installs the Debian packages that are not installed yet.
need_apt() {
	local missing=() pkg log
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}; run as root, or: apt-get install ${missing[*]}"
	say "installing Debian packages: ${missing[*]}"
	log=$(mktemp)
	if ! {
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update &&
			DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 \
				install --no-install-recommends "${missing[@]}"
	} >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$log"
		die "apt-get could not install: ${missing[*]}"
	fi
	rm -f "$log"
}

# need_vng: sets VNG to a virtme-ng of the pinned version, installed from PyPI into a virtual
# environment of its own (Debian's Python refuses system-wide pip installs).
need_vng() {
	local venv="$IKERD_CACHE/virtme-ng-$VIRTME_NG_VERSION"
	VNG="$venv/bin/vng"
	[ -e "$venv/.complete" ] && return 0
	python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt python3-venv
	with_cache_lock install_venv "$venv" "virtme-ng==$VIRTME_NG_VERSION" ||
		die "could not install virtme-ng $VIRTME_NG_VERSION from PyPI"
}

# need_pyvici: sets PYVICI to a Python with strongSwan's `vici` package of the pinned version,
# in a virtual environment of its own; the root tests run their VICI scripts with it. When PyPI
# cannot be reached it says so, leaves PYVICI empty and returns 1: the tests that need it fail,
# the others still run.
need_pyvici() {
	local venv="$IKERD_CACHE/pyvici-$PYVICI_VERSION"
	PYVICI="$venv/bin/python3"
	[ -e "$venv/.complete" ] && return 0
	python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt python3-venv
	with_cache_lock install_venv "$venv" "vici==$PYVICI_VERSION" && return 0
	say "could not install vici $PYVICI_VERSION from PyPI: the root tests that run it will fail"
	PYVICI=
	return 1
}

# install_venv VENV REQUIREMENT: a virtual environment at VENV with REQUIREMENT from PyPI,
# marked complete only once pip succeeded; one that is complete is left as it is (no network
# needed).
install_venv() {
	local venv=$1 requirement=$2 log
	[ -e "$venv/.complete" ] && return 0
	say "installing $requirement into $venv"
	log=$(mktemp)
	rm -rf "$venv"
	if ! {
		python3 -m venv "$venv" &&
			"$venv/bin/pip" install -q --disable-pip-version-check "$requirement"
	} >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -rf "$venv" "$log"
		return 1
	fi
	rm -f "$log"
	touch "$venv/.complete"
}

# need_rust_tools: rustfmt, clippy and cargo-nextest for the workspace tests.
need_rust_tools() {
	command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
	local component
	for component in rustfmt clippy; do
		cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && continue
		say "installing the Rust component $component"
		rustup component add "$component" >/dev/null 2>&1 || die "rustup could not add $component"
	done
	if ! cargo nextest --version >/dev/null 2>&1; then
		say "installing cargo-nextest (a few minutes: it builds from source)"
		cargo install --locked --quiet cargo-nextest || die "could not install cargo-nextest"
	fi
}

# Libreswan's Debian package conflicts with strongSwan's (both provide ike-server): it is
# unpacked into LIBRESWAN_ROOT, never installed, and its library dependencies are installed on
# their own.
LIBRESWAN_ROOT=${LIBRESWAN_ROOT:-/opt/libreswan}
LIBRESWAN_DEPS=(libnss3-tools libnss3 libnspr4 libcurl3-nss libevent-core-2.1-7 libevent-pthreads-2.1-7
	libldns3 libunbound8 libcap-ng0 libldap-2.5-0 libaudit1 libpam0g libselinux1 libsystemd0 libcrypt1)

# need_libreswan: Libreswan's pluto, whack and addconn under LIBRESWAN_ROOT, and the libraries
# they need. Takes the cache lock only when it has to unpack (the VM's file system is read-only).
need_libreswan() {
	[ -x "$LIBRESWAN_ROOT/usr/libexec/ipsec/pluto" ] || with_cache_lock unpack_libreswan ||
		die "could not unpack Libreswan into $LIBRESWAN_ROOT"
	need_apt "${LIBRESWAN_DEPS[@]}"
}

unpack_libreswan() {
	local dl
	[ -x "$LIBRESWAN_ROOT/usr/libexec/ipsec/pluto" ] && return 0
	[ "$(id -u)" -eq 0 ] || die "Libreswan is missing from $LIBRESWAN_ROOT; run as root to unpack it there"
	dl=$(mktemp -d)
	say "unpacking Debian's libreswan package into $LIBRESWAN_ROOT (not installing it)"
	(cd "$dl" && apt-get -q download libreswan >/dev/null 2>&1) || {
		apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1
		(cd "$dl" && apt-get -q download libreswan >/dev/null 2>&1)
	} || {
		rm -rf "$dl"
		say "apt-get download libreswan failed"
		return 1
	}
	mkdir -p "$LIBRESWAN_ROOT"
	dpkg-deb -x "$dl"/libreswan_*.deb "$LIBRESWAN_ROOT" || { rm -rf "$dl"; return 1; }
	rm -rf "$dl"
}
