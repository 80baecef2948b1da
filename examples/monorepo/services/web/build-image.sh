#!/bin/sh
# Builds a one-layer OCI image of a directory into an OCI image layout, reproducibly (same
# input, same digest), with nothing but POSIX sh, GNU tar, gzip and sha256sum.
# Usage: build-image.sh SOURCE_DIR LAYOUT_DIR
set -eu
src=$1
out=$2
rm -rf "$out"
mkdir -p "$out/blobs/sha256"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --transform 's,^\.,srv/www,' \
	-C "$src" -cf "$tmp/layer.tar" .
diff_id=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"

put() { # file → prints "digest size", stores the blob
	d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "$out/blobs/sha256/$d"
	echo "sha256:$d $(wc -c <"$1" | tr -d ' ')"
}
set -- $(put "$tmp/layer.tar.gz"); layer_digest=$1; layer_size=$2
printf '{"architecture":"amd64","os":"linux","config":{"WorkingDir":"/srv/www"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$diff_id" >"$tmp/config.json"
set -- $(put "$tmp/config.json"); config_digest=$1; config_size=$2
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
	"$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$tmp/manifest.json"
set -- $(put "$tmp/manifest.json"); manifest_digest=$1; manifest_size=$2
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s}]}' \
	"$manifest_digest" "$manifest_size" >"$out/index.json"
echo "built $manifest_digest"
