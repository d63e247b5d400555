#!/usr/bin/env bash
# Podman as the Docker engine for the testcontainers source of the emulator harness
# (conformance/src/emulators/containers.ts). Run as root; idempotent; safe to run again.
#
#   1. installs Debian's podman + runc (pinned; crun fails on this kernel's hybrid cgroups);
#   2. writes /etc/containers/containers.conf (runc, cgroupfs, ulimits below the hard limits,
#      never pull) so no per-command flags are needed;
#   3. starts `podman system service` on a unix socket (the Docker Engine API testcontainers talks to);
#   4. builds local images of the emulators from what `npm run emulators:install` put in .emulators/,
#      tagged with the image names pinned in conformance/emulators/versions.json, so the same code
#      pulls the official images on a machine with Docker and registry access.
#
# Prints `export DOCKER_HOST=...` as its last line:  eval "$(sudo scripts/podman-setup.sh | tail -n 1)"
# Options: --no-images (steps 1-3 only), --stop (stop the API service it started).
# Variables: POLYCLOUD_PODMAN_SOCKET (default /run/polycloud/podman.sock),
#            POLYCLOUD_EMULATORS_DIR (default <repo>/.emulators).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
emu=$(readlink -f "${POLYCLOUD_EMULATORS_DIR:-$repo/.emulators}")
socket=${POLYCLOUD_PODMAN_SOCKET:-/run/polycloud/podman.sock}
pidfile="$(dirname "$socket")/podman-service.pid"
# Debian 12 (bookworm) versions this was checked with.
PODMAN_VERSION='4.3.1+ds1-8+deb12u1+b3'
RUNC_VERSION='1.1.5+ds1-1+deb12u1'
BUSYBOX_VERSION='1:1.35.0-4+deb12u1+b1'

log() { printf '[podman-setup %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

images=1
for arg in "$@"; do
  case "$arg" in
    --no-images) images=0 ;;
    --stop)
      if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")" && log "stopped podman system service (pid $(cat "$pidfile"))"
      fi
      rm -f "$pidfile" "$socket"
      exit 0
      ;;
    *) die "unknown option $arg" ;;
  esac
done
[[ $EUID -eq 0 ]] || die 'run as root (podman runs rootful here)'
t_all=$(now)

# 1. packages ------------------------------------------------------------------------------------
installed() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
if [[ $(installed podman) != "$PODMAN_VERSION" || $(installed runc) != "$RUNC_VERSION" ||
  -z $(installed busybox-static) ]]; then
  t=$(now)
  log 'apt-get install podman runc busybox-static'
  apt-get update -qq
  pkgs=(podman="$PODMAN_VERSION" runc="$RUNC_VERSION" busybox-static="$BUSYBOX_VERSION"
    conmon catatonit containernetworking-plugins slirp4netns uidmap)
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; then
    # A Debian point release replaces the pinned build; the newest of the same release line does.
    log "pinned versions unavailable; installing the candidates ($(apt-cache policy podman | awk '/Candidate/ {print $2}'))"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      podman runc busybox-static conmon catatonit containernetworking-plugins slirp4netns uidmap >/dev/null
  fi
  log "packages installed in $(since "$t")"
fi

# 2. configuration -------------------------------------------------------------------------------
conf=/etc/containers/containers.conf
marker='# written by polycloud scripts/podman-setup.sh'
if [[ -f $conf ]] && ! grep -qF "$marker" "$conf"; then cp "$conf" "$conf.before-polycloud"; fi
mkdir -p /etc/containers
cat >"$conf.new" <<EOF
$marker
[containers]
# The default ulimits exceed the hard limits of this machine, and runc refuses them.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
log_driver = "k8s-file"

[engine]
# crun fails on hybrid cgroup v1/v2 hosts; runc works.
runtime = "runc"
# No systemd here: podman manages cgroups itself.
cgroup_manager = "cgroupfs"
events_logger = "file"
# Images are built locally; nothing can be pulled here.
image_default_transport = "docker://"

[network]
network_backend = "cni"
EOF
if ! cmp -s "$conf.new" "$conf" 2>/dev/null; then
  mv "$conf.new" "$conf"
  log "wrote $conf"
else
  rm -f "$conf.new"
fi
# Short names are never resolved against a registry.
regconf=/etc/containers/registries.conf.d/50-polycloud.conf
if [[ ! -f $regconf ]]; then
  mkdir -p "$(dirname "$regconf")"
  printf '%s\nunqualified-search-registries = []\nshort-name-mode = "disabled"\n' "$marker" >"$regconf"
fi
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Store.GraphDriverName}}' >&2 ||
  die 'podman info failed'

# 3. API socket ----------------------------------------------------------------------------------
mkdir -p "$(dirname "$socket")"
# GET /_ping with node (the project needs it anyway; curl may be missing).
ping_socket() {
  node -e 'const r = require("node:http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 },
    (res) => process.exit(res.statusCode === 200 ? 0 : 1));
  r.on("error", () => process.exit(1)); r.on("timeout", () => process.exit(1));' "$socket" 2>/dev/null
}
if ! ping_socket; then
  rm -f "$socket"
  # setsid: the service outlives this script and is not killed with the caller's process group.
  setsid podman system service --time=0 "unix://$socket" >"$(dirname "$socket")/podman-service.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do ping_socket && break; sleep 0.1; done
  ping_socket || die "podman system service did not answer on $socket (see $(dirname "$socket")/podman-service.log)"
  log "podman system service listening on $socket (pid $(cat "$pidfile"))"
fi

# 4. images --------------------------------------------------------------------------------------
if ((images)); then
  [[ -d $emu ]] || die "$emu is missing: run \`npm run emulators:install\` first"
  pin() { node -e 'const v=require(process.argv[1]);process.stdout.write(v.containers[process.argv[2]]??"")' \
    "$repo/conformance/emulators/versions.json" "$1"; }
  # Docker Hub names are stored fully qualified: podman's Docker API resolves "a/b" to docker.io/a/b.
  qualify() {
    local first=${1%%/*}
    if [[ $1 == */* && ($first == *.* || $first == *:* || $first == localhost) ]]; then echo "$1"
    elif [[ $1 == */* ]]; then echo "docker.io/$1"
    else echo "docker.io/library/$1"; fi
  }
  work=$(mktemp -d /tmp/polycloud-rootfs.XXXXXX)
  trap 'rm -rf "$work"' EXIT

  # Copy an ELF file and every shared library it loads (per ldd) into a root filesystem.
  copy_elf() {
    local root=$1 file=$2 dest=${3:-$2} lib
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$file" "$root$dest"
    while read -r lib; do
      [[ -n $lib && -e $lib && ! -e $root$lib ]] || continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done < <(ldd "$file" 2>/dev/null | grep -oE '/[^ ]+' || true)
  }
  base_root() {
    local root=$1
    mkdir -p "$root"/{bin,tmp,etc,data,usr/bin,usr/local/bin}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh env cat ls; do ln -sf /bin/busybox "$root/bin/$applet"; done
    ln -sf /bin/busybox "$root/usr/bin/env"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
  }
  # No EXPOSE in these images: podman 4.3's Docker API lists exposed-but-unpublished ports in
  # HostConfig.PortBindings with no binding, and testcontainers then waits for them forever.
  # Build an image unless one with the same inputs exists. $1 id, $2 input fingerprint, $3 root, rest: --change
  import_image() {
    local id=$1 fingerprint=$2 root=$3 image
    shift 3
    image=$(qualify "$(pin "$id")")
    local t
    t=$(now)
    tar -C "$root" -cf - . | podman import --quiet \
      --change "LABEL org.polycloud.fingerprint=$fingerprint" --change "LABEL org.polycloud.emulator=$id" \
      "$@" - "$image" >/dev/null
    log "$image: imported in $(since "$t") ($(du -sh "$root" | cut -f1))"
    rm -rf "$root"
  }
  fingerprint() { { cat "$emu/stamps/$1.json" 2>/dev/null || true; } | sha256sum | cut -c1-16; }
  # An image is built only from an installed emulator (its install stamp exists).
  installed_emu() {
    local id
    for id in "$@"; do
      [[ -f $emu/stamps/$id.json ]] || { log "$id is not installed in $emu: no image (npm run emulators:install)"; return 1; }
    done
  }
  up_to_date() {
    local image
    image=$(qualify "$(pin "$1")")
    [[ $(podman image inspect --format '{{index .Labels "org.polycloud.fingerprint"}}' "$image" 2>/dev/null) == "$2" ]]
  }
  script_fp=$(sha256sum "$0" | cut -c1-8)

  # fake-gcs-server: static Go binary; same entrypoint as fsouza/fake-gcs-server.
  fp="$script_fp-$(fingerprint fake-gcs-server)"
  if installed_emu fake-gcs-server && ! up_to_date fake-gcs-server "$fp"; then
    r=$work/fake-gcs && base_root "$r"
    cp "$emu/fake-gcs-server/bin/fake-gcs-server" "$r/bin/fake-gcs-server"
    import_image fake-gcs-server "$fp" "$r" \
      --change 'ENTRYPOINT ["/bin/fake-gcs-server", "-data", "/data"]'
  fi

  # The gcloud emulators image: pstest and the Bigtable emulator behind a `gcloud` that understands
  # `gcloud beta emulators {pubsub|bigtable} start --host-port=H:P [--project=P]`.
  [[ $(pin pstest) == "$(pin bigtable-emulator)" ]] || die 'pstest and bigtable-emulator pins name different images'
  fp="$script_fp-$(fingerprint pstest)-$(fingerprint bigtable-emulator)"
  if installed_emu pstest bigtable-emulator && ! up_to_date pstest "$fp"; then
    r=$work/gcloud && base_root "$r"
    cp "$emu/pstest/bin/pstest" "$r/usr/local/bin/pstest"
    cp "$emu/bigtable-emulator/bin/emulator" "$r/usr/local/bin/cbtemulator"
    cat >"$r/usr/local/bin/gcloud" <<'EOF'
#!/bin/sh
# Stand-in for the gcloud CLI of the emulators image: only `beta emulators <svc> start`.
[ "$1 $2 $4" = "beta emulators start" ] || { echo "gcloud stand-in: unsupported: $*" >&2; exit 2; }
svc=$3; shift 4; hostport=localhost:8085
for a in "$@"; do case $a in --host-port=*) hostport=${a#--host-port=} ;; esac; done
host=${hostport%:*}; port=${hostport##*:}
case $svc in
  pubsub) exec /usr/local/bin/pstest -host "$host" -port "$port" ;;
  bigtable) exec /usr/local/bin/cbtemulator -host "$host" -port "$port" ;;
  *) echo "gcloud stand-in: no emulator $svc" >&2; exit 2 ;;
esac
EOF
    chmod +x "$r/usr/local/bin/gcloud"
    import_image pstest "$fp" "$r" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["/bin/sh"]'
  fi

  # Azurite: node + the installed package; `azurite` on PATH as in the official image.
  fp="$script_fp-$(fingerprint azurite)-$(node --version)"
  if installed_emu azurite && ! up_to_date azurite "$fp"; then
    r=$work/azurite && base_root "$r"
    copy_elf "$r" "$(command -v node)" /usr/local/bin/node
    mkdir -p "$r/opt/azurite"
    # Source maps, type declarations and docs are half of the install and never loaded.
    tar -C "$emu/azurite" --exclude='*.map' --exclude='*.d.ts' --exclude='*.md' --exclude='*.ts.map' \
      -cf - node_modules | tar -C "$r/opt/azurite" -xf -
    ln -sf /opt/azurite/node_modules/azurite/dist/src/azurite.js "$r/usr/local/bin/azurite"
    import_image azurite "$fp" "$r" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      --change 'WORKDIR /opt/azurite' \
      --change 'CMD ["azurite", "-l", "/data", "--blobHost", "0.0.0.0", "--queueHost", "0.0.0.0", "--tableHost", "0.0.0.0"]'
  fi

  # Python emulators (moto, LocalStack): the venv plus the interpreter it was made with.
  python_root() {
    local root=$1 venv=$2 py stdlib
    py=$(readlink -f "$venv/bin/python3")
    stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    copy_elf "$root" "$py"
    # The venv's python symlinks point at the interpreter's real path; keep that path.
    mkdir -p "$root$(dirname "$(readlink "$venv/bin/python3")")"
    [[ -e $root$(readlink "$venv/bin/python3") ]] || ln -sf "$py" "$root$(readlink "$venv/bin/python3")"
    mkdir -p "$root$stdlib"
    tar -C "$stdlib" --exclude=./test --exclude=./site-packages --exclude=./idlelib --exclude=./tkinter \
      --exclude=./ensurepip --exclude='./config-*' -cf - . | tar -C "$root$stdlib" -xf -
    local so
    for so in "$root$stdlib"/lib-dynload/*.so; do copy_elf "$root" "${so#"$root"}" 2>/dev/null || true; done
    for so in $(find "$venv/lib" -name '*.so*' -type f); do
      while read -r lib; do
        [[ -n $lib && -e $lib && ! -e $root$lib ]] || continue
        mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
      done < <(ldd "$so" 2>/dev/null | grep -oE '/[^ ]+' | grep -v "^$venv" || true)
    done
    mkdir -p "$root$venv"
    tar -C "$venv" --exclude='./lib/python3*/site-packages/pip' --exclude='*/tests' -cf - . | tar -C "$root$venv" -xf -
    [[ -d /etc/ssl/certs ]] && mkdir -p "$root/etc/ssl" && cp -aL /etc/ssl/certs "$root/etc/ssl/" 2>/dev/null || true
    # zoneinfo: LocalStack's S3 (and anything using ZoneInfo) needs the time zone database.
    [[ -d /usr/share/zoneinfo ]] && mkdir -p "$root/usr/share" && cp -a /usr/share/zoneinfo "$root/usr/share/" 2>/dev/null || true
  }

  # moto: same entrypoint as motoserver/moto (`moto_server -H 0.0.0.0`, port via -p).
  if [[ -n $(pin moto) ]] && installed_emu moto; then
    fp="$script_fp-$(fingerprint moto)"
    if ! up_to_date moto "$fp"; then
      r=$work/moto && base_root "$r"
      python_root "$r" "$emu/moto-venv"
      printf '#!/bin/sh\nexec %s -m moto.server "$@"\n' "$emu/moto-venv/bin/python" >"$r/usr/local/bin/moto_server"
      chmod +x "$r/usr/local/bin/moto_server"
      import_image moto "$fp" "$r" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        --change 'ENV PYTHONUNBUFFERED=1' \
        --change 'ENTRYPOINT ["/usr/local/bin/moto_server", "-H", "0.0.0.0"]'
    fi
  fi
  # LocalStack: its venv and interpreter; configured through the same variables as
  # localstack/localstack (GATEWAY_LISTEN, SERVICES, ...), started without its container supervisor.
  if [[ -n $(pin localstack) ]] && installed_emu localstack; then
    fp="$script_fp-$(fingerprint localstack)"
    if ! up_to_date localstack "$fp"; then
      r=$work/localstack && base_root "$r"
      python_root "$r" "$emu/localstack-venv"
      mkdir -p "$r/var/lib/localstack"
      import_image localstack "$fp" "$r" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        --change 'ENV PYTHONUNBUFFERED=1' --change 'ENV RUNTIME_COMPONENTS=aws' \
        --change 'ENV DNS_ADDRESS=0' --change 'ENV SKIP_SSL_CERT_DOWNLOAD=1' --change 'ENV DISABLE_EVENTS=1' \
        --change "ENTRYPOINT [\"$emu/localstack-venv/bin/python\", \"-m\", \"localstack.runtime.main\"]"
    fi
  fi
  # Earlier builds of the same tags are left untagged: remove them.
  podman image prune -f --filter label=org.polycloud.emulator >/dev/null 2>&1 || true
fi

log "done in $(since "$t_all")"
echo "export DOCKER_HOST=unix://$socket"
