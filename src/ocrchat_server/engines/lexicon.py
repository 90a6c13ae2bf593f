"""Letters PP-OCRv6 confuses, put right where the language's own word list says so.

PP-OCRv6 has no dictionary: on a worn typewriter face it reads ``c`` as ``o``
throughout a page, with full confidence ("whioh", "ohuroh", "barraoks"), and
on Czech it drops accents ("hlidku" for "hlídku"). Tesseract's models carry a
word list for each language (its word DAWG), which Debian's ``tesseract-ocr``
can write out (``combine_tessdata``, ``dawg2wordlist``). A word PP-OCRv6 was
sure of (character probability at least 0.9) that is not in the list is put
right when changing one to three of its letters by the confusions below gives
exactly one word of the list.

Before those confusions, a word of neither list takes the recognizer's own likeliest other
spelling that is a word, or that the page has elsewhere (:func:`_likelier_spelling`,
:mod:`.spellings`): "wamen" -> "women", "Theresenstwdt" -> "Theresienstadt".

Where wordfreq knows how common the language's words are (about 40 languages,
:mod:`.word_frequency`), more is done:

- a letter may also stand for the language's own letters with another accent or a
  stroke (Romanian "proaspätä", Polish "obiecalismy");
- of several candidates, the one at least ten times as common as the rest is taken;
- a word of Tesseract's list gives way to one a confusion away that is a hundred times
  as common (the list holds the web's accentless "ranni" beside "ranní");
- a word read with a probability down to 0.8 may have an accent put back, or become a
  common word where no list has seen it as read ("reoords.", "alužbou");
- a word of two or three letters gets an accent back where that makes it far more
  common ("jiz");
- a long word of neither list that is one letter away from a common word is put right
  ("disnissed", "weissxn"), or one letter short of it where no list has seen it
  ("fetgenommen"), and so is a capitalized word no list has seen whose capital was
  misread ("Baterland"), or that the confusions make a common word ("Okreani",
  "Konzentrationalager");
- on a page set in Fraktur, a capital PP-OCRv6 took for another ("Uugen", "Gie") is put
  right (:data:`FRAKTUR_CAPITALS`), and so is its line-end hyphen read as a letter or an
  equals sign ("verheys" for verhey⸗; :func:`_fraktur_broken`);
- on a long-s page, a word both ways takes the ſ where that makes a far more common word
  ("fur" -> "ſur").

Left alone, because there a change is more likely wrong than right: pages and lines
PP-OCRv6 reads with less confidence (handwriting, damage: the model guesses
rather than confuses; :data:`.cpu._LEXICON_PAGE_SCORE`, :data:`.cpu._LEXICON_LINE_SCORE`),
unsure words,
capitalized words (names) unless the change only adds or moves an accent, the
page makes the same confusion in three lowercase words, or no list has seen the word
(above), words under four
letters (but for an accent, above), and the halves of a word broken at a line end on
their own (the word is looked up whole). Numbers with digit look-alikes
in them (``l914``, ``l,O0o``), sentences run together (``service.On``), the parts of a
compound (``so-oalled``) and words in small capitals read with lowercase
letters (``SoN``) are put right too.

Measured on the shared corpus (docs/engines.md): printed CER 0.022 -> 0.018.
"""

from __future__ import annotations

import collections
import functools
import itertools
import logging
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from ocrchat_server.engines.languages import tessdata_dir
from ocrchat_server.engines.scripts import hyphenated
from ocrchat_server.engines.word_forms import LIGATURES, WordForms
from ocrchat_server.engines.word_frequency import WordFrequencies

log = logging.getLogger(__name__)

CONFUSIONS = {
    "a": "seáàâä",
    "c": "oeč",
    "d": "ď",
    "e": "acéèêěë",
    "i": "líìîï",
    "l": "i",
    "n": "uň",
    "o": "cóôö",
    "r": "ř",
    "s": "aš",
    "t": "ť",
    "u": "núůùûü",
    "ü": "uů",
    # a typewritten ď (a d with its caron beside the stem) read as an a with a caron
    "ǎ": "ď",
    "ă": "ď",
    "x": "æ",
    "y": "ý",
    "z": "ž",
}
"""Per letter PP-OCRv6 wrote, the letters it may have stood for."""
FRAKTUR_CAPITALS = {"U": "A", "B": "VW", "E": "T", "G": "S", "R": "K"}
"""Per capital PP-OCRv6 wrote on a page set in Fraktur, the capitals it may have stood for:
Fraktur's A has the shape of a U, its V and W of a B, its T of an E, its S of a G, its K
of an R."""
_SHORTEST_CAPITAL = 3
FRAKTUR_LETTERS = {"b": "d", "m": "w", "f": "k"}
"""Per lowercase letter PP-OCRv6 wrote on a page set in Fraktur, the letters it may have
stood for, besides :data:`CONFUSIONS`: Fraktur's d has the bowl and ascender of a b, its
w the strokes of an m, its k the shaft of an f ("wieber", "emige", "fommen")."""
LIGATURE_LETTERS = {"a": "æ", "e": "æ"}
"""Per letter PP-OCRv6 wrote, the ligature letter it may have stood for in a language whose
alphabet has it: typewritten Danish and Icelandic æ comes back as an e or an a
("legionere", "Prisfastsattelse", "Egteskaber")."""
_UNACCENTED_CAPITALS = frozenset({"fr"})
"""Languages whose print and typing often leave capitals without their accents (French
"Etat", "ECOLE"): an accent is never put on a capital of theirs."""
_LIGATURE = "æ"
_LIGATURE_READ_AS = frozenset({"ae", "ee"})
"""The two letters PP-OCRv6 may write for a typewritten æ (Danish "steerkt", "vaere")."""
GREEK_CONFUSIONS = {"χ": "κ", "ο": "ρ"}
"""Per letter Tesseract's Greek model wrote, the letters it may have stood for: "χαὶ" for
καὶ, "ὑβοίζειν" for ὑβρίζειν (:func:`greek_corrected`)."""
_SURE = 0.9
_SURE_OF_ACCENTS = 0.8
"""Where the language's word frequencies are known, a word PP-OCRv6 was less sure of than
:data:`_SURE` may still have an accent put back or taken away (``jižni`` at 0.87), the
commonest misreading of Czech, Polish or French print and the least risky change, or
become a common word where no list has seen it as read."""
_SEEN = 2.0
"""The Zipf frequency (:mod:`.word_frequency`) from which a word missing from Tesseract's
list counts as a word: about once in 100 million words ("obchůzce" 2.4). Below it lie the
accentless spellings of the web ("ranni" 1.3)."""
_MORE_COMMON = 1.0
"""Of several candidates, one at least this much more common (10 times) is taken."""
_FAR_MORE_COMMON = 2.0
"""A word of the lists gives way to a word one confusion away at least 100 times as common."""
_FAR_MORE_COMMON_ACCENTED = 1.7
"""... or 50 times as common, where the two differ in an accent alone, the commonest
misreading of typewritten Czech and Slovak, and the web's accentless spellings: "tim"
(4.3) is "tím" (6.0), "vice" "více", German "Manner" (the English word, 3.5) "Männer"
(5.3). At 1.7 for every confusion, English "reel" became "real" (1.8 apart); between
accents alone, the Czech "byt" (a flat) and "být" (to be) are 1.5 apart and stay."""
_COMMON = 4.0
"""A one-letter misreading is undone only towards a word this common (once in 100,000
words). At 3.0, words unseen by wordfreq but right became commoner ones: the Czech
infinitive "nadávati" "nadávali", the old German "erfreuet" "erfreuen"."""
_COMMON_IF_UNSEEN = 3.0
"""A word no list has seen as read, not even as a name (:func:`_unseen_to_common`), may
become a word this common (once in a million words: "Vaterland" is 3.85, "službou"
3.99) where the rules above would leave it: that it was never seen guards it instead."""
_STROKED = str.maketrans("łŁøØđĐħĦı", "lLoOdDhHi")
"""Letters with a stroke, which Unicode does not decompose into a letter and a mark, and
the letter under it: to the lexicon, the stroke is one more accent (Polish "ł")."""
_LIKELY = 0.02
"""The likelihood against the reading (:func:`.spellings.spellings`) from which another
spelling the recognizer saw may replace a word that is no word. On the corpus's printed,
table, historic and multicolumn pages, at 0.02: 58 words put right by the ground truth, 5
wrong (2 of them Czech spellings the ground truth keeps as typed); at 0.1, 39 and 3."""
_LIKELY_COMMONER = 0.1
"""The likelihood from which a word of the lists gives way to a far commoner spelling
(:func:`_far_commoner_spelling`): on the corpus at 0.1, "uud", "zon" and "ans" became
"und", "von" and "and", and no word changed wrongly."""
_FAR_COMMONER_SPELLING = 3.0
"""How much commoner (Zipf, so 1,000 times) such a spelling must be."""
_COMMONEST = 8.0
"""No word is commoner than this (Zipf: "the" is 7.7, "und" 7.4)."""
_LIKELY_NAME = 0.2
"""The likelihood a spelling needs to replace a capitalized word that is no word (a name,
perhaps) unless the page has it elsewhere: a Latin page's "Chama" became "Chana" at 0.18."""
_SHORTEST_SPELLED = 3
"""Letters from which a word no list knows may take one of the recognizer's spellings; a
word of the lists gives way to a far commoner one from two letters (Czech "nn": "na")."""
_SEEN_AT_ALL = 1.0
"""wordfreq's lists stop at about this Zipf frequency (once in a billion words): a word at
or above it has been seen (:func:`_accents_put_back`)."""
_MOST_ACCENTS = 3
_MOST_ACCENT_PLACES = 10
"""A word gets up to three accents back, among at most ten letters that could have one:
with four among fourteen, a German page spent 0.6 s more a page in the lexicon step (1,000
spellings to look up for each long word no list has seen), and no word more was right
on the 38 EHRI pages it was measured on."""
_SHORTEST_MISREAD = 6
"""Shorter words are one letter away from too many others."""
_SHORTEST = 4
_MOST_CHANGES = 3
_MOST_CHANGES_SEEN = 2
"""Candidates with more changed letters than this must be in Tesseract's list (a word
wordfreq alone has seen does not count): a German page read as English took 0.28 s more
a page with wordfreq asked about every three-letter change."""
_MOST_PLACES = 14
"""A word with more letters that could be confusions than this gets one confusion undone
at most (more make too many combinations to try, and too many chances of a wrong
match): German compounds have 17 ("Konzentrationalager")."""
_WORD = re.compile(r"^(\W*)(\w+?)(\W*)$")
_SPELLED_WORD = re.compile(r"^(\W*)([^\W\d_]+(?:-[^\W\d_]+)*)(\W*)$")
"""A word of letters, or a compound of such words, with any punctuation around it."""
_SYSTEMATIC = 3
"""Different words a confusion must be undone in before it counts as the page's own."""
DIGIT_LOOKALIKES = str.maketrans("lIOo", "1100")
_GROUPED_NUMBER = re.compile(r"^\W?[\dlIOo]{1,3}(?:[.,][\dlIOo]{3})+\W?$")
"""A number in groups of three figures (``1,000``, ``£100.000,``), read with or without
letters for some figures."""
_NUMBER_RUN = re.compile(r"(?<![^\W\d_])[\dlIOo]+(?![^\W\d_])")
"""Digits and letters that look like them, with no other letter either side."""
_LETTERS_BESIDE_ZERO = 2
_TYPED_ONES = re.compile(r"(?<![^\W\d_'’])l{1,3}(?=\)[.,;:]?$)")
"""A lowercase l, or two or three, before a closing bracket that ends the word: ``l)``,
``(§ ll).``."""
_TYPED_ORDINAL = re.compile(r"l{1,3}\.")
"""A lowercase l, or two or three, and a full stop: the typist's ordinal ("inden l.
September") before a capitalized word, but also the abbreviation of line and lines
("l. 45", "ll. 23-5") and of loco citato ("l. c.") in a commentary."""
_LETTERS = re.compile(r"[^\W\d_]+")
_COMPOUND = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
"""A hyphen between two letters: the parts of a compound are put right one by one."""
_SMALL_CAPITAL_LOOKALIKES = frozenset("cosvwxz")
"""Letters whose small capital has the lowercase letter's shape."""
_PLURAL_OF_CAPITALS = re.compile(r"[A-Z]+s")
_LONG_S_WITNESSES = 3
"""Different words that are words only with an ``f`` read as a long s, from which a page
counts as printed with it. On the shared corpus: 11 and 4 on the two 18th-century prints
whose ground truth keeps ſ, none on any modern page."""
_CLAUSE_MARKS = ",;:"
_RUN_ON = re.compile(r"([^\W\d_]{2})([.,;:!?][\"\u201d\u2019\u00bb)]?)([^\W\d_]{2})")


def spell_page(
    lines: list[list[tuple[str, float]]],
    words: frozenset[str],
    frequencies: WordFrequencies | None = None,
    *,
    fraktur: bool = False,
    old_print: bool = False,
    spellings: Callable[[int, int], Sequence[tuple[str, float]]] | None = None,
    left_alone: Collection[int] = (),
) -> list[list[str]]:
    """A page's words (each line's words as PP-OCRv6 wrote them, with their scores), put
    right. A word may come back as two (``service. On`` for ``service.On``).
    ``frequencies``: how common the language's words are, where wordfreq knows it.
    ``fraktur``: the page is set in Fraktur, whose capitals PP-OCRv6 confuses
    (:data:`FRAKTUR_CAPITALS`). ``old_print``: the page is old print, in Fraktur or with
    the long s, whose spellings predate today's accents (:func:`corrected`).
    ``spellings``: for line i's word j, the other spellings the recognizer saw, with how
    likely each is against the word as read
    (:func:`.spellings.spellings`); a word that is no word takes the likeliest that is
    one (:func:`_likelier_spelling`) before the confusions are tried. ``left_alone``: the
    lines read too unsurely for any of this (their words are guesses); they stay as read,
    and a word broken across one of them is not looked up whole.

    Two passes: the first finds the confusions this page makes in lowercase words; those
    made in at least three different words are the page's own (a typewriter's worn
    letter) and the second pass undoes them in capitalized words too. A word broken at a
    line's end is put right whole ("ex- oluded" -> "ex- cluded"), each half keeping its
    line; the second half is no word of its own, and otherwise gets the confusions only,
    as word frequencies say nothing about half a word ("Hun- garian" is not "garlan").
    On a page set in Fraktur, a line's last word may end in Fraktur's hyphen read as a
    letter, or as an equals sign (:func:`_fraktur_broken`); it comes back ending in a
    hyphen."""
    on_page = _page_words([line for i, line in enumerate(lines) if i not in left_alone])
    if fraktur:
        lines = _fraktur_broken(lines, words, frequencies, on_page, left_alone)
    whole: dict[tuple[int, int], str] = {}
    for i in range(1, len(lines)):
        if i - 1 in left_alone or i in left_alone:
            continue
        if lines[i - 1] and lines[i] and _broken(lines[i - 1][-1][0]):
            (before, before_score), (after, after_score) = lines[i - 1][-1], lines[i][0]
            halves = None
            if spellings is not None:
                halves = _rejoined_as_spelled(
                    before,
                    after,
                    (
                        functools.partial(spellings, i - 1, len(lines[i - 1]) - 1),
                        functools.partial(spellings, i, 0),
                    ),
                    words,
                    frequencies,
                    on_page,
                )
            if halves is None:
                halves = _rejoined(
                    before, after, min(before_score, after_score), words, frequencies, fraktur
                )
            if halves is not None:
                whole[i - 1, len(lines[i - 1]) - 1], whole[i, 0] = halves
            whole.setdefault((i, 0), "")  # a second half: no frequencies for it alone

    def spelled(i: int, j: int, systematic: frozenset[tuple[str, str]] = frozenset()) -> str:
        word, score = lines[i][j]
        if i in left_alone:
            return word
        if whole.get((i, j)):
            return whole[i, j]
        alone = (i, j) not in whole

        def put_right(text: str) -> str:
            return corrected(
                text,
                score,
                words,
                systematic,
                frequencies if alone else None,
                fraktur=fraktur,
                old_print=old_print or fraktur,
            )

        run_on = _spaced(word).split(" ") if alone else [word]
        if len(run_on) > 1:
            # words run together at punctuation ("nařizeni,týkajici"), each put right on
            # its own; the space between them comes later
            return "".join(put_right(part) for part in run_on)
        if alone and spellings is not None:
            likelier = _likelier_spelling(
                word,
                functools.partial(spellings, i, j),
                words,
                frequencies,
                on_page,
                fraktur,
                old_print=old_print or fraktur,
            )
            if likelier is not None:
                return likelier
        right = put_right(word)
        if fraktur and alone and right == word:
            return _fraktur_capital(word, score, words, frequencies)
        return right

    first = [[spelled(i, j) for j in range(len(line))] for i, line in enumerate(lines)]
    undone = {
        (word, right)
        for line, fixed in zip(lines, first, strict=True)
        for (word, _), right in zip(line, fixed, strict=True)
        if right != word and len(right) == len(word)  # letters for letters, in place
    }
    made: collections.Counter[tuple[str, str]] = collections.Counter()
    for word, right in undone:
        made.update(_letter_changes(word, right))
    systematic = frozenset(pair for pair, count in made.items() if count >= _SYSTEMATIC)
    # only a capitalized word can come out otherwise the second time
    return [
        fixed
        if i in left_alone
        else _typed_ordinals(
            [
                _spaced(
                    _digits(
                        _small_capitals(
                            spelled(i, j, systematic) if _capitalized(word) else right,
                            words,
                        )
                    )
                )
                for j, ((word, _), right) in enumerate(zip(line, fixed, strict=True))
            ]
        )
        for i, (line, fixed) in enumerate(zip(lines, first, strict=True))
    ]


def _typed_ordinals(line: list[str]) -> list[str]:
    """A line's words with the typist's l for 1 in an ordinal before a capitalized word
    written in figures (:data:`_TYPED_ORDINAL`): "l. September", "ll. Februar". Before a
    figure or a lowercase letter it is a commentary's "l. 45" or "l. c." and stays."""
    return [
        "1" * (len(word) - 1) + "."
        if _TYPED_ORDINAL.fullmatch(word)
        and j + 1 < len(line)
        and line[j + 1][:1].isupper()
        and line[j + 1][1:3].isalpha()
        and line[j + 1][1:3].islower()
        else word
        for j, word in enumerate(line)
    ]


def _fraktur_broken(
    lines: list[list[tuple[str, float]]],
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    on_page: frozenset[str],
    left_alone: Collection[int],
) -> list[list[tuple[str, float]]]:
    """A Fraktur page's lines with each line's last word that is the first half of a word
    broken at the line's end written with a hyphen. Fraktur's hyphen (⸗) is two short
    oblique strokes, which PP-OCRv6, trained on modern type, reads as an equals sign, or as
    a letter: "verheys" for verhey⸗ (rathet), "ihe" for ih⸗ (rem). A last letter is a
    misread hyphen where the word without it and the next line's first word, which starts
    in lowercase, make a word (:func:`_misread_hyphen`)."""
    result = [list(line) for line in lines]
    for i, line in enumerate(result):
        if not line or i in left_alone:
            continue
        word, score = line[-1]
        if hyphenated(word):
            line[-1] = (word[:-1] + "-", score)
        elif i + 1 < len(result) and result[i + 1] and i + 1 not in left_alone:
            broken = _misread_hyphen(word, result[i + 1][0][0], words, frequencies, on_page)
            if broken is not None:
                line[-1] = (broken, score)
    return result


def _misread_hyphen(
    before: str,
    after: str,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    on_page: frozenset[str],
) -> str | None:
    """``before`` (a line's last word) with its last letter as the hyphen it was read for,
    where that letter is all that keeps it and ``after`` (the next line's first word, in
    lowercase) from one word: a word of the lists or of the page, which ``before`` as read
    is not, or is 100 times rarer than (``ihe`` 2.2, ``ihrem`` 5.5). None where it is not."""
    first, second = _WORD.match(before), _WORD.match(after)
    if first is None or second is None or first.group(3) or second.group(1):
        return None
    head, tail = first.group(2), second.group(2)
    if len(head) < 2 or not (head + tail).isalpha() or not tail[0].islower():
        return None
    joined = head[:-1] + tail
    if joined not in on_page and not _known(joined, words, frequencies):
        return None
    if _known(head, words, frequencies) and (
        frequencies is None or frequencies.zipf(joined) < frequencies.zipf(head) + _FAR_MORE_COMMON
    ):
        return None
    return first.group(1) + head[:-1] + "-"


def _page_words(lines: list[list[tuple[str, float]]]) -> frozenset[str]:
    """The words of a page read with a sure score (:data:`_SURE`), without punctuation."""
    found = set()
    for line in lines:
        for word, score in line:
            match = _WORD.match(word)
            if score >= _SURE and match and match.group(2).isalpha():
                found.add(match.group(2))
    return frozenset(found)


def _likelier_spelling(
    word: str,
    spellings: Callable[[], Sequence[tuple[str, float]]],
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    on_page: frozenset[str],
    fraktur: bool = False,
    *,
    old_print: bool = False,
) -> str | None:
    """``word`` (with any punctuation around it) spelled as the recognizer's likeliest other
    spelling that is a word, where the word as read is none; None where none will do. A
    compound's parts ("Czeoho-Slovakia") are each held to that.

    A spelling counts as a word where the lists know it, or where the page has it read
    surely elsewhere (a name no list knows, misread once). It must be at least
    :data:`_LIKELY` as likely as the reading. A capitalized word may be a name no list
    knows, so it changes only to a word the page has elsewhere, to one at least
    :data:`_LIKELY_NAME` as likely, by an accent put back ("Vidni": "Vídni"), or, where no
    list has seen it and it has six letters or more, to a common word with the same last
    letter ("Gläazenden": "Glänzenden", :func:`_unseen_to_common`). An ``f``
    never becomes an ``s``: that is the long s, :func:`with_long_s`'s to decide."""
    match = _SPELLED_WORD.match(word)
    if not match:
        return None
    before, core, after = match.groups()
    parts = core.split("-")
    if len(core) < 2 or after.endswith("-"):
        return None
    if all(_known(part, words, frequencies) for part in parts):
        commoner = _far_commoner_spelling(core, spellings, frequencies)
        return None if commoner is None else before + commoner + after
    if len(core) < _SHORTEST_SPELLED:
        return None
    for spelled, likelihood in spellings():
        if likelihood < _LIKELY:
            break
        other = _SPELLED_WORD.match(spelled)
        if other is None or other.group(2) == core:
            continue
        meant = other.group(2).split("-")
        if len(meant) == len(parts) and all(
            _spelled_part(part, right, likelihood, words, frequencies, on_page)
            for part, right in zip(parts, meant, strict=True)
        ):
            # a spelling the web's lists hold without its accents ("Okresni") gets them back
            return (
                before
                + "-".join(
                    right
                    if right == part
                    else _commoner_spelling(right, words, frequencies, fraktur, old_print=old_print)
                    or right
                    for part, right in zip(parts, meant, strict=True)
                )
                + after
            )
    return None


def _far_commoner_spelling(
    core: str,
    spellings: Callable[[], Sequence[tuple[str, float]]],
    frequencies: WordFrequencies | None,
) -> str | None:
    """For a word of the lists, the recognizer's likeliest spelling at least
    :data:`_LIKELY_COMMONER` as likely (:data:`_LIKELY_NAME` for a capitalized word, which may
    be a rare name) that is at least 1,000 times as common: the lists were
    gathered from the web, and hold its misspellings ("uud" beside "und", "zon" beside
    "von", "ans" beside "and", Czech "nn" beside "na"). Two common words ("looked",
    "locked") stay as read."""
    if frequencies is None or "-" in core or not _cased_as_words_are(core):
        return None
    read = frequencies.zipf(core)
    if read + _FAR_COMMONER_SPELLING > _COMMONEST:
        return None  # nothing is that much commoner: no need to ask the recognizer
    # a capitalized word may be a name, rare but right: a likelier spelling is asked of it
    least = _LIKELY_NAME if core[0].isupper() else _LIKELY_COMMONER
    for spelled, likelihood in spellings():
        if likelihood < least:
            break
        other = _SPELLED_WORD.match(spelled)
        if other is None or other.group(1) or other.group(3) or other.group(2) == core:
            continue
        meant = other.group(2)
        if (
            _cased_as_words_are(meant)
            and not _long_s_taken(core, meant)
            and frequencies.zipf(meant) >= read + _FAR_COMMONER_SPELLING
        ):
            return meant
    return None


def _spelled_part(
    read: str,
    meant: str,
    likelihood: float,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    on_page: frozenset[str],
) -> bool:
    """Whether one word (or a compound's part) ``read`` may be spelled ``meant``
    (:func:`_likelier_spelling`)."""
    if meant == read:
        return True
    if len(meant) < 2 or _long_s_taken(read, meant) or not _cased_as_words_are(meant):
        return False
    seen = meant in on_page
    if not seen and not _known(meant, words, frequencies):
        return False
    return (
        not read[0].isupper()
        or seen
        or likelihood >= _LIKELY_NAME
        or (_accents_only(read, meant) and _bare(read) == read)
        # a long word that no list has seen, not even as a name, and a common word
        # instead: a noun (German capitalizes them all), or a sentence's first word
        or (len(read) >= _SHORTEST_MISREAD and _unseen_to_common(read, meant, frequencies))
    )


def _cased_as_words_are(word: str) -> bool:
    """Whether ``word`` is in lowercase, capitalized or in capitals: a spelling that starts
    with a letter from the space before the word ("sUny") is none of these, nor is a word
    of a script without capitals (Chinese, Japanese), whose spellings are not taken."""
    return word[1:].islower() or word.isupper()


def _long_s_taken(core: str, meant: str) -> bool:
    """Whether ``meant`` has an ``s`` where ``core`` has an ``f``, letter for letter."""
    return len(core) == len(meant) and any(
        read == "f" and other == "s" for read, other in zip(core, meant, strict=True)
    )


def _fraktur_capital(
    word: str, score: float, words: frozenset[str], frequencies: WordFrequencies | None
) -> str:
    """``word`` with its capital put right where PP-OCRv6 took a Fraktur capital for another
    (:data:`FRAKTUR_CAPITALS`): the word as read is no word of the lists and the other is
    ("Eag": "Tag"), or the other is 100 times as common ("Uus": "Aus", "Gie": "Sie")."""
    match = _WORD.match(word)
    if score < _SURE or not match or len(match.group(2)) < _SHORTEST_CAPITAL:
        return word
    before, core, after = match.groups()
    if not core.isalpha() or not core[1:].islower() or core[0] not in FRAKTUR_CAPITALS:
        return word
    found = [
        capital + core[1:]
        for capital in FRAKTUR_CAPITALS[core[0]]
        if _known(capital + core[1:], words, frequencies)
    ]
    if not found:
        return word
    if not _known(core, words, frequencies):
        meant = _most_common(set(found), frequencies)
    else:
        meant = _far_commoner(core, found, frequencies) if frequencies is not None else None
    return word if meant is None else before + meant + after


def _halves(before: str, after: str) -> tuple[re.Match[str], re.Match[str]] | None:
    """The two halves of a word of letters broken at a line's end (``before`` ends in a
    hyphen, ``after`` starts with a letter), each parted from its punctuation; None where
    they are not."""
    first, second = _WORD.match(before), _WORD.match(after)
    if first is None or second is None or first.group(3) != "-" or second.group(1):
        return None
    if not (first.group(2) + second.group(2)).isalpha():
        return None
    return first, second


def _rejoined_as_spelled(
    before: str,
    after: str,
    spellings: tuple[
        Callable[[], Sequence[tuple[str, float]]], Callable[[], Sequence[tuple[str, float]]]
    ],
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    on_page: frozenset[str],
) -> tuple[str, str] | None:
    """The two halves of a word broken at a line's end, where together they are no word,
    spelled as the likeliest pair of the recognizer's spellings of each (``spellings``: the
    first half's and the second's) that makes one ("verna- oular." -> "verna- cular."), as
    :func:`_likelier_spelling` would take it; None where no pair will do."""
    halves = _halves(before, after)
    if halves is None:
        return None
    first, second = halves
    head, tail = first.group(2), second.group(2)
    if _known(head + tail, words, frequencies):
        return None
    heads = [(head, 1.0)] + [
        (match.group(2), likelihood)
        for spelled, likelihood in spellings[0]()
        if (match := _WORD.match(spelled)) and match.group(3) == "-" and match.group(2) != head
    ]
    tails = [(tail, 1.0)] + [
        (match.group(2), likelihood)
        for spelled, likelihood in spellings[1]()
        if (match := _WORD.match(spelled)) and not match.group(1) and match.group(2) != tail
    ]
    pairs = sorted(
        ((h, t, p * q) for h, p in heads for t, q in tails if (h, t) != (head, tail)),
        key=lambda pair: -pair[2],
    )
    for h, t, likelihood in pairs:
        if likelihood < _LIKELY:
            break
        if (h + t).isalpha() and _spelled_part(
            head + tail, h + t, likelihood, words, frequencies, on_page
        ):
            return first.group(1) + h + "-", t + second.group(3)
    return None


def _rejoined(
    before: str,
    after: str,
    score: float,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    fraktur: bool = False,
) -> tuple[str, str] | None:
    """The two halves of a word broken at a line's end (``before`` ends in a hyphen), put
    right as one word and cut where they were, or None where the whole needs nothing (or
    more than letters changed)."""
    halves = _halves(before, after)
    if halves is None:
        return None
    first, second = halves
    head, tail = first.group(2), second.group(2)
    fixed = corrected(head + tail, score, words, frequencies=frequencies, fraktur=fraktur)
    if fixed == head + tail or len(fixed) != len(head + tail):
        return None
    return first.group(1) + fixed[: len(head)] + "-", fixed[len(head) :] + second.group(3)


def corrected(
    word: str,
    score: float,
    words: frozenset[str],
    systematic: frozenset[tuple[str, str]] = frozenset(),
    frequencies: WordFrequencies | None = None,
    *,
    fraktur: bool = False,
    old_print: bool = False,
) -> str:
    """``word`` (as PP-OCRv6 wrote it, with any punctuation around it) put right, or as it is.
    ``systematic``: confusions (written, meant) the page makes throughout, undone in
    capitalized words too. ``frequencies``: how common the language's words are.
    ``fraktur``: the page is set in Fraktur, whose letters have confusions of their own
    (:data:`FRAKTUR_LETTERS`). ``old_print``: the page is old print (in Fraktur, or with the
    long s), whose spellings predate today's accents (:func:`_far_commoner`)."""
    if score < (_SURE if frequencies is None else _SURE_OF_ACCENTS):
        return word
    parts = _COMPOUND.split(word)
    if len(parts) > 1:  # each part of a compound on its own ("so-oalled")
        return "-".join(
            corrected(
                part, score, words, systematic, frequencies, fraktur=fraktur, old_print=old_print
            )
            for part in parts
        )
    match = _WORD.match(word)
    if not match:
        return word
    before, core, after = match.groups()
    lettered = _letter_o_for_zero(core, words, frequencies)
    if lettered != core:
        core, word = lettered, before + lettered + after
    if not core.isalpha() or after.endswith("-"):
        return word
    if len(core) < _SHORTEST:
        accented = _accent_of_short_word(core, frequencies, fraktur, old_print)
        if accented is None or _accent_put_on_a_capital(core, accented, frequencies):
            return word
        return before + accented + after
    if _known(core, words, frequencies):
        meant = _commoner_spelling(
            core, words, frequencies, fraktur, sure=score >= _SURE, old_print=old_print
        )
    else:
        meant = _meant(core, score, words, frequencies, fraktur, old_print=old_print)
        # the confusions undone may make a word of Tesseract's list that is the web's
        # spelling without its accents ("nařizeni" -> "narizeni", for "nařízení")
        meant = meant and (
            _commoner_spelling(meant, words, frequencies, fraktur, sure=False, old_print=old_print)
            or meant
        )
    if frequencies is not None:
        # a ligature read as two letters, which no confusion of one letter undoes
        meant = _ligature_read_as_two(meant or core, frequencies) or meant
    if meant is None or _accent_put_on_a_capital(core, meant, frequencies):
        return word
    if (
        core[0].isupper()
        and not _accents_only(core, meant)
        and not _letter_changes(core, meant) <= systematic
        and not _capital_misread(core, meant, frequencies)
        and not (len(core) >= _SHORTEST_MISREAD and _unseen_to_common(core, meant, frequencies))
    ):
        return word  # a name, most likely
    return before + meant + after


def _meant(
    core: str,
    score: float,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    fraktur: bool = False,
    *,
    old_print: bool = False,
) -> str | None:
    """The word a word of neither list stands for, if one can tell: the fewest confusions
    that make a word, or else (where frequencies are known) its accents put back, but on
    old print (:func:`_accents_put_back`), or one letter misread."""
    options = _options_in(frequencies, fraktur)
    places = _confusable(core, options)
    # a long word with many letters that could be confusions: one change at most
    most = _MOST_CHANGES if len(places) <= _MOST_PLACES else 1
    for changes in range(1, min(len(places), most) + 1):
        # three changes make up to a hundred thousand spellings of a long word: those are
        # looked up in Tesseract's list alone, a set, not one by one in wordfreq's tables
        seen = frequencies if changes <= _MOST_CHANGES_SEEN else None
        found = {
            candidate
            for candidate in _variants(core, places, changes, options)
            if _known(candidate, words, seen)
        }
        if not found:
            continue
        meant = _most_common(found, frequencies)
        # a less sure word may only have lost or gained an accent, or else must be unseen
        # as read and become a common word ("reoords." at 0.88)
        if (
            score < _SURE
            and meant is not None
            and not _accents_only(core, meant)
            and not (frequencies is not None and _unseen_to_common(core, meant, frequencies))
        ):
            return None
        return meant
    if frequencies is not None and not old_print:
        accented = _accents_put_back(core, frequencies, fraktur)
        if accented is not None:
            return accented
    if frequencies is not None and score >= _SURE:
        return _one_letter_misread(core, frequencies)
    return None


def _ligature_read_as_two(core: str, frequencies: WordFrequencies) -> str | None:
    """``core`` with the two letters PP-OCRv6 read for a typewritten ``æ`` (``ee``, ``ae``)
    as the ligature, where the language writes it (Danish, Norwegian, Icelandic) and that
    makes a common word (:data:`_COMMON_IF_UNSEEN`) 100 times as common as the word as
    read (:data:`_FAR_MORE_COMMON`): Danish "steerkt" -> "stærkt", "vaere" -> "være".
    None where no such word is made."""
    if _LIGATURE not in frequencies.alphabet:
        return None
    lowered = core.lower()
    spelled = {
        core[:i] + (_LIGATURE.upper() if core[i].isupper() else _LIGATURE) + core[i + 2 :]
        for i in range(len(core) - 1)
        if lowered[i : i + 2] in _LIGATURE_READ_AS
    }
    best = max(spelled, key=frequencies.zipf, default=None)
    if best is None:
        return None
    zipf = frequencies.zipf(best)
    if zipf < _COMMON_IF_UNSEEN or zipf < frequencies.zipf(core) + _FAR_MORE_COMMON:
        return None
    return best


def _accents_put_back(
    core: str,
    frequencies: WordFrequencies,
    fraktur: bool = False,
    *,
    least: float = _SEEN_AT_ALL,
) -> str | None:
    """For a word wordfreq has never seen, the spelling with accents put back that it has
    seen, however rarely (:data:`_SEEN_AT_ALL`): PP-OCRv6 drops the accents of typewritten
    Czech and Slovak several to a word, and a long inflected form is rare even when right
    ("přijiždějicimu" is no word, "přijíždějícímu" 1.7; German "Lageraltester" 0,
    "Lagerältester" 1.1). Only accents change, the least risky correction, up to
    :data:`_MOST_ACCENTS` of them, and never the last letter's alone: endings are where
    words inflect, and a word no list has seen may be right but for its ending
    ("neprověřena" is not "neprověřená"). A capitalized word, a name perhaps, gets one
    accent back at most (a Slovak list of people's "Grun" is not the hill "Grúň"). Where
    several spellings have been seen, the one far more common than the rest, or none."""
    if frequencies.zipf(core) > 0:
        return None
    same_letter = functools.partial(
        _accented_options, alphabet=frequencies.alphabet, fraktur=fraktur
    )
    places = _confusable(core, same_letter)
    if len(places) > _MOST_ACCENT_PLACES:
        return None
    most = _MOST_ACCENTS if core[0].islower() else 1
    found = {
        spelled
        for changes in range(1, min(len(places), most) + 1)
        for spelled in _variants(core, places, changes, same_letter)
        if spelled[:-1] != core[:-1] and frequencies.zipf(spelled) >= least
    }
    return _most_common(found, frequencies) if found else None


@functools.lru_cache(maxsize=4096)
def _accented_options(letter: str, alphabet: str, fraktur: bool = False) -> str:
    """Of the letters ``letter`` may stand for (:func:`_options`), those that are it with
    another accent."""
    options = _options(letter, alphabet, fraktur)
    return "".join(other for other in options if _bare(other) == _bare(letter))


def _commoner_spelling(
    core: str,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    fraktur: bool = False,
    *,
    sure: bool = True,
    old_print: bool = False,
) -> str | None:
    """For a word of the lists, the spelling it stands for where the lists hold the web's
    spelling without its accents: a word one confusion away that is far more common
    (:func:`_more_common`, only where the word was read ``sure``ly), or, for a word of
    Tesseract's list that wordfreq never saw, its accents put back, several a word
    ("narizeni" for "nařízení", 4.5; :func:`_accents_put_back`), but on old print. None
    where it stands for itself."""
    meant = _more_common(core, words, frequencies, fraktur, old_print=old_print) if sure else None
    if meant is None and frequencies is not None and not old_print:
        meant = _accents_put_back(core, frequencies, fraktur, least=_COMMON_IF_UNSEEN)
    return meant


def _more_common(
    core: str,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    fraktur: bool = False,
    *,
    old_print: bool = False,
) -> str | None:
    """For a word of the lists, a word one confusion away that is far more common: the
    lists were gathered from the web and hold accentless spellings ("ranni" for "ranní")."""
    if frequencies is None:
        return None
    options = _options_in(frequencies, fraktur)
    places = _confusable(core, options)
    if len(places) > _MOST_PLACES:
        return None
    found = [c for c in _variants(core, places, 1, options) if _known(c, words, frequencies)]
    return _far_commoner(core, found, frequencies, old_print=old_print)


def _accent_of_short_word(
    core: str, frequencies: WordFrequencies | None, fraktur: bool = False, old_print: bool = False
) -> str | None:
    """A word of two or three letters with an accent put back where that makes it far more
    common (:func:`_far_commoner`: 50 times, or 100 on old print): Czech "jiz" (2.9) is
    "již" (5.9), French "ete" "été", German "fur" "für". Both "ou" and "où", "a" and "à"
    are common: they stay as read. A word read with an accent keeps it (PP-OCRv6 drops
    accents; it seldom adds one), unless the language has no use for that accent
    (Romanian "cå" is "că")."""
    if frequencies is None or len(core) < 2:
        return None
    if _bare(core) != core and all(letter in frequencies.alphabet for letter in core.lower()):
        return None
    same_letter = functools.partial(
        _accented_options, alphabet=frequencies.alphabet, fraktur=fraktur
    )
    places = _confusable(core, same_letter)
    found = [
        spelled
        for changes in range(1, len(places) + 1)
        for spelled in _variants(core, places, changes, same_letter)
    ]
    return _far_commoner(core, found, frequencies, old_print=old_print)


def _confusable(core: str, options: Callable[[str], str]) -> list[int]:
    """Where ``core`` has letters PP-OCRv6 may have written for others (``options``)."""
    return [i for i, letter in enumerate(core) if options(letter.lower())]


def _options_in(frequencies: WordFrequencies | None, fraktur: bool = False) -> Callable[[str], str]:
    """The letters a letter PP-OCRv6 wrote may stand for, in the language whose frequencies
    (and so whose alphabet) are ``frequencies``; :data:`CONFUSIONS` alone where unknown.
    On a page set in Fraktur, :data:`FRAKTUR_LETTERS` too."""
    alphabet = frequencies.alphabet if frequencies else ""
    return functools.partial(_options, alphabet=alphabet, fraktur=fraktur)


@functools.lru_cache(maxsize=4096)
def _options(letter: str, alphabet: str, fraktur: bool = False) -> str:
    """The letters ``letter`` (lowercase, as PP-OCRv6 wrote it) may stand for: its
    :data:`CONFUSIONS`, and the letters of the language's ``alphabet`` that are the same
    letter with another accent or none of its own: Romanian "ă" for an "ä" or "ã" read,
    Polish "ł" for an "l", Hungarian "ő" for an "ó"; and Danish "æ" for an "e" or an "a"
    (:data:`LIGATURE_LETTERS`). A letter read with an accent is not taken for the bare
    letter (PP-OCRv6 drops accents; it seldom adds one)."""
    listed = CONFUSIONS.get(letter, "") + (FRAKTUR_LETTERS.get(letter, "") if fraktur else "")
    base = _bare(letter)
    accented = "".join(
        other
        for other in alphabet
        if other not in (letter, base) and other not in listed and _bare(other) == base
    )
    # the same accent over a letter the bare one is confused with: Czech "ě" for "č"
    mark = _marks(letter)
    carried = "".join(
        other
        for other in alphabet
        if mark and _marks(other) == mark and _bare(other) in CONFUSIONS.get(base, "")
        and other not in listed + accented
    )  # fmt: skip
    ligatures = "".join(other for other in LIGATURE_LETTERS.get(letter, "") if other in alphabet)
    return listed + accented + carried + ligatures


def _far_commoner(
    core: str, found: list[str], frequencies: WordFrequencies, *, old_print: bool = False
) -> str | None:
    """The commonest of ``found``, where it is at least 100 times as common as ``core``, or
    50 times where only its accents differ (:data:`_FAR_MORE_COMMON_ACCENTED`), but on a
    page of old print (``old_print``), whose spellings predate today's accents."""
    if not found:
        return None
    best = max(found, key=frequencies.zipf)
    relaxed = not old_print and _accents_only(core, best)
    margin = _FAR_MORE_COMMON_ACCENTED if relaxed else _FAR_MORE_COMMON
    return best if frequencies.zipf(best) >= frequencies.zipf(core) + margin else None


def _most_common(found: set[str], frequencies: WordFrequencies | None) -> str | None:
    """The one candidate, or of several the one far more common than the rest (else no
    telling which)."""
    if len(found) == 1:
        return next(iter(found))
    if frequencies is None:
        return None
    first, second = sorted(found, key=frequencies.zipf, reverse=True)[:2]
    if frequencies.zipf(first) >= frequencies.zipf(second) + _MORE_COMMON:
        return first
    return None


def _one_letter_misread(core: str, frequencies: WordFrequencies) -> str | None:
    """A long word that is one other letter away from a common word ("disnissed", "weissxn",
    a Czech "schåzce" whose å the language has no use for), or a capitalized one whose
    capital is (:func:`_capital_misread`). The last letter is
    not tried: endings are where words inflect or were spelled otherwise, and another
    ending makes another word, not a misreading (the French print's "talens" is not
    "talent"). An ``f`` for an ``s`` is left to the long-s step, which decides for the
    whole page. A lowercase word no list has seen may also have lost a letter, never its
    first or last ("fetgenommen", "governmet"); the old French "talens" has been seen, and
    stays."""
    if len(core) < _SHORTEST_MISREAD or not frequencies.alphabet:
        return None
    letters = [letter for letter in frequencies.alphabet if len(letter) == 1]
    if core.islower():
        found = _one_other_letter(core, range(len(core) - 1), letters, _COMMON, frequencies)
        if not found and frequencies.zipf(core) == 0:
            found = {
                candidate
                for i in range(1, len(core))
                for letter in letters
                for candidate in (core[:i] + letter + core[i:],)
                if frequencies.zipf(candidate) >= _COMMON
            }
    elif core[0].isupper() and core[1:].islower() and frequencies.zipf(core) == 0:
        # a capitalized word no list has seen, not even as a name: its capital may be
        # misread (Fraktur's B for V and W, U for A: "Baterland")
        capitals = [letter.upper() for letter in letters]
        found = _one_other_letter(core, range(1), capitals, _COMMON_IF_UNSEEN, frequencies)
    else:
        return None
    return _most_common(found, frequencies) if found else None


def _one_other_letter(
    core: str, places: range, letters: list[str], common: float, frequencies: WordFrequencies
) -> set[str]:
    """The words at least ``common`` that ``core`` makes with one of ``places`` changed
    to one of ``letters`` (never an ``f`` to an ``s``)."""
    return {
        candidate
        for i in places
        for letter in letters
        if letter != core[i] and not (core[i] == "f" and letter == "s")
        for candidate in (core[:i] + letter + core[i + 1 :],)
        if frequencies.zipf(candidate) >= common
    }


def _capital_misread(core: str, meant: str, frequencies: WordFrequencies | None) -> bool:
    """Whether a capitalized word differs from a common word in its capital alone, and no
    list has seen it as written (so it is no name either): "Baterland", "Ohurch"."""
    return core[1:] == meant[1:] and _unseen_to_common(core, meant, frequencies)


def _unseen_to_common(core: str, meant: str, frequencies: WordFrequencies | None) -> bool:
    """Whether no list has seen ``core`` as read, and ``meant`` is a common word
    (:data:`_COMMON_IF_UNSEEN`) with the same last letter but for its accent. Endings are
    where words inflect: a place name no list has seen ("Vinica", "Morona") is often
    another ending away from a common word."""
    return (
        frequencies is not None
        and _bare(core[-1:]) == _bare(meant[-1:])
        and frequencies.zipf(core) == 0
        and frequencies.zipf(meant) >= _COMMON_IF_UNSEEN
    )


def _variants(
    core: str, places: list[int], changes: int, options: Callable[[str], str]
) -> list[str]:
    variants = []
    for chosen in itertools.combinations(places, changes):
        choices = [options(core[i].lower()) for i in chosen]
        for letters in itertools.product(*choices):
            spelled = list(core)
            for i, letter in zip(chosen, letters, strict=True):
                spelled[i] = letter.upper() if core[i].isupper() else letter
            variants.append("".join(spelled))
    return variants


def _small_capitals(word: str, words: frozenset[str]) -> str:
    """A word set in small capitals, which PP-OCRv6 reads with lowercase letters where a
    small capital looks like one ("SoN ExCELLENCE", "RoI"), in capitals: at least two
    capitals, no other lowercase letter, and a word of the list in lowercase but not as
    written ("VoIP", "DoS"). An abbreviation's plural ("PDFs") stays as it is."""
    letters = _LETTERS.findall(word)
    capitals = sum(letter.isupper() for run in letters for letter in run)
    lowercase = {letter for run in letters for letter in run if letter.islower()}
    if capitals < 2 or not lowercase or not lowercase <= _SMALL_CAPITAL_LOOKALIKES:
        return word
    for run in letters:
        if run in words or run.lower() not in words or _PLURAL_OF_CAPITALS.fullmatch(run):
            return word
    return word.upper()


def _capitalized(word: str) -> bool:
    return next((c for c in word if c.isalpha()), "").isupper()


def _letter_changes(written: str, meant: str) -> set[tuple[str, str]]:
    return {(a.lower(), b.lower()) for a, b in zip(written, meant, strict=False) if a != b}


def _digits(word: str) -> str:
    """A number with letters in it that look like digits (``l914``, ``£l00,0oo``), as digits:
    where it has as many digits as such letters, or is written in groups of three
    (:data:`_GROUPED_NUMBER`: ``l,O0o,`` for 1,000, ``£l0o,0oo``), which no word is. Old
    typewriters had no key for the 1, and typists wrote a lowercase l for it. The same
    holds for such a number run into a word at a full stop or a comma
    (``l94l.Wahrend``, ``l938,tlmočenému``), and a lowercase l alone, or two or three,
    before a full stop or a bracket is a number too (``l.`` ``ll).`` ``(§ l).``:
    "inden l. September")."""
    letters = [c for c in word if c.isalpha()]
    digits = sum(c.isdigit() for c in word)
    if digits and letters and all(c in "lIOo" for c in letters):
        if len(letters) <= digits or _GROUPED_NUMBER.match(word):
            return word.translate(DIGIT_LOOKALIKES)
        return word
    return _TYPED_ONES.sub(lambda ones: "1" * len(ones.group(0)), _NUMBER_RUN.sub(_figures, word))


def _figures(run: re.Match[str]) -> str:
    """A run of digits and letters that look like them, as digits where it has as many
    digits as letters."""
    text = run.group(0)
    digits = sum(c.isdigit() for c in text)
    return text.translate(DIGIT_LOOKALIKES) if digits and len(text) - digits <= digits else text


def _letter_o_for_zero(
    core: str, words: frozenset[str], frequencies: WordFrequencies | None
) -> str:
    """A word with a zero among its letters, with the letter O it stands for, where that
    makes a word (``0ktober``: a typewriter's O is as round and tall as its zero). It needs
    letters that look like no digit beside it: ``l0`` is the typist's 10, and ``lo`` a
    word."""
    if (
        "0" not in core
        or not all(c.isalpha() or c == "0" for c in core)
        or sum(c.isalpha() and c not in "lIOo" for c in core) < _LETTERS_BESIDE_ZERO
    ):
        return core
    lettered = core[0].replace("0", "O") + core[1:].replace("0", "o")
    return lettered if _known(lettered, words, frequencies) else core


def _spaced(word: str) -> str:
    """Two words run together at punctuation, apart: at a sentence's end (``service.On``),
    and at a comma, semicolon or colon, which a word follows only after a space
    (``gipsy-like;they``, ``Geſellſchaft,daß``). A full stop followed by a lowercase
    letter is left alone (``e.g``, ``www.example``)."""

    def apart(match: re.Match[str]) -> str:
        left, mark, right = match.groups()
        if mark[0] in _CLAUSE_MARKS or (
            left.islower() and right[0].isupper() and right[1:].islower()
        ):
            return f"{left}{mark} {right}"
        return match.group(0)

    return _RUN_ON.sub(apart, word)


def with_long_s(
    lines: list[list[str]],
    words: frozenset[str],
    frequencies: WordFrequencies | None = None,
    forms: WordForms | None = None,
) -> list[list[str]] | None:
    """A page printed with the long s (ſ), with it written where the print has it; None
    for a page that shows no sign of it.

    PP-OCRv6 has no ſ: it reads one as ``f`` (``feront``, ``eft``) or as ``s``. Tesseract's
    Fraktur model writes it, and diplomatic transcriptions of old prints keep it (NFKC
    folds it to ``s`` for search). A page counts as printed with it where at least
    :data:`_LONG_S_WITNESSES` different words are words only with an ``f`` read as ``s``;
    then those ``f`` are written ſ, and so is every lowercase ``s`` before a letter (the
    printers' rule: a round s ends a word). A word that is one both ways (``font`` and
    ``ſont``) is left as read: the list cannot tell which. Where the language's word
    frequencies are known, such a word takes the ſ when the word with an ``s`` is at least
    100 times as common ("fur" -> "ſur", "fi" -> "ſi"; "feront" and "seront" are both
    common, and stay as read). ``words``: :func:`long_s_words`. ``forms``: the language's
    word forms where wordfreq has no list of it (Latin, :mod:`.word_forms`); they decide
    instead of the list, which holds the misreadings themselves ("eft" -> "eſt")."""
    if not printed_with_long_s(lines, words, forms):
        return None
    return [
        [
            _LETTERS.sub(lambda run: _long_s(run.group(0), words, frequencies, forms), word)
            for word in line
        ]
        for line in lines
    ]


def printed_with_long_s(
    lines: list[list[str]], words: frozenset[str], forms: WordForms | None = None
) -> bool:
    """Whether a page (its lines' words as PP-OCRv6 read them) shows the long s: at least
    :data:`_LONG_S_WITNESSES` different words are words of ``words`` (:func:`long_s_words`)
    or ``forms`` only with an ``f`` taken for it."""
    witnesses = {
        run for line in lines for word in line for run in _LETTERS.findall(word)
        if _long_s_read_as_f(run, words, forms=forms)
    }  # fmt: skip
    return len(witnesses) >= _LONG_S_WITNESSES


def _long_s_read_as_f(
    run: str,
    words: frozenset[str],
    frequencies: WordFrequencies | None = None,
    forms: WordForms | None = None,
) -> tuple[int, ...]:
    """Where ``run``, not a word as read, has an ``f`` that makes it one when taken for a
    long s (the fewest such places; none where two choices make a word). ``frequencies``:
    a word wordfreq has seen counts too (the old "seroit"), as made, not as read (the web's
    old prints have "eft" too); only on a page already known to be printed with the long
    s, whose witnesses are words of Tesseract's list. ``forms``: a word of the list that
    is no form of the language's ("eft") counts as no word, and a form as made counts."""
    if len(run) < 2 or (forms is not None and run in forms):
        return ()
    listed = _known(run, words)
    if listed and forms is None:
        return ()

    def is_word(spelled: str) -> bool:
        # a word the list holds as read is one only where the forms say so
        if forms is not None and spelled in forms:
            return True
        return not listed and _known(spelled, words, frequencies)

    places = [i for i, letter in enumerate(run[:-1]) if letter == "f"]  # never at the end
    for changes in range(1, min(len(places), _MOST_CHANGES) + 1):
        found = [
            chosen
            for chosen in itertools.combinations(places, changes)
            if is_word(_respelled(run, chosen, "s"))
        ]
        if found:
            return found[0] if len(found) == 1 else ()
    return ()


def _long_s(
    run: str,
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    forms: WordForms | None,
) -> str:
    read_as_f = _long_s_read_as_f(run, words, frequencies, forms) or _long_s_more_common(
        run, words, frequencies
    )
    run = _respelled(run, read_as_f, "s")
    places = [i for i, letter in enumerate(run[:-1]) if letter == "s"]
    return _respelled(run, places, "ſ")


def _long_s_more_common(
    run: str, words: frozenset[str], frequencies: WordFrequencies | None
) -> tuple[int, ...]:
    """Where ``run``, a word as read, has an ``f`` that makes a far more common word when
    taken for a long s (one ``f``, never at the end)."""
    if frequencies is None or len(run) < 2 or not _known(run, words):
        return ()
    found = [
        (frequencies.zipf(spelled), i)
        for i, letter in enumerate(run[:-1])
        if letter == "f"
        for spelled in (_respelled(run, (i,), "s"),)
        if _known(spelled, words)
    ]
    if not found:
        return ()
    best, place = max(found)
    return (place,) if best >= frequencies.zipf(run) + _FAR_MORE_COMMON else ()


def _respelled(word: str, places: Iterable[int], letter: str) -> str:
    spelled = list(word)
    for i in places:
        spelled[i] = letter
    return "".join(spelled)


def all_listed(text: str, words: frozenset[str]) -> bool:
    """Whether ``text`` has letters and each run of them is in the list as written or in
    lowercase."""
    runs = _LETTERS.findall(text)
    return bool(runs) and all(run in words or run.lower() in words for run in runs)


def _known(word: str, words: frozenset[str], frequencies: WordFrequencies | None = None) -> bool:
    """In Tesseract's list (as written, in lowercase or capitalized), or seen often enough
    in wordfreq's."""
    if word in words or word.lower() in words or word.capitalize() in words:
        return True
    if _has_ligature(word) and _known(word.translate(LIGATURES), words):
        return True
    return frequencies is not None and frequencies.zipf(word) >= _SEEN


def _broken(word: str) -> bool:
    """Whether a word is the first half of one broken at the line's end."""
    return word.endswith("-") and word[:-1][-1:].isalpha()


def _accent_put_on_a_capital(written: str, meant: str, frequencies: WordFrequencies | None) -> bool:
    """Whether ``meant`` puts an accent on a capital of ``written`` in a language whose
    print leaves capitals without their accents (:data:`_UNACCENTED_CAPITALS`): there the
    capital as read is as printed ("Etendu", "REGLEMENT")."""
    if frequencies is None or not _UNACCENTED_CAPITALS.intersection(frequencies.languages):
        return False
    return any(
        a != b and a.isupper() and _bare(b) == a for a, b in zip(written, meant, strict=False)
    )


def _accents_only(word: str, other: str) -> bool:
    """Whether two spellings differ only in their accents (hlidku, hlídku)."""
    return _bare(word) == _bare(other)


def _has_ligature(word: str) -> bool:
    # asked of every candidate spelling, tens of thousands a page: four substring tests
    # cost less than a translation
    return "æ" in word or "œ" in word or "Æ" in word or "Œ" in word


def _marks(letter: str) -> str:
    """The accents of a letter (its combining marks), empty for a bare letter."""
    return "".join(c for c in unicodedata.normalize("NFD", letter) if unicodedata.combining(c))


def _bare(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_STROKED)


def greek_corrected(word: str, words: frozenset[str]) -> str:
    """A Greek word as Tesseract read it (with any punctuation around it), put right where
    it is no word of ``words`` (:func:`greek_words`) and undoing the fewest of the model's
    confusions (:data:`GREEK_CONFUSIONS`, up to three) gives exactly one word of it.

    Tesseract's Greek model reads ``κ`` as ``χ`` and ``ρ`` as ``ο`` in 19th-century Greek
    type. On the corpus's three pages quoting Greek this put 17 words right, by the ground
    truth, and none wrong. Putting accents and breathings right by the list (a unique word
    with the same letters) made 2 words wrong and none right, and is not done."""
    match = _WORD.match(word)
    if not words or not match:
        return word
    before, core, after = match.groups()
    if not core.isalpha() or _known(core, words):
        return word
    places = _confusable(core, _greek_options)
    if len(places) > _MOST_PLACES:
        return word
    for changes in range(1, min(len(places), _MOST_CHANGES) + 1):
        found = {
            candidate
            for candidate in _variants(core, places, changes, _greek_options)
            if _known(candidate, words)
        }
        if found:
            return before + found.pop() + after if len(found) == 1 else word
    return word


def _greek_options(letter: str) -> str:
    return GREEK_CONFUSIONS.get(letter, "")


@functools.lru_cache(maxsize=1)
def greek_words(model: str) -> frozenset[str]:
    """A Greek model's word list (``grc``: 137,000 words, 17 MB), kept apart from
    :func:`lexicon`'s two so that a page with Greek quoted does not push its language's
    list out."""
    return _model_words(model)


def long_s_words(models: str) -> frozenset[str]:
    """The word list :func:`with_long_s` checks words against: the models', with German's
    in place of Fraktur's, whose list takes ``f`` for ſ in common words (``ift``, ``fie``)."""
    return lexicon("+".join("deu" if model == "frk" else model for model in models.split("+")))


@functools.lru_cache(maxsize=2)
def lexicon(models: str) -> frozenset[str]:
    """The words of every model in a Tesseract ``-l`` value (empty where a model has none).

    Kept for the worker's next pages: English's 338,000 words take about 40 MB, so two
    language choices are kept at most."""
    words: set[str] = set()
    for model in models.split("+"):
        words |= _model_words(model)
    return frozenset(words)


def _model_words(model: str) -> frozenset[str]:
    """One model's word list, as Tesseract's tools write it out (a fraction of a second)."""
    traineddata = tessdata_dir() / f"{model}.traineddata"
    if not traineddata.is_file():
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="ocrchat-lexicon-") as folder:
        dawg, unicharset, listed = (
            Path(folder) / f"{model}.lstm-word-dawg",
            Path(folder) / f"{model}.lstm-unicharset",
            Path(folder) / "words.txt",
        )
        try:
            subprocess.run(
                ["combine_tessdata", "-e", str(traineddata), str(dawg), str(unicharset)],
                capture_output=True,
                check=True,
                timeout=60,
            )
            if not dawg.is_file():
                return frozenset()  # a script model, or one trained without a word list
            subprocess.run(
                ["dawg2wordlist", str(unicharset), str(dawg), str(listed)],
                capture_output=True,
                check=True,
                timeout=60,
            )
            text = listed.read_text(encoding="utf-8", errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("no word list for %s: %s", model, exc)
            return frozenset()
    return frozenset(unicodedata.normalize("NFC", word) for word in text.split())
