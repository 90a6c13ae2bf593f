"""Reading order for text lines found by a detector: columns one after another, tables and
forms row by row, and the lines grouped into paragraphs.

A recursive XY-cut over the lines' boxes: a region is split at a gutter that
has prose on both sides first (columns: several lines each, most of them as
wide as their column); then at a wide horizontal gap (a break between
sections); then at its widest horizontal gap (rows); then at its widest
vertical gap. Short pieces beside each other (a verse and its line number, a
label and its value, table cells) so stay on their row, while columns of
running text are read one after the other.

A page scanned askew is laid out as if it lay straight (:func:`page_skew`,
:func:`upright_boxes`).
"""

from __future__ import annotations

import itertools
import math
import statistics
from typing import TYPE_CHECKING

from ocrchat_server.engines.words import enclosing

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocrchat.models import BBox

_SECTION_GAP = 1.0
"""A horizontal gap this many line heights tall splits a region before any column does."""
_EDGE_SLACK = 0.8
"""How far, in line heights, a line's box may reach into a gutter (at most a quarter of the
line's length). A commentary's narrow gutter, with one line set into it at each side,
was missed at 0.4, and its two columns read in alternating slices."""
_MIN_GUTTER = 0.5
"""The narrowest vertical gap, in line heights, that may separate columns or cells."""
_COLUMN_MIN_LINES = 3
_COLUMN_MIN_WIDTH = 0.25
"""A column spans at least this share of its region's width..."""
_COLUMN_LINE_FILL = 0.6
"""... and its median line fills at least this share of the column: running text."""
_LINE_CORE = 0.2
"""Detection boxes of neighbouring lines touch; only a line's core (less this share of
its height at top and bottom) counts when looking for gaps between rows."""
_ROW_OVERLAP = 0.5
"""Two pieces are on one row where their heights overlap by at least this share of the
smaller one's..."""
_ROW_SLACK = 0.5
"""... and the second begins no further left than this many line heights (of the smaller)
inside the first."""
_SKEW_LINE_LENGTH = 5.0
"""Lines at least this many (median) line heights long tell the page's skew: a short
word's outline is too short to have a reliable slope."""
_SKEW_WITNESSES = 3
_LEAST_SKEW = 0.5
"""Under this skew (degrees) boxes are laid out as they are: taken out at 0.2, the 0.35
degrees of the corpus's 1761 Latin table reordered its cells, 7 errors worse."""
_MOST_SKEW = 40.0
"""A steeper median slope is laid out as it is: towards 45 degrees a line's outline no longer
tells its length from its height (a square box fits a line either way). Up to 40 degrees,
a photographed page read as well as level (docs/engines.md, "Page preparation")."""
_LEAST_HEIGHT = 0.25
"""A line's height once its skew is taken out is kept at least this share of its box's
(a line at another slope than the page's would otherwise come out flat)."""
_PIECE_GAP = 2.0
"""The widest space, in line heights, between two pieces of one line the detector cut
(:func:`line_pieces`): a justified line's wide word space is about one."""
_PIECE_SPACE = 0.25
"""The narrowest space, in line heights, between two pieces of one line: the detector cuts
a line at a space. Boxes that touch are another line's (a line of the next column that
the detector ran up to the gutter)."""
_PIECE_HEIGHTS = 0.7
"""The pieces of one line are about as tall as each other: a handwritten note in the margin
beside a typed line is not one of its pieces (at most this share of the other's height)."""
_PIECE_NEIGHBOURHOOD = 10.0
"""How far above and below two pieces, in line heights, the lines are that tell whether
they are one line's (:func:`line_pieces`)."""
_PARAGRAPH_GAP = 0.5
_PARAGRAPH_SPACING = 1.5
"""A gap wider than the usual line spacing by half a line height, and by half of itself,
starts a new paragraph."""


def _gaps(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    spans = sorted(spans)
    gaps = []
    end = spans[0][1]
    for start, stop in spans[1:]:
        if start > end:
            gaps.append((end, start))
        end = max(end, stop)
    return gaps


def _width(gap: tuple[float, float]) -> float:
    return gap[1] - gap[0]


class _Cutter:
    def __init__(self, boxes: Sequence[BBox]) -> None:
        self.boxes = boxes
        self.height = statistics.median(box[3] - box[1] for box in boxes) or 1

    def order(self, lines: list[int]) -> list[int]:
        if len(lines) <= 1:
            return lines
        boxes = self.boxes
        cores = []
        for i in lines:
            trim = _LINE_CORE * (boxes[i][3] - boxes[i][1])
            cores.append((boxes[i][1] + trim, boxes[i][3] - trim))
        row_gaps = _gaps(cores)
        # a detection box may reach a little into the gutter: edges count less than cores
        slack = _EDGE_SLACK * self.height
        spans = []
        for i in lines:
            x0, x1 = boxes[i][0], boxes[i][2]
            trim = min(slack, (x1 - x0) / 4)
            spans.append((x0 + trim, x1 - trim))
        gutters = [gap for gap in _gaps(spans) if _width(gap) >= _MIN_GUTTER * self.height]
        # columns first: where both columns pause at the same height, a cut across the
        # page there would read the columns in alternating slices
        for gutter in sorted(gutters, key=_width, reverse=True):
            left, right = self._sides(lines, gutter)
            if self._is_column(left, lines) and self._is_column(right, lines):
                return self.order(left) + self.order(right)
        sections = [gap for gap in row_gaps if _width(gap) >= _SECTION_GAP * self.height]
        if sections:
            return self._split_rows(lines, max(sections, key=_width))
        if row_gaps:
            return self._split_rows(lines, max(row_gaps, key=_width))
        if gutters:
            left, right = self._sides(lines, max(gutters, key=_width))
            return self.order(left) + self.order(right)
        return sorted(lines, key=lambda i: (boxes[i][1], boxes[i][0]))

    def _sides(self, lines: list[int], gutter: tuple[float, float]) -> tuple[list[int], list[int]]:
        middle = (gutter[0] + gutter[1]) / 2
        left = [i for i in lines if (self.boxes[i][0] + self.boxes[i][2]) / 2 < middle]
        right = [i for i in lines if (self.boxes[i][0] + self.boxes[i][2]) / 2 >= middle]
        return left, right

    def _is_column(self, side: list[int], region: list[int]) -> bool:
        if len(side) < _COLUMN_MIN_LINES:
            return False
        boxes = self.boxes
        region_width = max(boxes[i][2] for i in region) - min(boxes[i][0] for i in region)
        width = max(boxes[i][2] for i in side) - min(boxes[i][0] for i in side)
        median_line = statistics.median(boxes[i][2] - boxes[i][0] for i in side)
        return (
            width >= _COLUMN_MIN_WIDTH * region_width and median_line >= _COLUMN_LINE_FILL * width
        )

    def _split_rows(self, lines: list[int], gap: tuple[float, float]) -> list[int]:
        middle = (gap[0] + gap[1]) / 2
        above = [i for i in lines if (self.boxes[i][1] + self.boxes[i][3]) / 2 < middle]
        below = [i for i in lines if (self.boxes[i][1] + self.boxes[i][3]) / 2 >= middle]
        if not above or not below:
            return sorted(lines, key=lambda i: (self.boxes[i][1], self.boxes[i][0]))
        return self.order(above) + self.order(below)


def share_inside(box: BBox, other: BBox) -> float:
    """Share of ``box``'s area that lies inside ``other``."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
    return width * height / area if width > 0 and height > 0 else 0.0


def reading_order(boxes: Sequence[BBox]) -> list[int]:
    """The indices of ``boxes`` (text lines, top-left origin) in reading order. The pieces
    of one line the detector cut apart (:func:`line_pieces`) are laid out as that line,
    and read left to right."""
    if not boxes:
        return []
    lines = line_pieces(boxes)
    order = _Cutter([enclosing(boxes[i] for i in pieces) for pieces in lines]).order(
        list(range(len(lines)))
    )
    return [i for line in order for i in lines[line]]


def line_pieces(boxes: Sequence[BBox]) -> list[list[int]]:
    """``boxes`` grouped into lines, each line's pieces from left to right.

    The detector cuts a justified line at its wide spaces ("Davison (S.-M.).  Appareil
    à signaux"), and the pieces of several such lines one under another look like a narrow
    column: the cut read all their left pieces first, then the right ones, and where a
    column had many such lines it was no longer a column of running text, and two columns
    were read across. Two boxes side by side on a row (:func:`beside`), at most
    :data:`_PIECE_GAP` line heights apart and about as tall (:data:`_PIECE_HEIGHTS`), are
    pieces of one line where the lines near them run on through the gap between them
    (:func:`_crossed_by_neighbours`)."""
    height = statistics.median(box[3] - box[1] for box in boxes) or 1
    line_of = list(range(len(boxes)))

    def line(i: int) -> int:
        while line_of[i] != i:
            line_of[i] = line_of[line_of[i]]
            i = line_of[i]
        return i

    for i, left in enumerate(boxes):
        following = [
            j
            for j, right in enumerate(boxes)
            if j != i
            and right[0] >= left[0]
            and beside(left, right)
            and _PIECE_SPACE * height <= right[0] - left[2] <= _PIECE_GAP * height
            and _PIECE_HEIGHTS * (left[3] - left[1]) <= right[3] - right[1]
            and _PIECE_HEIGHTS * (right[3] - right[1]) <= left[3] - left[1]
        ]
        if not following:
            continue
        j = min(following, key=lambda j: boxes[j][0])
        if _crossed_by_neighbours(boxes, i, j, height):
            line_of[line(j)] = line(i)
    grouped: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        grouped.setdefault(line(i), []).append(i)
    return [sorted(pieces, key=lambda i: boxes[i][0]) for pieces in grouped.values()]


def _crossed_by_neighbours(boxes: Sequence[BBox], left: int, right: int, height: float) -> bool:
    """Whether most of the other lines within :data:`_PIECE_NEIGHBOURHOOD` line heights of
    the two boxes that reach over them run on through the middle of the gap between them:
    the lines of a column run on through a gap in one of its lines; the lines of two
    columns, and a table's cells, stop short of it, on either side."""
    x0, x1 = boxes[left][0], boxes[right][2]
    middle = (boxes[left][2] + boxes[right][0]) / 2
    centre = (boxes[left][1] + boxes[left][3]) / 2
    reaching = crossing = 0
    for k, box in enumerate(boxes):
        if k in (left, right) or abs((box[1] + box[3]) / 2 - centre) > (
            _PIECE_NEIGHBOURHOOD * height
        ):
            continue
        if box[0] < x1 and x0 < box[2]:
            reaching += 1
            crossing += box[0] < middle < box[2]
    return crossing > reaching / 2


def page_skew(boxes: Sequence[BBox], angles: Sequence[float]) -> float:
    """The angle (degrees, positive where lines run down to the right) at which a page's
    lines were scanned, from the detector's slopes of its long lines (``angles``, one per
    box); 0 where too few lines tell, or the skew is too small to matter."""
    if not boxes:
        return 0.0
    # each line's own length and height along its slope: an upright box is taller than its
    # line by the line's rise, which at 12 degrees made every long line of a typed page look
    # shorter than five of those heights, and the page level
    shapes = [
        outline(box[2] - box[0], box[3] - box[1], angle)
        if abs(angle) <= _MOST_SKEW
        else (box[2] - box[0], box[3] - box[1])
        for box, angle in zip(boxes, angles, strict=True)
    ]
    height = statistics.median(tall for _, tall in shapes) or 1
    slopes = [
        angle
        for (length, _), angle in zip(shapes, angles, strict=True)
        if length >= _SKEW_LINE_LENGTH * height
    ]
    if len(slopes) < _SKEW_WITNESSES:
        return 0.0
    skew = statistics.median(slopes)
    return skew if _LEAST_SKEW <= abs(skew) <= _MOST_SKEW else 0.0


def upright_boxes(
    boxes: Sequence[BBox], skew: float, angles: Sequence[float] | None = None
) -> list[BBox]:
    """The boxes of a page's lines as they would lie were the page turned by ``skew``
    degrees (:func:`page_skew`) to upright: for laying the lines out, not for showing.

    A line scanned askew has an upright box taller than the line by its slope, and
    overlaps the boxes of the lines above and below it: on a page skewed 1.5 degrees,
    each line of a typed page had become a paragraph of its own, and a table's rows could
    no longer be told apart. Each box is taken as the outline of a line at a slope, that
    line's own length and height recovered, and its centre turned about the page's
    origin (only the lines' places relative to each other matter). The slope is the
    line's own (``angles``, where given) if it is long enough to tell one, else the page's:
    a page bent near its spine is skewed more at one end than at the other."""
    if not skew:
        return list(boxes)
    height = statistics.median(box[3] - box[1] for box in boxes)
    turn = math.radians(skew)
    cos, sin = math.cos(turn), math.sin(turn)
    result = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        width, tall = x1 - x0, y1 - y0
        slope = skew
        if angles is not None and width >= _SKEW_LINE_LENGTH * height:
            slope = angles[i]
        length, upright = outline(width, tall, slope)
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        centre_x, centre_y = x * cos + y * sin, y * cos - x * sin
        result.append(
            (
                round(centre_x - length / 2),
                round(centre_y - upright / 2),
                round(centre_x + length / 2),
                round(centre_y + upright / 2),
            )
        )
    return result


def outline(width: float, height: float, slope: float) -> tuple[float, float]:
    """The length and height of a line at ``slope`` degrees whose upright box is ``width``
    by ``height``: an outline of length L and height H spans L cos + H sin by L sin + H cos."""
    turn = math.radians(slope)
    cos, sin = math.cos(turn), abs(math.sin(turn))
    scale = cos * cos - sin * sin
    length = max(0.0, (width * cos - height * sin) / scale)
    upright = max(_LEAST_HEIGHT * height, (height * cos - width * sin) / scale)
    return length, upright


def beside(left: BBox, right: BBox) -> bool:
    """Whether ``right`` goes on along ``left``'s row: it begins where ``left`` ends or
    after it, and the two overlap in height. A table's next cell, a label's value, the rest
    of a line the detector cut in two, a verse's number."""
    smaller = min(left[3] - left[1], right[3] - right[1])
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    return right[0] >= left[2] - _ROW_SLACK * smaller and overlap >= _ROW_OVERLAP * smaller


def rows(boxes: Sequence[BBox], order: list[int]) -> list[list[int]]:
    """Lines in reading order cut into rows: each line that goes on along the one before it
    (:func:`beside`) joins its row."""
    runs: list[list[int]] = []
    for line in order:
        if runs and beside(boxes[runs[-1][-1]], boxes[line]):
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def paragraphs(boxes: Sequence[BBox], order: list[int]) -> list[list[int]]:
    """Lines in reading order grouped into paragraphs: a new one starts where the next row
    (:func:`rows`: the cells of a table's row, a label and its value stay together) is not
    below the last one in the same column, or follows a gap clearly wider than the page's
    usual line spacing (so double-spaced typing stays one paragraph)."""
    if not order:
        return []
    height = statistics.median(box[3] - box[1] for box in boxes) or 1
    runs = rows(boxes, order)
    spans = [enclosing(boxes[i] for i in run) for run in runs]
    pairs = list(itertools.pairwise(spans))

    def follows(above: BBox, below: BBox) -> bool:
        overlaps = min(above[2], below[2]) > max(above[0], below[0])
        return overlaps and below[1] - above[3] >= -0.5 * height

    spacings = [below[1] - above[3] for above, below in pairs if follows(above, below)]
    # the lower quartile: on a short page paragraph gaps can be half of all gaps
    usual = max(0.0, sorted(spacings)[(len(spacings) - 1) // 4]) if spacings else 0.0
    widest = max(usual * _PARAGRAPH_SPACING, usual + _PARAGRAPH_GAP * height)
    groups: list[list[int]] = [list(runs[0])]
    for (above, below), run in zip(pairs, runs[1:], strict=True):
        if follows(above, below) and below[1] - above[3] <= widest:
            groups[-1].extend(run)
        else:
            groups.append(list(run))
    return groups
