"""The other spellings of a word PP-OCRv6's recognizer saw, and how likely it found each.

The recognizer reads a line in steps (frames) a few pixels wide, each a probability for
every character it knows and for "nothing here" (CTC's blank). Its reading is the likeliest
character of each step, repeats and blanks dropped. Where it misread a letter, the right
one is often its second choice at that step: on the typed report in ``tests/data`` it
wrote "wamen" with "o" a third as likely as "a" there, and "Theresenstwdt" with
"Theresienstadt" at a fiftieth. :mod:`.lexicon` takes such a spelling where the word as
read is no word and the other is (docs/engines.md, "The recognizer's other spellings").

Each line keeps the few likeliest characters of its unsure steps only (:class:`StepChoices`),
and a word's spellings are found by a prefix beam search over its steps
(:func:`spellings`), written here because the libraries that do it do not fit:
pyctcdecode pins numpy below 2, fast-ctc-decode gives the best path alone, and
torchaudio's decoder needs PyTorch.
"""

from __future__ import annotations

import collections
import itertools
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import numpy

_CHOICES = 5
"""Characters kept for each unsure step."""
_UNSURE = 0.98
"""A step whose likeliest character has less than this keeps its other choices. At 0.98 or
more, another character there makes a spelling at most a fiftieth as likely as the
reading, less than :mod:`.lexicon` ever takes (its ``_LIKELY``)."""
_BEAM = 16
"""Spellings followed at each step of the search."""
_BLANK = 0
"""The recognizer's class for "nothing here"."""
_HALF_SEEN_SPACE = 0.3
"""How likely the recognizer must find a space it did not read, after punctuation or
around a dash, for the space to be read (:func:`with_half_seen_spaces`)."""
_SPACED_AFTER = frozenset(".,;:!?…—–")
_SPACED_DASHES = frozenset("—–")
_NEVER_SPACED_BEFORE = frozenset(",.;:!?…)]}\"'”’»")


@attrs.frozen(eq=False)
class StepChoices:
    """The likeliest characters of each step of one line, and their probabilities: one row a
    step, the likeliest first; a sure step (:data:`_UNSURE`) has its likeliest alone, the rest
    of its row at probability 0."""

    classes: numpy.ndarray[Any, Any]
    probabilities: numpy.ndarray[Any, Any]
    characters: Sequence[str]
    """The recognizer's characters by class (its blank first, the space last)."""

    @classmethod
    def of(cls, probabilities: Any, characters: Sequence[str]) -> StepChoices:
        """The choices of a line from the recognizer's output for it (steps by classes).
        Only the unsure steps are sorted: a whole line's output is 18,710 classes a step, and
        keeping five of each took 7 ms a line, a tenth of reading it."""
        import numpy

        count = min(_CHOICES, probabilities.shape[1])
        best = probabilities.argmax(axis=1)
        steps = numpy.arange(len(best))
        best_probability = probabilities[steps, best]
        classes = numpy.zeros((len(best), count), dtype=numpy.int32)
        kept = numpy.zeros((len(best), count), dtype=numpy.float32)
        classes[:, 0], kept[:, 0] = best, best_probability
        unsure = numpy.flatnonzero(best_probability < _UNSURE)
        if len(unsure):
            rows = probabilities[unsure]
            top = numpy.argpartition(-rows, count - 1, axis=1)[:, :count]
            top_probability = numpy.take_along_axis(rows, top, axis=1)
            order = numpy.argsort(-top_probability, axis=1)
            classes[unsure] = numpy.take_along_axis(top, order, axis=1)
            kept[unsure] = numpy.take_along_axis(top_probability, order, axis=1)
        return cls(classes=classes, probabilities=kept, characters=characters)

    @property
    def text(self) -> str:
        """The line as the recognizer read it: its likeliest character at each step."""
        return "".join(self.characters[chosen] for chosen, _ in self.read()).strip()

    @property
    def space(self) -> int:
        """The class of the space, which parts words."""
        return len(self.characters) - 1

    def read(self) -> list[tuple[int, int]]:
        """Each character read (its class), with the step it was read at."""
        read, previous = [], _BLANK
        for step, chosen in enumerate(self.classes[:, 0].tolist()):
            if chosen != previous and chosen != _BLANK:
                read.append((chosen, step))
            previous = chosen
        return read


def word_steps(choices: StepChoices) -> list[tuple[int, int]]:
    """The steps each word of the line spans, first and last, as the recognizer read it
    (words are parted by its space). A word reaches from the step after the previous word's
    last character to the step before the next word's first: the steps between are where
    a letter it dropped or added may lie."""
    words: list[list[int]] = [[]]
    for chosen, step in choices.read():
        if chosen == choices.space:
            if words[-1]:
                words.append([])
        else:
            words[-1].append(step)
    if not words[-1]:
        words.pop()
    spans = []
    for i in range(len(words)):
        first = words[i - 1][-1] + 1 if i else 0
        last = words[i + 1][0] - 1 if i + 1 < len(words) else len(choices.classes) - 1
        spans.append((first, last))
    return spans


def spellings(choices: StepChoices, span: tuple[int, int]) -> list[tuple[str, float]]:
    """The likeliest spellings of the word read over ``span`` (:func:`word_steps`), each with
    how likely it is against the likeliest of them (1.0), likeliest first; none where every
    step of the span is sure (:data:`_UNSURE`).

    A prefix beam search: a spelling's probability is the sum over every path of steps that
    reads as it, kept apart by whether its last step was blank (a letter read twice in a row
    needs a blank between). A space read counts as a blank: a word stays one word."""
    first, last = span
    if not choices.probabilities[first : last + 1, 1:].any():
        return []  # every step sure: no other spelling is a fiftieth as likely
    space = choices.space
    # spelling -> (probability ending in a blank, probability ending in its last letter)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}
    for step in range(first, last + 1):
        grown: dict[tuple[int, ...], list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
        # the steps at the span's ends read the spaces around the word: no letter of it
        options = [
            (_BLANK if c == space else int(c), float(p))
            for c, p in zip(choices.classes[step], choices.probabilities[step], strict=True)
            if p > 0
        ]
        for spelled, (ending_blank, ending_letter) in beams.items():
            total = ending_blank + ending_letter
            for chosen, probability in options:
                if chosen == _BLANK:
                    grown[spelled][0] += total * probability
                elif spelled and spelled[-1] == chosen:
                    # the same letter again: one letter held over steps, or after a blank, two
                    grown[spelled][1] += ending_letter * probability
                    grown[(*spelled, chosen)][1] += ending_blank * probability
                else:
                    grown[(*spelled, chosen)][1] += total * probability
        ranked = sorted(grown.items(), key=lambda item: -(item[1][0] + item[1][1]))
        beams = {spelled: (odds[0], odds[1]) for spelled, odds in ranked[:_BEAM]}
    ranked_spellings = sorted(
        ((spelled, sum(odds)) for spelled, odds in beams.items()), key=lambda item: -item[1]
    )
    if not ranked_spellings or ranked_spellings[0][1] <= 0:
        return []
    likeliest = ranked_spellings[0][1]
    return [
        ("".join(choices.characters[c] for c in spelled), probability / likeliest)
        for spelled, probability in ranked_spellings
        if spelled and probability > 0
    ]


def token_steps(choices: StepChoices | None, tokens: list[str]) -> list[tuple[int, int]] | None:
    """The steps of each of ``tokens`` (the line's words as they stand), where they are the
    recognizer's reading word for word; None where the line was read otherwise (put
    together from parts, or its text changed since)."""
    if choices is None:
        return None
    spans = word_steps(choices)
    if len(spans) != len(tokens) or choices.text.split() != tokens:
        return None
    return spans


def with_half_seen_spaces(choices: StepChoices) -> StepChoices:
    """``choices`` with a space read where the recognizer half saw one: after punctuation
    or on either side of a dash, between two characters it read with no space, where it
    found a space at least :data:`_HALF_SEEN_SPACE` likely over the steps between them
    ("public.Nous", "tremitatibus,lævis", a table's "1.—21." for "1. — 21."), or between a
    hyphen and a figure (a typed page number's "-5-" for "- 5 -"). The space is
    read at the step it is likeliest of those that read nothing, so the characters read
    stay as they were, the spaces added between them.

    Reading each step's likeliest character drops such a space wherever "nothing here" is
    likelier at every one of its steps, though the space may be likely over them all
    together; after punctuation, typesetting puts one nearly always. Letters and digits
    among themselves are left alone: there a space half seen is as often a letter the
    recognizer missed ("fetgenommen") or a gap inside a word. Nor is a space put before
    closing punctuation or a quotation mark, which may be an opening or a closing one."""
    import numpy

    space = choices.space
    characters = choices.characters
    spaced_at = []
    for (before, step), (after, next_step) in itertools.pairwise(choices.read()):
        if space in (before, after) or next_step - step < 2:
            continue
        first, second = characters[before], characters[after]
        if second in _NEVER_SPACED_BEFORE:
            continue
        hyphen_by_figure = "-" in (first, second) and (first.isdigit() or second.isdigit())
        if first not in _SPACED_AFTER and second not in _SPACED_DASHES and not hyphen_by_figure:
            continue
        if _wide(first) or _wide(second):
            continue  # Chinese and Japanese put no spaces between words, nor round a dash
        between = slice(step + 1, next_step)
        space_probability = numpy.where(
            choices.classes[between] == space, choices.probabilities[between], 0.0
        ).sum(axis=1)
        if 1.0 - float(numpy.prod(1.0 - space_probability)) >= _HALF_SEEN_SPACE:
            # read at a step that read nothing: one that holds the character before (a wide
            # dash spans several) would read it twice, once on each side of the space
            at_blank = space_probability * (choices.classes[between, 0] == _BLANK)
            if at_blank.any():
                spaced_at.append(step + 1 + int(at_blank.argmax()))
    if not spaced_at:
        return choices
    classes, probabilities = choices.classes.copy(), choices.probabilities.copy()
    for step in spaced_at:
        # the space becomes the step's reading: its row begins with it, the others after
        (kept,) = numpy.flatnonzero(classes[step] == space)[:1]
        order = [kept, *(i for i in range(classes.shape[1]) if i != kept)]
        classes[step], probabilities[step] = classes[step, order], probabilities[step, order]
    return StepChoices(classes=classes, probabilities=probabilities, characters=characters)


def _wide(character: str) -> bool:
    """Whether a character is set full width: a CJK ideograph, kana, or their punctuation."""
    return unicodedata.east_asian_width(character) in ("W", "F")
