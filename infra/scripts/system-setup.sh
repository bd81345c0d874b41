#!/usr/bin/env bash
# System pieces dagbot's sandbox needs. Idempotent: a second run reuses what is there.
#
#   1. apt packages: docker.io, bubblewrap, debootstrap, libseccomp2, prometheus and
#      prometheus-alertmanager (a test fires a real alerting rule through them; their own
#      services, where systemd starts them, are left as Debian sets them up) (apt-get update only
#      when an install needs it)
#   2. a Docker engine: `dockerd --bridge=none --iptables=false` in the background if none answers
#   3. the sandbox root filesystem (Debian bookworm minbase + python3 + a few libraries), kept as
#      an extracted directory for bubblewrap and as a cached tarball:
#        $DAGBOT_SANDBOX_ROOTFS        (default /var/lib/dagbot/sandbox/rootfs-1)
#        $DAGBOT_SANDBOX_CACHE/...tar  (default /var/cache/dagbot)
#   4. the Docker image dagbot-sandbox:1: `docker build infra/sandbox` where a registry answers,
#      otherwise offline: `docker import` of the rootfs tarball.
#
# Keep SANDBOX_VERSION and the package list in step with sandbox/image.py (a test checks it).
# Anything that cannot be done (not root, no engine) is reported as a WARNING; the sandbox
# tests then skip that backend and say why.
set -euo pipefail

SANDBOX_VERSION=1
SANDBOX_IMAGE="${SANDBOX_IMAGE:-dagbot-sandbox:${SANDBOX_VERSION}}"
SANDBOX_PACKAGES="python3,python3-bs4,python3-lxml,python3-yaml,python3-dateutil"
SANDBOX_SUITE=bookworm
ROOTFS="${DAGBOT_SANDBOX_ROOTFS:-/var/lib/dagbot/sandbox/rootfs-${SANDBOX_VERSION}}"
CACHE_DIR="${DAGBOT_SANDBOX_CACHE:-/var/cache/dagbot}"
TARBALL="${CACHE_DIR}/sandbox-rootfs-${SANDBOX_VERSION}.tar"
DOCKERD_LOG="${DAGBOT_DOCKERD_LOG:-/var/log/dagbot-dockerd.log}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { echo "system setup: $*"; }
warn() { echo "system setup: WARNING: $*" >&2; }

report_unprivileged() {
    # Not root: say what is ready and what is not, change nothing.
    local missing=()
    docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1 || missing+=("docker engine/image $SANDBOX_IMAGE")
    [[ -f "$ROOTFS.ok" ]] || missing+=("sandbox rootfs $ROOTFS")
    command -v bwrap >/dev/null || missing+=("bubblewrap")
    command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null \
        || missing+=("prometheus-alertmanager")
    command -v prometheus >/dev/null || missing+=("prometheus")
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "ready (image $SANDBOX_IMAGE, rootfs $ROOTFS; not root, nothing changed)"
        return 0
    fi
    warn "not root and no password-less sudo, so these cannot be set up: ${missing[*]}"
    warn "run as root: bash infra/scripts/system-setup.sh (or: sudo make system)"
    warn "the sandbox tests skip the backends that are not ready, and say why"
}

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n --preserve-env=SANDBOX_IMAGE,DAGBOT_SANDBOX_ROOTFS,DAGBOT_SANDBOX_CACHE,DAGBOT_DEBIAN_MIRROR \
            bash "${BASH_SOURCE[0]}" "$@"
    fi
    report_unprivileged
    exit 0
fi

# ------------------------------------------------------------------ 1. packages
ensure_packages() {
    local missing=() pkg
    # libseccomp2: bwrap's seccomp filter (sandbox/backends/seccomp.py); util-linux: setpriv
    # prometheus, prometheus-alertmanager: tests/bot/test_{alertmanager,prometheus}_real.py, bench.alerts
    for pkg in docker.io bubblewrap debootstrap util-linux tar libseccomp2 prometheus prometheus-alertmanager; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# -------------------------------------------------------------------- 2. dockerd
ensure_dockerd() {
    if docker info >/dev/null 2>&1; then return 0; fi
    if ! command -v dockerd >/dev/null; then
        warn "dockerd is not installed; the docker backend is unavailable"
        return 1
    fi
    say "starting dockerd --bridge=none --iptables=false (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid nohup dockerd --bridge=none --iptables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
    local i
    for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    warn "dockerd did not answer within 30 s; last lines of $DOCKERD_LOG:"
    tail -n 20 "$DOCKERD_LOG" >&2 || true
    return 1
}

# --------------------------------------------------------------- 3. the rootfs
debian_mirror() {
    # The archive this machine's apt already uses for $SANDBOX_SUITE/main (corporate mirrors,
    # deb822 or one-line sources alike): apt-cache policy lists each source as
    #   500 http://mirror.example/debian bookworm/main amd64 Packages
    # DAGBOT_DEBIAN_MIRROR overrides it.
    if [[ -n "${DAGBOT_DEBIAN_MIRROR:-}" ]]; then echo "$DAGBOT_DEBIAN_MIRROR"; return 0; fi
    local uri
    uri=$(apt-cache policy 2>/dev/null | awk -v want="$SANDBOX_SUITE/main" '$3 == want && $2 ~ /^https?:/ {print $2; exit}')
    if [[ -z "$uri" ]]; then
        apt-get update -q >/dev/null 2>&1 || true
        uri=$(apt-cache policy 2>/dev/null | awk -v want="$SANDBOX_SUITE/main" '$3 == want && $2 ~ /^https?:/ {print $2; exit}')
    fi
    [[ -n "$uri" ]] || return 1
    echo "$uri"
}

apt_proxy() {
    # debootstrap fetches with wget, which reads http_proxy: pass on apt's own proxy setting.
    apt-config dump 2>/dev/null | awk -F'"' '/^Acquire::http::Proxy /{print $2; exit}'
}

harden_rootfs() {
    local root=$1
    install -d -m 1777 "$root/scratch"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
    # no setuid/setgid programs inside the sandbox
    find "$root" -xdev -type f -perm /6000 -exec chmod ug-s {} + 2>/dev/null || true
}

build_tarball() {
    mkdir -p "$CACHE_DIR"
    if docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1; then
        say "exporting the rootfs from $SANDBOX_IMAGE"
        local cid
        cid=$(docker create "$SANDBOX_IMAGE" /bin/true)
        docker export "$cid" >"$TARBALL.tmp"
        docker rm -f "$cid" >/dev/null
        mv "$TARBALL.tmp" "$TARBALL"
        return 0
    fi
    local mirror work proxy
    if ! mirror=$(debian_mirror); then
        warn "no apt source for Debian $SANDBOX_SUITE/main on this machine: add one to /etc/apt/sources.list(.d)"
        warn "or set DAGBOT_DEBIAN_MIRROR to a Debian archive URL"
        return 1
    fi
    proxy=$(apt_proxy)
    if [[ -n "$proxy" && -z "${http_proxy:-}" ]]; then export http_proxy="$proxy"; fi
    work=$(mktemp -d /var/tmp/dagbot-rootfs.XXXXXX)
    say "debootstrap $SANDBOX_SUITE from $mirror (about a minute, cached afterwards)"
    if ! debootstrap --variant=minbase --include="$SANDBOX_PACKAGES" \
        "$SANDBOX_SUITE" "$work" "$mirror" >"$work.log" 2>&1; then
        tail -n 20 "$work.log" >&2
        rm -rf "$work"
        warn "debootstrap failed (full log: $work.log)"
        return 1
    fi
    harden_rootfs "$work"
    tar -C "$work" --numeric-owner -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$work" "$work.log"
}

ensure_rootfs() {
    if [[ -f "$ROOTFS.ok" && -x "$ROOTFS/usr/bin/python3" ]]; then return 0; fi
    [[ -s "$TARBALL" ]] || build_tarball || return 1
    say "extracting the sandbox rootfs into $ROOTFS"
    rm -rf "$ROOTFS" "$ROOTFS.ok"
    # bwrap runs as uid 65534: every directory on the way must be traversable
    install -d -m 755 "$(dirname "$(dirname "$ROOTFS")")" "$(dirname "$ROOTFS")" "$ROOTFS"
    tar -C "$ROOTFS" --numeric-owner -xf "$TARBALL"
    harden_rootfs "$ROOTFS"
    chmod 755 "$ROOTFS"
    touch "$ROOTFS.ok"
}

# ----------------------------------------------------------------- 4. the image
registry_reachable() {
    timeout 3 bash -c 'exec 3<>/dev/tcp/registry-1.docker.io/443' 2>/dev/null
}

ensure_image() {
    if docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1; then return 0; fi
    if registry_reachable; then
        say "building $SANDBOX_IMAGE from infra/sandbox/Dockerfile"
        if docker build -q -t "$SANDBOX_IMAGE" "$HERE/infra/sandbox" >/dev/null; then return 0; fi
        warn "docker build failed; building offline instead"
    fi
    [[ -s "$TARBALL" ]] || build_tarball || return 1
    say "importing $SANDBOX_IMAGE from $TARBALL (offline build)"
    docker import \
        --change 'USER 65534:65534' \
        --change 'WORKDIR /scratch' \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' \
        --change 'CMD ["/usr/bin/python3"]' \
        - "$SANDBOX_IMAGE" <"$TARBALL" >/dev/null
}

check_bwrap() {
    # bwrap runs as the unprivileged uid 65534 (see sandbox/bwrap.py): user namespaces must work.
    if ! setpriv --reuid=65534 --regid=65534 --clear-groups \
        bwrap --unshare-all --ro-bind "$ROOTFS" / --proc /proc --dev /dev /usr/bin/python3 -c '' \
        >/dev/null 2>&1; then
        warn "bubblewrap cannot start a sandbox as uid 65534 (are unprivileged user namespaces"
        warn "disabled? sysctl kernel.unprivileged_userns_clone=1 /"
        warn "kernel.apparmor_restrict_unprivileged_userns=0); the bwrap backend is unavailable"
    fi
}

ensure_packages || warn "could not install docker.io/bubblewrap/debootstrap/prometheus/prometheus-alertmanager"
docker_ok=1
ensure_dockerd || docker_ok=0
if [[ $docker_ok -eq 1 ]]; then
    ensure_image || warn "could not build $SANDBOX_IMAGE; the docker backend is unavailable"
fi
if ensure_rootfs; then
    check_bwrap
else
    warn "no sandbox rootfs; bwrap falls back to the host's /usr (Python stdlib only)"
fi
say "ready (image $SANDBOX_IMAGE, rootfs $ROOTFS)"
