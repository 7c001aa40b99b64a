"""Downloads the pinned archives into the cache with the registries' own clients
(apt-get download, pip download, npm pack) and records their sha256.

An archive already in the cache is not downloaded again, so a second build runs
offline.
"""

import glob
import hashlib
import os
import subprocess
import sys

APT_BATCH = 150


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _deb_glob(cache, name, version):
    quoted = version.replace(":", "%3a")  # how apt names files with an epoch
    return glob.glob(os.path.join(cache, "debian", f"{name}_{quoted}_*.deb"))


def _pin_dir(cache, registry, name, version):
    return os.path.join(cache, registry, f"{name}=={version}")


def archive_path(cache, registry, name, version):
    """The cached archive of a pin, or None when it is not downloaded yet."""
    if registry == "debian":
        found = sorted(_deb_glob(cache, name, version))
    else:
        found = sorted(glob.glob(os.path.join(_pin_dir(cache, registry, name, version), "*")))
    return found[0] if found else None


def _run(cmd, cwd=None):
    print("+ " + " ".join(cmd[:6]) + (" ..." if len(cmd) > 6 else ""), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _unserved_debs(batch):
    """The pins (name, version) of `batch` that apt does not offer, each with
    the versions it does offer (the mirror drops a security update's version
    when a newer one supersedes it)."""
    gone = []
    for name, version in batch:
        shown = subprocess.run(["apt-cache", "madison", name], capture_output=True,
                               text=True, check=False)
        offered = [fields[1].strip() for fields in
                   (line.split("|") for line in shown.stdout.splitlines()) if len(fields) >= 3]
        if version not in offered:
            gone.append((name, version, offered))
    return gone


def _download_debs(batch, cache):
    """Downloads one batch of Debian pins; refreshes the package lists once if
    apt cannot, and then names the pins it still cannot find."""
    cmd = ["apt-get", "download", "-q"] + [f"{n}={v}" for n, v in batch]
    cwd = os.path.join(cache, "debian")
    try:
        _run(cmd, cwd=cwd)
        return
    except subprocess.CalledProcessError:
        _run(["apt-get", "update", "-qq"])  # package lists missing or stale
    try:
        _run(cmd, cwd=cwd)
    except subprocess.CalledProcessError as failed:
        gone = _unserved_debs(batch)
        if not gone:
            raise SystemExit(f"fetch-real-corpus: apt-get download of {len(batch)} pinned "
                             f"Debian packages failed (exit {failed.returncode}; apt's "
                             "message is above)") from None
        listed = "\n".join(f"  {n}={v} (offered: {', '.join(o) or 'none'})"
                           for n, v, o in gone)
        raise SystemExit(
            "fetch-real-corpus: the Debian mirror no longer serves these pinned versions:\n"
            f"{listed}\n"
            "Move each to an offered version in scripts/realtext/pins/debian.tsv (the "
            "corpus then differs from the recorded one by those documents), or redraw "
            "every Debian pin: scripts/fetch-real-corpus --repin <(apt-cache dumpavail)"
        ) from None


def download(pins, cache):
    """Makes sure every pin (registry, name, version, role) is in the cache and
    returns manifest rows (registry, name, version, role, file, size, sha256)."""
    os.makedirs(os.path.join(cache, "debian"), exist_ok=True)
    missing_debs = [
        (n, v) for r, n, v, _ in pins if r == "debian" and not archive_path(cache, r, n, v)
    ]
    for i in range(0, len(missing_debs), APT_BATCH):
        _download_debs(missing_debs[i : i + APT_BATCH], cache)
    for registry, name, version, _ in pins:
        if registry == "debian" or archive_path(cache, registry, name, version):
            continue
        dest = _pin_dir(cache, registry, name, version)
        os.makedirs(dest, exist_ok=True)
        if registry == "pypi":
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                  "--only-binary", ":all:", "--no-cache-dir", "-d", dest,
                  f"{name}=={version}"])
        elif registry == "npm":
            _run(["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", dest])
    rows = []
    for registry, name, version, role in pins:
        path = archive_path(cache, registry, name, version)
        if path is None:
            raise SystemExit(f"fetch-real-corpus: {registry} {name} {version} was not downloaded")
        rows.append((registry, name, version, role, os.path.relpath(path, cache),
                     str(os.path.getsize(path)), sha256_of(path)))
    return rows
