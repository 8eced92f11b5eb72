#!/bin/sh
# Reproducible: a rootfs generated with explicit modes, imported by reproimg (sorted, mtimes
# clamped to SOURCE_DATE_EPOCH, owner names cleared) into an OCI archive.
set -eu
rm -rf out rootfs && mkdir -p out rootfs/etc rootfs/usr/bin
echo 'NAME="rebuilt"' > rootfs/etc/os-release
printf '#!/bin/sh\necho hello\n' > rootfs/usr/bin/hello
ls src > /dev/null
chmod -R u=rwX,go=rX rootfs && chmod 755 rootfs/usr/bin/hello
"${REPROIMG:-reproimg}" import dir:rootfs --format oci-archive -o out/image.tar
