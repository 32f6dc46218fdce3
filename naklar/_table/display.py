"""How runs, selections and stores look: HTML tables in Jupyter, aligned text in a terminal.

Jupyter calls ``_repr_html_`` when a cell ends in an object; a terminal shows
``repr``. Select results stay lists (:class:`SelectedRuns` is a ``list`` that
only adds ``_repr_html_``), so they compare equal to lists, pickle, and print
as the documentation shows them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["SelectedRuns", "html_table", "text_table", "MAX_HTML_ROWS"]

#: Longer selections show their first and last rows around a "..." row, as pandas does.
MAX_HTML_ROWS = 60
_SHOWN_AT_EACH_END = 10


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str | None = None,
    max_rows: int = MAX_HTML_ROWS,
) -> str:
    """An HTML table of ``rows`` (values shown by ``str``, escaped), long ones shortened.

    >>> html_table(['a'], [['<b>']]).endswith('<tbody><tr><td>&lt;b&gt;</td></tr></tbody></table>')
    True
    """
    shown: list[Sequence[Any] | None] = list(rows)
    if len(rows) > max_rows:
        shown = [*rows[:_SHOWN_AT_EACH_END], None, *rows[-_SHOWN_AT_EACH_END:]]
    body = "".join(
        _html_row("td", ["..."] * len(header)) if row is None else _html_row("td", row)
        for row in shown
    )
    parts = ['<table class="naklar">']
    if caption is not None:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append(f"<thead>{_html_row('th', header)}</thead><tbody>{body}</tbody></table>")
    if len(rows) > max_rows:
        parts.append(f"<p>{len(rows)} rows</p>")
    return "".join(parts)


def _html_row(cell: str, values: Iterable[Any]) -> str:
    cells = "".join(f"<{cell}>{html.escape(_shown(value))}</{cell}>" for value in values)
    return f"<tr>{cells}</tr>"


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """Columns padded to their widest value, one line per row.

    >>> print(text_table(['key', 'type'], [['C', 'Float'], ['kernel', 'String']]))
    key     type
    C       Float
    kernel  String
    """
    cells = [[_shown(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return "\n".join(
        indent
        + "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


class SelectedRuns(list[Any]):
    """What ``select`` returns: a plain list of runs or named tuples, a table in Jupyter."""

    def __reduce__(self) -> tuple[type[list[Any]], tuple[list[Any]]]:
        # pickled as the plain list it is: loading it back needs nothing of naklar's
        return list, (list(self),)

    def _repr_html_(self) -> str:
        if not self:
            return "<p>no runs selected</p>"
        first = self[0]
        if hasattr(first, "_fields"):  # named tuples
            return html_table(list(first._fields), self)
        if hasattr(first, "_naklar_columns"):  # E objects
            keys = list(type(first)._naklar_columns)
            return html_table(keys, [[run[key] for key in keys] for run in self])
        return html.escape(repr(self))
