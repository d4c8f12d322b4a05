#!/usr/bin/env bash
# Builds kubemend's container image (OCI) with buildah, without a daemon or a
# registry: the root filesystem is Debian bookworm packages unpacked by
# mmdebstrap (scripts/image/packages: the C and C++ runtime Node links
# against, no shell, no package manager), Node 24 is the binary the repo's
# `node` devDependency installed, and /app is the CLI with its production
# dependencies (scripts/image/stage.ts). The Containerfile describes the same
# image for docker and podman.
#
#   scripts/build-image.sh [--tag NAME]... [--iidfile FILE] [--rebuild-base]
#   npm run image -- --tag registry.example/kubemend:0.1.0
#
# Needs buildah and mmdebstrap (apt-get install buildah mmdebstrap), run as
# root or with rootless user namespaces set up, and `npm ci` done.
# Env: KUBEMEND_IMAGE_CACHE (default /var/tmp/kubemend-image): where the base
# root filesystem is kept, keyed by everything it is made from, so later
# builds skip mmdebstrap; KUBEMEND_IMAGE_SOURCES: the apt sources it uses
# (default: this machine's); SOURCE_DATE_EPOCH: the image's creation time
# (default: the last commit's), which makes rebuilds of a commit identical;
# buildah's own, e.g. STORAGE_DRIVER=vfs inside a container that cannot
# mount overlays.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

tags=() iidfile="" rebuild=0
while (($#)); do
  case "$1" in
    --tag) tags+=("${2:?--tag needs a name}"); shift 2 ;;
    --iidfile) iidfile="${2:?--iidfile needs a file}"; shift 2 ;;
    --rebuild-base) rebuild=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-image: $*" >&2; exit 1; }
trap 'echo "build-image: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install -y buildah mmdebstrap)"
done
# buildah's default (OCI runtime) isolation needs runc/crun and privileges a
# container may lack; the build runs nothing inside the image anyway.
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

node="$(readlink -f node_modules/node/bin/node 2>/dev/null || true)"
[[ -x "$node" ]] || die "node_modules/node/bin/node is missing: run npm ci (the node devDependency provides the image's Node)"
node_version="$("$node" --version)"
[[ "$node_version" == v24.* ]] || die "node_modules/node is Node $node_version; the image needs Node 24"
pkg() { "$node" -p "require('./package.json').$1"; }
version="$(pkg version)"
((${#tags[@]})) || tags=("localhost/kubemend:$version")
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"

# --- the base root filesystem, cached ---------------------------------------
sources="${KUBEMEND_IMAGE_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
# Older Debian installs keep the one-line format; a path given explicitly is used as given.
[[ -f "$sources" || -n "${KUBEMEND_IMAGE_SOURCES:-}" ]] || sources=/etc/apt/sources.list
[[ -f "$sources" ]] || die "no apt sources at $sources; set KUBEMEND_IMAGE_SOURCES to a sources.list or deb822 file naming a bookworm mirror"
packages="$(grep -v '^#' scripts/image/packages | paste -sd, -)"
cache="${KUBEMEND_IMAGE_CACHE:-/var/tmp/kubemend-image}"
key="$(cat scripts/image/packages scripts/image/rootfs.sh "$sources" <(mmdebstrap --version) | sha256sum | cut -c1-16)"
base="$cache/base-$key.tar"
work="$(mktemp -d "${TMPDIR:-/tmp}/kubemend-image.XXXXXX")"
ctr=""
cleanup() {
  if [[ -n "$ctr" ]]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
if ((rebuild)) || [[ ! -f "$base" ]]; then
  echo "build-image: making the base root filesystem ($packages) with mmdebstrap" >&2
  mkdir -p "$cache"
  # extract: unpack exactly these packages, run no maintainer script. The
  # .debs stay for rootfs.sh's package records.
  mmdebstrap --quiet --variant=extract --include="$packages" --skip=cleanup/apt/cache \
    --format=directory bookworm "$work/rootfs" "$sources"
  sh scripts/image/rootfs.sh "$work/rootfs"
  # /dev is the runtime's to populate: mmdebstrap's device nodes stay out.
  tar --create --file "$work/base.tar" --directory "$work/rootfs" --exclude='./dev/*' \
    --numeric-owner --sort=name --mtime="@$epoch" .
  mv "$work/base.tar" "$base" # atomic: a concurrent build sees the old file or the whole new one
  rm -rf "$work/rootfs"
fi

# --- the app ----------------------------------------------------------------
"$node" scripts/image/stage.ts "$work/stage" >&2

# --- the image --------------------------------------------------------------
ctr="$(buildah from scratch)"
buildah add --quiet "$ctr" "$base" / # a tar is unpacked with its owners (65532's home)
buildah copy --quiet "$ctr" "$node" /usr/local/bin/node
buildah copy --quiet "$ctr" "$work/stage/app" /app
buildah config \
  --user 65532:65532 \
  --workingdir /app \
  --env PATH=/usr/local/bin:/usr/bin:/bin \
  --env HOME=/home/nonroot \
  --env KUBEMEND_HOME=/var/lib/kubemend \
  --entrypoint '["/usr/local/bin/node", "/app/bin/kubemend.js"]' \
  --cmd '["--help"]' \
  --label org.opencontainers.image.title=kubemend \
  --label "org.opencontainers.image.description=$(pkg description)" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.licenses=$(pkg license)" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" \
  "$ctr"
args=(--quiet --rm --timestamp "$epoch")
[[ -n "$iidfile" ]] && args+=(--iidfile "$iidfile")
id="$(buildah commit "${args[@]}" "$ctr" "${tags[0]}")"
ctr="" # --rm removed it
for t in "${tags[@]:1}"; do buildah tag "$id" "$t"; done
# One line per name the ID has (identical builds share it): the first. Not
# `| head -1`, whose early exit would fail the pipeline.
size="$(buildah images --noheading --format '{{.Size}}' "$id")"
size="${size%%$'\n'*}"
echo "build-image: built ${tags[*]} (${id:0:12}, $size) in $((SECONDS - start))s" >&2
echo "$id"
