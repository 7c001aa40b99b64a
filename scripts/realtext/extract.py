"""Turns cached archives into documents: plain paragraphs of real text with their
provenance.

A document is a dict: collection, registry, package, version, path (inside the
archive), family (same family = versions of the same file), lang, licence, and
paras (list of one-line paragraphs). Paragraph rules:
- plain text, Markdown, RST, changelogs, copyright files: blank-line separated
  blocks, each block's lines stripped and joined by one space (a DEP-5 " ." line is
  a blank line);
- HTML and Mallard help pages: text between block-level tags, whitespace collapsed;
- message catalogues (.mo): one paragraph per translated message.
Paragraphs without any word token (rules like "-----", bare symbols) are left
out. Articles are capped at MAX_ARTICLE_CHARS (whole paragraphs; a first paragraph that
is longer is cut at a space), paragraphs at MAX_PARA_CHARS.
"""

import gettext
import gzip
import html
import io
import json
import os
import re
import subprocess
import tarfile
import zipfile

from . import textsim

MAX_ARTICLE_CHARS = 20000
MAX_PARA_CHARS = 4000
MIN_ARTICLE_WORDS = 5
# Korean-collection documents must be mostly Korean: at least this share of word
# tokens contain Hangul.
MIN_HANGUL_SHARE = 0.3

_BLOCK_TAGS = (
    "p|div|br|li|ul|ol|dt|dd|dl|tr|td|th|table|h[1-6]|title|pre|section|page|"
    "item|note|desc|info|credit|name|email|years|terms|tree|code|screen|figure|"
    "caption|blockquote|header|footer|nav|span class=\"bookmark\""
)
_BLOCK_RE = re.compile(r"<\s*/?\s*(?:" + _BLOCK_TAGS + r")\b[^>]*>", re.I)
_DROP_RE = re.compile(r"(?is)<(script|style|head|object)\b.*?</\1\s*>|<!--.*?-->")
_TAG_RE = re.compile(r"<[^>]*>")
_WS_RE = re.compile(r"\s+")


def _cap_paragraph(p):
    p = _WS_RE.sub(" ", p).strip()
    if len(p) > MAX_PARA_CHARS:
        cut = p.rfind(" ", 0, MAX_PARA_CHARS)
        p = p[: cut if cut > 0 else MAX_PARA_CHARS]
    return p


def _cap_article(paras):
    out, total = [], 0
    for p in paras:
        p = _cap_paragraph(p)
        if not textsim.tokens(p):
            continue  # no word at all (rules, separators, bare symbols): not text
        if out and total + len(p) > MAX_ARTICLE_CHARS:
            break
        out.append(p)
        total += len(p) + 1
    return out


def paras_from_plain(text):
    """Blank-line separated blocks, lines joined by a space."""
    blocks, cur = [], []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        s = line.strip()
        if not s or s == ".":
            if cur:
                blocks.append(" ".join(cur))
                cur = []
        else:
            cur.append(s)
    if cur:
        blocks.append(" ".join(cur))
    return blocks


_LO_BODY = re.compile(r'(?s)<div id="DisplayArea".*?(?=<h3 class="bug">|</body>|$)')
_MALLARD_CREDITS = re.compile(r"(?s)<(?:\w+:)?credit\b.*?</(?:\w+:)?credit>|<revision\b[^>]*/>|<link type=\"(guide|seealso|next)\"[^>]*/>")


def paras_from_markup(text):
    """Text of HTML or Mallard XML, one paragraph per block element. Page chrome
    is left out: LibreOffice help keeps only its display area (not the navigation
    or the debug footer), Mallard pages lose their credits (author names, e-mail
    addresses, years) and navigation links."""
    m = _LO_BODY.search(text)
    if m:
        text = m.group(0)
    text = _MALLARD_CREDITS.sub(" ", text)
    text = _DROP_RE.sub(" ", text)
    text = _BLOCK_RE.sub("\n", text)
    text = _TAG_RE.sub("", text)
    text = html.unescape(text)
    return [_WS_RE.sub(" ", line).strip() for line in text.split("\n") if line.strip()]


def paras_from_mo(data):
    """Translated messages of a gettext catalogue, in msgid order."""
    cat = gettext.GNUTranslations(io.BytesIO(data))._catalog  # noqa: SLF001
    out = []
    for key in sorted(cat, key=lambda k: k if isinstance(k, str) else k[0]):
        if key == "":
            continue  # the header
        value = cat[key]
        if value:
            out.append(_WS_RE.sub(" ", value).strip())
    return out


def _decode(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _doc(collection, pin, path, family, paras, licence, lang="en"):
    paras = _cap_article(paras)
    text = "\n".join(paras)
    if textsim.word_count(text) < MIN_ARTICLE_WORDS:
        return None
    if collection == "korean":
        if textsim.hangul_share(text) < MIN_HANGUL_SHARE:
            return None
        lang = "ko"
    registry, name, version = pin
    return {
        "collection": collection, "group": source_group(registry, family, path),
        "registry": registry, "package": name,
        "version": version, "path": path, "family": family, "lang": lang,
        "licence": licence, "paras": paras,
    }


def source_group(registry, family, path):
    """The kind of source a document comes from (e.g. debian-copyright, spdx,
    help-libreoffice, mo): paragraph-level corpora draw from every group."""
    kind = family.split(":")[0]
    if kind == "help":
        for name in ("libreoffice", "gimp", "FAQ"):
            if f"/{name}/" in path:
                return "help-" + name.lower()
        return "help-gnome"
    if kind in ("pypi", "npm"):
        return f"{kind}-{'licence' if re.search(r'licen[cs]e|copying|notice|authors', family, re.I) else 'doc'}"
    return kind


# ------------------------------------------------------------------ Debian
_DOC_RE = re.compile(r"^\./usr/share/doc/([^/]+)/(.+)$")
_DOC_FILES = re.compile(
    r"^(changelog\.Debian(\.gz)?|NEWS\.Debian(\.gz)?|README\.Debian|README(\.md|\.txt|\.rst)?"
    r"|NEWS(\.gz)?|changelog(\.gz)?|CHANGES(\.gz)?|TODO(\.Debian)?)$"
)
_KO_MO = re.compile(r"/ko/LC_MESSAGES/[^/]+\.mo$")
_KO_HELP = re.compile(
    r"(/usr/share/help/ko/.+\.page|/usr/share/libreoffice/help/ko/text/.+\.html"
    r"|/usr/share/gimp/2\.0/help/ko/.+\.html|/usr/share/doc/debian/FAQ/ko/.+\.html)$"
)
_FAQ_EN = re.compile(r"^\./usr/share/doc/debian/FAQ/[^/]+\.html$")


def _copyright_licence(text):
    """The licence named by the first License: field of a DEP-5 copyright file."""
    m = re.search(r"^License:\s*(\S.*)$", text, re.M)
    return m.group(1).strip() if m else "see copyright file"


def _deb_members(path):
    """(member name, bytes) of the files of a .deb that the benchmark reads."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", path], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for m in tar:
                if not m.isfile():
                    continue
                n = m.name
                if (_DOC_RE.match(n) or n.startswith("./usr/share/common-licenses/")
                        or _KO_MO.search(n) or _KO_HELP.search(n) or _FAQ_EN.match(n)):
                    yield n, tar.extractfile(m).read()
    finally:
        proc.stdout.close()
        proc.wait()


def extract_deb(pin, path):
    registry, name, version = pin
    members = dict(_deb_members(path))
    copyright_text = ""
    for n, data in members.items():
        if n == f"./usr/share/doc/{name}/copyright":
            copyright_text = _decode(data)
    licence = _copyright_licence(copyright_text) if copyright_text else "unknown"
    docs = []
    for n, data in sorted(members.items()):
        short = n[1:]
        if n.startswith("./usr/share/common-licenses/"):
            docs.append(_doc("licences", pin, short, "common-licenses:" + os.path.basename(n),
                             paras_from_plain(_decode(data)), "verbatim licence text"))
            continue
        if _KO_MO.search(n):
            docs.append(_doc("korean", pin, short, "mo:" + os.path.basename(n),
                             paras_from_mo(data), licence))
            continue
        if _KO_HELP.search(n):
            fam = "help:" + re.sub(r"^.*/(help|FAQ)/ko/", "", short)
            docs.append(_doc("korean", pin, short, fam, paras_from_markup(_decode(data)), licence))
            continue
        if _FAQ_EN.match(n):
            docs.append(_doc("docs", pin, short, "debian-faq:" + os.path.basename(n),
                             paras_from_markup(_decode(data)), licence))
            continue
        m = _DOC_RE.match(n)
        if not m or m.group(1) != name:
            continue
        fname = m.group(2)
        if fname == "copyright":
            docs.append(_doc("licences", pin, short, f"debian-copyright:{name}",
                             paras_from_plain(_decode(data)), licence))
        elif _DOC_FILES.match(fname):
            if fname.endswith(".gz"):
                data = gzip.decompress(data)
            docs.append(_doc("docs", pin, short, f"debian-doc:{name}:{fname}",
                             paras_from_plain(_decode(data)), licence))
    return docs


# ------------------------------------------------------------------ PyPI
_LICENSE_NAME = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.I)


def _metadata_licence(meta):
    m = re.search(r"^License-Expression:\s*(.+)$", meta, re.M) or re.search(
        r"^License:\s*(\S.{0,60})$", meta, re.M)
    if m:
        return m.group(1).strip()
    m = re.search(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", meta, re.M)
    return m.group(1).strip() if m else "unknown"


def extract_wheel(pin, path):
    registry, name, version = pin
    docs = []
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        meta = _decode(z.read(meta_name)) if meta_name else ""
        licence = _metadata_licence(meta)
        head, _, body = meta.partition("\n\n")
        if body.strip():
            docs.append(_doc("docs", pin, meta_name, f"pypi:{name}:README",
                             paras_from_plain(body), licence))
        for n in names:
            if ".dist-info/" in n and _LICENSE_NAME.search(n):
                docs.append(_doc("licences", pin, n, f"pypi:{name}:{os.path.basename(n)}",
                                 paras_from_plain(_decode(z.read(n))), licence))
            elif name == "konlpy" and re.search(r"corpus/(kobill|kolaw)/.+\.txt$", n):
                docs.append(_doc("korean", pin, n, f"konlpy:{n}",
                                 paras_from_plain(_decode(z.read(n))),
                                 "Korean statute/bill (not protected, Copyright Act art. 7)"))
    return docs


# ------------------------------------------------------------------ npm
_NPM_DOC = re.compile(r"^package/(readme|changelog|history|changes|news)(\.[a-z]+)?$|"
                      r"^package/docs?/.+\.md$", re.I)


def extract_npm(pin, path):
    registry, name, version = pin
    docs = []
    with tarfile.open(path, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        files = {m.name: tar.extractfile(m).read() for m in members
                 if m.name.endswith("package.json") or _NPM_DOC.match(m.name)
                 or _LICENSE_NAME.search(m.name) or m.name.startswith("package/licenses/")}
    licence = "unknown"
    if "package/package.json" in files:
        lic = json.loads(_decode(files["package/package.json"])).get("license", "unknown")
        licence = lic if isinstance(lic, str) else json.dumps(lic)
    for n, data in sorted(files.items()):
        base = os.path.basename(n)
        if name == "spdx-license-list" and n.startswith("package/licenses/") and n.endswith(".json"):
            entry = json.loads(_decode(data))
            docs.append(_doc("licences", pin, n, "spdx:" + base[:-5],
                             paras_from_plain(entry.get("licenseText", "")),
                             "licence text (SPDX list, CC0-1.0 data)"))
        elif _NPM_DOC.match(n):
            docs.append(_doc("docs", pin, n, f"npm:{name}:{n[len('package/'):].lower()}",
                             paras_from_plain(_decode(data)), licence))
        elif n.count("/") == 1 and _LICENSE_NAME.search(n):
            docs.append(_doc("licences", pin, n, f"npm:{name}:{base.lower()}",
                             paras_from_plain(_decode(data)), licence))
    return docs


def extract(registry, name, version, path):
    """Documents of one cached archive (None entries removed)."""
    pin = (registry, name, version)
    if registry == "debian":
        docs = extract_deb(pin, path)
    elif registry == "pypi":
        docs = extract_wheel(pin, path)
    else:
        docs = extract_npm(pin, path)
    return [d for d in docs if d is not None]
