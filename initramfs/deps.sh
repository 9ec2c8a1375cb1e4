#!/bin/sh
# deps.sh installs what the QEMU path needs, idempotently:
#   - qemu-system-x86 from bookworm-backports (Debian 12's own QEMU 7.2 has no
#     igb device), without recommends;
#   - Debian's generic linux-image-*-amd64 package, extracted (not installed)
#     into $NICBED_CACHE (default .cache/ in the project, git-ignored), with
#     the vmlinuz and modules the guest needs.
# It says what it does and stops with a clear message when a step fails.
set -eu

cache=${NICBED_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
say() { echo "nicbed deps: $*"; }
die() { echo "nicbed deps: $*" >&2; exit 1; }

need_qemu() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 || return 0
	qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"' && return 1
	return 0
}

if need_qemu; then
	[ "$(id -u)" = 0 ] || die "QEMU with the igb device is needed: run 'make deps' as root (it installs qemu-system-x86 from bookworm-backports)"
	if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
		mirror=$(grep -rhs '^URIs:.*debian$' /etc/apt/sources.list.d/ | head -1 | awk '{print $2}')
		[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
		say "adding the bookworm-backports suite ($mirror) in /etc/apt/sources.list.d/nicbed-backports.sources"
		cat >/etc/apt/sources.list.d/nicbed-backports.sources <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	fi
	say "installing qemu-system-x86 from bookworm-backports (no recommends)"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null ||
		die "installing qemu-system-x86 from bookworm-backports failed"
	need_qemu && die "qemu-system-x86_64 still has no igb device after the install"
fi

# The kernel: Debian's generic flavour (the cloud one has no 9p, e1000 or igb).
if ! ls "$cache"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
	command -v apt-cache >/dev/null || die "apt-cache is needed to find Debian's kernel package"
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { [ "$(id -u)" = 0 ] && apt-get update -qq; pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
	[ -n "$pkg" ] || die "cannot find Debian's linux-image-*-amd64 package (apt-cache depends linux-image-amd64)"
	say "downloading $pkg and extracting it into $cache/kernel"
	mkdir -p "$cache/kernel.tmp"
	(cd "$cache/kernel.tmp" && rm -f ./*.deb && apt-get download -qq -o APT::Sandbox::User=root "$pkg") || die "apt-get download $pkg failed"
	dpkg -x "$cache"/kernel.tmp/*.deb "$cache/kernel.tmp/root" || die "dpkg -x of $pkg failed"
	rm -rf "$cache/kernel"
	mv "$cache/kernel.tmp/root" "$cache/kernel"
	rm -rf "$cache/kernel.tmp"
fi
k=$(ls "$cache"/kernel/boot/vmlinuz-* | head -1)
[ -r "$k" ] || die "no readable kernel in $cache/kernel/boot"
say "QEMU $(qemu-system-x86_64 --version | awk 'NR==1 {print $4}'), kernel $k"
