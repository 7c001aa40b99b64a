"""The pinned sources of the benchmark: which registry packages, at which
versions, feed which collection.

Debian packages are listed in pins/debian.tsv (name, version, role); it was drawn
once from the local apt lists by `select_debian` (run with --repin) and is kept
fixed so that every build downloads the same archives. PyPI wheels and npm tarballs
are listed below, several published versions per package so that versions of the
same document occur naturally.
"""

import hashlib
import os

PINS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pins")
DEBIAN_PINS = os.path.join(PINS_DIR, "debian.tsv")

# PyPI wheels (pure Python, no build step): README in METADATA, LICENSE files.
PYPI = {
    "requests": ["2.25.1", "2.28.2", "2.31.0", "2.32.3"],
    "flask": ["1.1.4", "2.0.3", "2.3.3", "3.0.3"],
    "click": ["7.1.2", "8.0.4", "8.1.7"],
    "attrs": ["21.4.0", "22.2.0", "23.2.0"],
    "jinja2": ["2.11.3", "3.0.3", "3.1.4"],
    "werkzeug": ["2.0.3", "2.3.8", "3.0.3"],
    "itsdangerous": ["1.1.0", "2.0.1", "2.1.2"],
    "six": ["1.15.0", "1.16.0"],
    "packaging": ["20.9", "21.3", "23.2", "24.1"],
    "pluggy": ["0.13.1", "1.0.0", "1.5.0"],
    "idna": ["2.10", "3.4", "3.7"],
    "urllib3": ["1.26.18", "2.0.7", "2.2.2"],
    "tomli": ["1.2.3", "2.0.1"],
    "colorama": ["0.4.4", "0.4.6"],
    "tabulate": ["0.8.10", "0.9.0"],
    "termcolor": ["2.0.1", "2.4.0"],
    "python-dateutil": ["2.8.2", "2.9.0.post0"],
    "more-itertools": ["8.14.0", "9.1.0", "10.3.0"],
    "decorator": ["4.4.2", "5.1.1"],
    "pyparsing": ["2.4.7", "3.0.9", "3.1.2"],
    "filelock": ["3.12.4", "3.15.4"],
    "platformdirs": ["3.11.0", "4.2.2"],
    "cachetools": ["4.2.4", "5.3.3"],
    "chardet": ["4.0.0", "5.2.0"],
    "zipp": ["3.15.0", "3.19.2"],
    "h11": ["0.12.0", "0.14.0"],
    "markdown": ["3.3.7", "3.6"],
    "mccabe": ["0.6.1", "0.7.0"],
    "pycodestyle": ["2.8.0", "2.11.1"],
    "pyflakes": ["2.4.0", "3.2.0"],
    "iniconfig": ["1.1.1", "2.0.0"],
    "wcwidth": ["0.2.6", "0.2.13"],
    "blinker": ["1.6.3", "1.8.2"],
    "httpx": ["0.23.3", "0.27.0"],
    "anyio": ["3.7.1", "4.4.0"],
    "konlpy": ["0.5.2", "0.6.0"],
}

# npm tarballs: README, CHANGELOG/History, LICENSE, docs.
NPM = {
    "express": ["3.21.2", "4.17.1", "4.18.2", "4.19.2"],
    "lodash": ["4.17.15", "4.17.21"],
    "chalk": ["2.4.2", "4.1.2", "5.3.0"],
    "commander": ["2.20.3", "7.2.0", "9.5.0", "11.1.0"],
    "debug": ["2.6.9", "3.2.7", "4.3.4"],
    "axios": ["0.21.4", "0.27.2", "1.6.8"],
    "moment": ["2.29.4", "2.30.1"],
    "yargs": ["15.4.1", "17.7.2"],
    "semver": ["5.7.2", "6.3.1", "7.6.2"],
    "uuid": ["3.4.0", "8.3.2", "9.0.1"],
    "mkdirp": ["0.5.6", "1.0.4", "3.0.1"],
    "glob": ["7.2.3", "8.1.0", "10.4.1"],
    "async": ["2.6.4", "3.2.5"],
    "body-parser": ["1.19.0", "1.20.2"],
    "ws": ["7.5.9", "8.17.0"],
    "rimraf": ["2.7.1", "3.0.2", "5.0.7"],
    "react": ["16.14.0", "17.0.2", "18.3.1"],
    "underscore": ["1.12.1", "1.13.6"],
    "marked": ["4.3.0", "12.0.2"],
    "js-yaml": ["3.14.1", "4.1.0"],
    "dotenv": ["8.6.0", "16.4.5"],
    "qs": ["6.11.2", "6.12.1"],
    "minimist": ["1.2.6", "1.2.8"],
    "cors": ["2.8.5"],
    "morgan": ["1.9.1", "1.10.0"],
    "spdx-license-list": ["6.9.0"],
}

# Debian packages named on purpose (not drawn at random): licence texts, help
# pages and message catalogues, mostly with Korean translations.
DEBIAN_NAMED = [
    ("base-files", "licences"),
    ("debian-faq", "docs"),
    ("debian-faq-ko", "korean"),
    ("gnome-user-docs", "korean"),
    ("libreoffice-help-ko", "korean"),
    ("libreoffice-l10n-ko", "korean"),
    ("gimp-help-ko", "korean"),
    ("apt", "korean"),
    ("dpkg", "korean"),
    ("debconf", "korean"),
    ("libgtk-3-common", "korean"),
    ("libglib2.0-data", "korean"),
    ("nautilus-data", "korean"),
    ("evince-common", "korean"),
    ("gnome-control-center-data", "korean"),
    ("xfce4-panel", "korean"),
    ("xfce4-session", "korean"),
    ("thunar-data", "korean"),
    ("mousepad", "korean"),
    ("coreutils", "korean"),
    ("findutils", "korean"),
    ("grep", "korean"),
    ("sed", "korean"),
    ("tar", "korean"),
    ("wget", "korean"),
    ("nano", "korean"),
    ("gettext", "korean"),
    ("bash", "korean"),
    ("diffutils", "korean"),
    ("gnupg-l10n", "korean"),
    # GNOME applications with Korean help pages (their legal/credits pages and
    # game rules are templated across applications) and Xfce plugins with
    # Korean message catalogues.
    ("gnome-calculator", "korean"),
    ("gedit-common", "korean"),
    ("evince-common", "korean"),
    ("gnome-terminal-data", "korean"),
    ("totem-common", "korean"),
    ("baobab", "korean"),
    ("eog", "korean"),
    ("file-roller", "korean"),
    ("gnome-system-monitor", "korean"),
    ("simple-scan", "korean"),
    ("cheese-common", "korean"),
    ("gnome-clocks", "korean"),
    ("gnome-weather", "korean"),
    ("gnome-maps", "korean"),
    ("gnome-contacts", "korean"),
    ("gnome-disk-utility", "korean"),
    ("gnome-font-viewer", "korean"),
    ("gnome-logs", "korean"),
    ("gnome-music", "korean"),
    ("gnome-photos", "korean"),
    ("rhythmbox-data", "korean"),
    ("seahorse", "korean"),
    ("zenity-common", "korean"),
    ("gnome-klotski", "korean"),
    ("gnome-mines", "korean"),
    ("gnome-sudoku", "korean"),
    ("aisleriot", "korean"),
    ("four-in-a-row", "korean"),
    ("iagno", "korean"),
    ("lightsoff", "korean"),
    ("quadrapassel", "korean"),
    ("swell-foop", "korean"),
    ("tali", "korean"),
    ("five-or-more", "korean"),
    ("gnome-chess", "korean"),
    ("gnome-mahjongg", "korean"),
    ("gnome-robots", "korean"),
    ("gnome-tetravex", "korean"),
    ("gnome-nibbles", "korean"),
    ("hitori", "korean"),
    ("gnome-taquin", "korean"),
    ("accerciser", "korean"),
    ("brasero-common", "korean"),
    ("glade", "korean"),
    ("orca", "korean"),
    ("polari", "korean"),
    ("gitg", "korean"),
    ("dconf-editor", "korean"),
    ("devhelp-common", "korean"),
    ("gucharmap", "korean"),
    ("ghex", "korean"),
    ("gnome-boxes", "korean"),
    ("gnote", "korean"),
    ("evolution-common", "korean"),
    ("meld", "korean"),
    ("gtranslator", "korean"),
    ("gnome-characters", "korean"),
    ("gnome-calendar", "korean"),
    ("gnome-screenshot", "korean"),
    ("gnome-tweaks", "korean"),
    ("sound-juicer", "korean"),
    ("xfce4-weather-plugin", "korean"),
    ("xfce4-clipman-plugin", "korean"),
    ("xfce4-cpugraph-plugin", "korean"),
    ("xfce4-netload-plugin", "korean"),
    ("xfce4-battery-plugin", "korean"),
    ("xfce4-sensors-plugin", "korean"),
    ("xfce4-whiskermenu-plugin", "korean"),
    ("xfce4-notifyd", "korean"),
    ("xfce4-power-manager-data", "korean"),
    ("xfce4-screenshooter", "korean"),
    ("xfce4-taskmanager", "korean"),
    ("xfce4-terminal", "korean"),
    ("ristretto", "korean"),
    ("parole", "korean"),
    ("xfce4-mailwatch-plugin", "korean"),
    ("xfce4-timer-plugin", "korean"),
    ("xfce4-diskperf-plugin", "korean"),
    ("xfce4-genmon-plugin", "korean"),
    ("xfce4-systemload-plugin", "korean"),
    ("xfce4-wavelan-plugin", "korean"),
    ("xfce4-xkb-plugin", "korean"),
    ("xfce4-places-plugin", "korean"),
    ("xfce4-verve-plugin", "korean"),
]

# Randomly drawn Debian packages: their copyright files (licences) and changelogs
# and READMEs (docs).
DEBIAN_RANDOM_COUNT = 2000
DEBIAN_RANDOM_MAX_SIZE = 60000
DEBIAN_RANDOM_PER_SOURCE = 2


def _stanzas(text):
    for block in text.split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if line and not line[0].isspace() and ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            yield fields


def select_debian(avail_text, seed):
    """Draws the pinned Debian list from `apt-cache dumpavail` output: the named
    packages, then DEBIAN_RANDOM_COUNT small packages (archive at most
    DEBIAN_RANDOM_MAX_SIZE bytes, at most DEBIAN_RANDOM_PER_SOURCE per source
    package) in the order of a seeded hash of their names. Returns rows
    (name, version, role)."""
    latest = {}
    for f in _stanzas(avail_text):
        name = f["Package"]
        if name not in latest:  # dumpavail lists the candidate first
            latest[name] = f
    rows = []
    named = {n for n, _ in DEBIAN_NAMED}
    for name, role in DEBIAN_NAMED:
        if name in latest:
            rows.append((name, latest[name]["Version"], role))
    per_source = {}
    order = sorted(
        latest,
        key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest(),
    )
    for name in order:
        if len(rows) >= len(named) + DEBIAN_RANDOM_COUNT:
            break
        f = latest[name]
        if name in named or int(f.get("Size", "0")) > DEBIAN_RANDOM_MAX_SIZE:
            continue
        source = f.get("Source", name).split(" ")[0]
        if per_source.get(source, 0) >= DEBIAN_RANDOM_PER_SOURCE:
            continue
        per_source[source] = per_source.get(source, 0) + 1
        rows.append((name, f["Version"], "random"))
    return rows


def read_debian_pins():
    """Rows (name, version, role) of pins/debian.tsv."""
    rows = []
    with open(DEBIAN_PINS, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            name, version, role = line.rstrip("\n").split("\t")
            rows.append((name, version, role))
    return rows


def write_debian_pins(rows):
    with open(DEBIAN_PINS, "w", encoding="utf-8") as fh:
        fh.write("# name\tversion\trole (written by fetch-real-corpus --repin)\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")


def all_pins():
    """Every pinned archive as (registry, name, version, role)."""
    pins = [("debian", n, v, r) for n, v, r in read_debian_pins()]
    pins += [("pypi", n, v, "docs") for n, vs in PYPI.items() for v in vs]
    pins += [("npm", n, v, "docs") for n, vs in NPM.items() for v in vs]
    return pins
