#!/bin/sh
# Finishes the image's root filesystem once the Debian packages are extracted
# into ROOT (their .debs still in ROOT/var/cache/apt/archives). Both builds
# run it: scripts/build-image.sh on mmdebstrap's output and the Containerfile
# on the packages it downloads, so the two images get the same files.
#   sh scripts/image/rootfs.sh ROOT
set -eu
root="${1:?usage: rootfs.sh ROOT}"
cd "$root"

# Packages are unpacked, never installed (no dpkg, no maintainer scripts), so
# write the dpkg status database vulnerability scanners (trivy, grype) read to
# know which Debian packages and versions the image holds.
mkdir -p var/lib/dpkg
: > var/lib/dpkg/status
for deb in var/cache/apt/archives/*.deb; do
  dpkg-deb --field "$deb" | awk 'NR == 1 { print; print "Status: install ok installed"; next } { print }' >> var/lib/dpkg/status
  echo >> var/lib/dpkg/status
done

# No apt in the image: its configuration, lists and downloads are dead weight,
# as is the rest of dpkg's database and what mmdebstrap sets up for a system
# that boots (fstab). resolv.conf and hostname are the build host's; the
# runtime provides its own.
rm -rf etc/apt var/lib/apt var/cache/apt var/log/apt etc/resolv.conf etc/hostname etc/fstab etc/dpkg/dpkg.cfg.d
find var/lib/dpkg -mindepth 1 -maxdepth 1 ! -name status -exec rm -rf {} +
# glibc's iconv modules (8 MB): Node converts text with its own ICU, never iconv.
rm -rf usr/lib/x86_64-linux-gnu/gconv usr/lib/aarch64-linux-gnu/gconv
# Documentation, keeping each package's copyright notice (licence compliance);
# libstdc++'s gdb pretty-printers.
rm -rf usr/share/man usr/share/info usr/share/lintian usr/share/gcc usr/share/gdb
if [ -d usr/share/doc ]; then find usr/share/doc ! -type d ! -name copyright -exec rm -f {} +; fi

# The user kubemend runs as: 65532, the conventional "nonroot" of distroless
# images, with no login shell (there is none) and a home of its own.
cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
nonroot:x:65532:
GROUP
install -d -m 0755 -o 65532 -g 65532 home/nonroot
# KUBEMEND_HOME: the SQLite store and the audit key when no volume or
# --data-dir says otherwise.
install -d -m 0700 -o 65532 -g 65532 var/lib/kubemend
install -d -m 1777 tmp
