#!/usr/bin/env bash
# Build the suite's test images as OCI image layouts, offline and
# reproducibly (the same bytes on every run with the same busybox-static),
# from Debian's /bin/busybox:
#
#   scripts/testimages.sh OUTDIR          the standard set (below)
#   scripts/testimages.sh OUTDIR big      only `big`, ~50 MB, for bench/pull.sh
#
# OUTDIR/NAME is an OCI image layout whose index.json names one manifest (or
# index) with the tag "latest" (`skopeo copy oci:OUTDIR/NAME:latest ...`).
#
#   busybox         OCI manifest, 2 layers (gzip): 1 = busybox + applet symlinks
#                   + bare dirs; 2 = /etc/passwd, /etc/group (user app 1000:1000,
#                   group staff 50), /hello.txt, /srv. Config: Entrypoint
#                   ["/bin/sh","-c"], Cmd ["echo hello from $GREETING; id; pwd"],
#                   Env PATH + GREETING=image, WorkingDir /srv, User "",
#                   Labels {"org.lcctl.test":"yes"}, StopSignal SIGUSR1.
#                   Its run prints: hello from image / uid=0(root) ... / /srv
#   busybox-docker  the same layers and config in a Docker v2 schema 2 manifest
#                   (Docker media types throughout)
#   multi           an OCI index: linux/amd64 and linux/arm64/v8 (the same
#                   files, the host's busybox in both; the configs differ in
#                   architecture), nothing for linux/s390x
#   zstd            busybox with layer 1 in zstd (application/vnd.oci.image.layer.v1.tar+zstd)
#   whiteout        busybox + layer 3 (/data/gone.txt, /data/kept.txt,
#                   /opq/old.txt) + layer 4 (/data/.wh.gone.txt, opaque /opq
#                   with /opq/new.txt); Cmd lists /data and /opq
#   user            busybox with config User "app:staff" (runs as uid=1000(app) gid=50(staff))
#   big             busybox + 4 layers of 12 MiB of seeded pseudo-random bytes
#                   (/big/N.bin), gzip (which cannot shrink them)
#
# The output is cached: OUTDIR/.stamp (OUTDIR/.stamp-big) holds the key, made
# of VERSION below and busybox's checksum; a run with the same key does
# nothing. Bump VERSION whenever what is built changes. Builds take a lock
# (OUTDIR/.lock), so parallel suites share one OUTDIR safely.
set -euo pipefail
export LC_ALL=C
umask 022

VERSION=lcctl-testimages-3
BUSYBOX=/bin/busybox
PY=/usr/bin/python3 # Debian's, whatever python3 is first on PATH

usage() {
  echo "usage: $0 OUTDIR [big]" >&2
  exit 2
}

(($# == 1 || $# == 2)) || usage
OUTDIR=${1%/}
SET=${2:-standard}
[[ $SET == standard || $SET == big ]] || usage
[[ $OUTDIR == /* ]] || OUTDIR=$PWD/$OUTDIR

for tool in tar gzip zstd sha256sum "$PY"; do
  command -v "$tool" >/dev/null || { echo "testimages: $tool missing (bash scripts/deps.sh)" >&2; exit 1; }
done
[[ -x $BUSYBOX ]] || { echo "testimages: $BUSYBOX missing: install busybox-static" >&2; exit 1; }

if [[ $SET == big ]]; then
  STAMP=$OUTDIR/.stamp-big
  IMAGES=(big)
else
  STAMP=$OUTDIR/.stamp
  IMAGES=(busybox busybox-docker multi zstd whiteout user)
fi
KEY="$VERSION $(sha256sum "$BUSYBOX" | cut -d' ' -f1)"

# cached: the stamp matches and every image of the set is there.
cached() {
  local name
  [[ -f $STAMP && "$(cat "$STAMP")" == "$KEY" ]] || return 1
  for name in "${IMAGES[@]}"; do
    [[ -f $OUTDIR/$name/index.json ]] || return 1
  done
}

mkdir -p "$OUTDIR"
cached && exit 0
exec 8>"$OUTDIR/.lock"
flock 8
cached && exit 0 # another run built it while we waited

BUILD=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
echo "testimages: building ${IMAGES[*]} in $OUTDIR" >&2

"$PY" - "$BUILD" "$SET" "$BUSYBOX" <<'PY'
import hashlib, json, os, random, subprocess, sys

build, which, busybox = sys.argv[1:4]
stage_root = os.path.join(build, ".stage")
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    # One fixed serialisation: insertion order, no spaces.
    return json.dumps(obj, separators=(",", ":")).encode()


class Tree:
    """A directory staged on disk with fixed modes, turned into a layer tar."""

    count = 0

    def __init__(self):
        Tree.count += 1
        self.root = os.path.join(stage_root, str(Tree.count))
        os.makedirs(self.root)

    def dir(self, path, mode=0o755):
        p = os.path.join(self.root, path)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)

    def file(self, path, data, mode=0o644):
        self.dir(os.path.dirname(path) or ".")
        p = os.path.join(self.root, path)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)

    def symlink(self, path, target):
        self.dir(os.path.dirname(path))
        os.symlink(target, os.path.join(self.root, path))

    def tar(self):
        os.chmod(self.root, 0o755)
        names = sorted(os.listdir(self.root))
        return subprocess.run(
            ["tar", "--format=gnu", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
             "--numeric-owner", "-C", self.root, "-cf", "-", "--"] + names,
            check=True, stdout=subprocess.PIPE).stdout


def compress(data, how):
    cmd = {"gzip": ["gzip", "-n", "-6", "-c"], "zstd": ["zstd", "-q", "-3", "-T1", "-c"]}[how]
    return subprocess.run(cmd, input=data, check=True, stdout=subprocess.PIPE).stdout


def busybox_layer():
    t = Tree()
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "var", "home"]:
        t.dir(d)
    t.dir("tmp", 0o1777)
    t.dir("root", 0o700)
    with open(busybox, "rb") as f:
        t.file("bin/busybox", f.read(), 0o755)
    applets = subprocess.run([busybox, "--list-full"], check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split()
    for applet in sorted(applets):
        if applet != "bin/busybox":
            t.symlink(applet, "/bin/busybox")
    return t.tar()


def accounts_layer():
    t = Tree()
    t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
           "app:x:1000:1000:app:/home/app:/bin/sh\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    t.file("etc/group", "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n")
    t.file("etc/hosts", "127.0.0.1 localhost\n")
    t.file("hello.txt", "hello from the lcctl test image\n")
    t.dir("srv")
    t.dir("home/app")
    return t.tar()


def whiteout_layers():
    lower = Tree()
    lower.file("data/gone.txt", "deleted by the next layer\n")
    lower.file("data/kept.txt", "kept\n")
    lower.file("opq/old.txt", "hidden by the opaque directory above\n")
    upper = Tree()
    upper.file("data/.wh.gone.txt", "")
    upper.file("opq/.wh..wh..opq", "")
    upper.file("opq/new.txt", "new\n")
    return [lower.tar(), upper.tar()]


def big_layers():
    rng = random.Random(20260101)
    layers = []
    for n in range(1, 5):
        t = Tree()
        t.file("big/%d.bin" % n, rng.randbytes(12 << 20))
        layers.append(t.tar())
    return layers


class Layout:
    """An OCI image layout: blobs by digest, index.json naming one tag."""

    def __init__(self, name):
        self.dir = os.path.join(build, name)
        os.makedirs(os.path.join(self.dir, "blobs", "sha256"))
        with open(os.path.join(self.dir, "oci-layout"), "wb") as f:
            f.write(canonical({"imageLayoutVersion": "1.0.0"}))

    def blob(self, data, media_type):
        digest = sha256(data)
        with open(os.path.join(self.dir, "blobs", "sha256", digest[7:]), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def tag(self, desc):
        desc = dict(desc, annotations={"org.opencontainers.image.ref.name": "latest"})
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]}
        with open(os.path.join(self.dir, "index.json"), "wb") as f:
            f.write(canonical(index))


DEFAULT_CONFIG = {
    "User": "",
    "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=image"],
    "Entrypoint": ["/bin/sh", "-c"],
    "Cmd": ["echo hello from $GREETING; id; pwd"],
    "WorkingDir": "/srv",
    "Labels": {"org.lcctl.test": "yes"},
    "StopSignal": "SIGUSR1",
}


def image_config(diffs, arch=arch, variant=None, **overrides):
    cfg = {"created": "1970-01-01T00:00:00Z", "architecture": arch}
    if variant:
        cfg["variant"] = variant
    cfg.update({"os": "linux", "config": dict(DEFAULT_CONFIG, **overrides),
                "rootfs": {"type": "layers", "diff_ids": [sha256(d) for d in diffs]},
                "history": [{"created": "1970-01-01T00:00:00Z",
                             "created_by": "scripts/testimages.sh layer %d" % (i + 1)}
                            for i in range(len(diffs))]})
    return canonical(cfg)


def manifest(layout, diffs, compressions, config, types):
    """Write layers, config and manifest blobs; types = (manifest, config, gzip, zstd)."""
    layers = [layout.blob(compress(d, c), types[2] if c == "gzip" else types[3])
              for d, c in zip(diffs, compressions)]
    m = {"schemaVersion": 2, "mediaType": types[0],
         "config": layout.blob(config, types[1]), "layers": layers}
    return layout.blob(canonical(m), types[0])


OCI = (OCI_MANIFEST, OCI_CONFIG, OCI_GZIP, OCI_ZSTD)
DOCKER = (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_GZIP, None)


def simple(name, diffs, compressions=None, types=OCI, **config):
    layout = Layout(name)
    comp = compressions or ["gzip"] * len(diffs)
    layout.tag(manifest(layout, diffs, comp, image_config(diffs, **config), types))


base = [busybox_layer(), accounts_layer()]
if which == "big":
    simple("big", base + big_layers(), Cmd=["ls -l /big"])
else:
    simple("busybox", base)
    simple("busybox-docker", base, types=DOCKER)
    simple("zstd", base, compressions=["zstd", "gzip"])
    simple("whiteout", base + whiteout_layers(), Cmd=["ls /data /opq"])
    simple("user", base, User="app:staff")
    multi = Layout("multi")
    entries = []
    for plat in [{"architecture": "amd64", "os": "linux"},
                 {"architecture": "arm64", "os": "linux", "variant": "v8"}]:
        cfg = image_config(base, arch=plat["architecture"], variant=plat.get("variant"))
        entries.append(dict(manifest(multi, base, ["gzip", "gzip"], cfg, OCI), platform=plat))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    multi.tag(multi.blob(canonical(index), OCI_INDEX))
PY

rm -rf "$BUILD/.stage"
for name in "${IMAGES[@]}"; do
  rm -rf "${OUTDIR:?}/$name"
  mv "$BUILD/$name" "$OUTDIR/$name"
done
echo "$KEY" >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
