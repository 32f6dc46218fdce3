"""The ``naklar`` command: a thin shell over the store, with the library's option names.

::

    naklar keys results --metrics f1         the columns: role, type, runs, a few values
    naklar show results kernel C f1 --where 'f1>0.8' --where C=1,2 --sort f1
    naklar export results sweep.parquet      the whole table as Parquet (or .csv)
    naklar sync results --db sqlite:///sweep.db    load or refresh a persistent store
    naklar demo                              the documentation's iris sweep

A mistake of the user's (a missing root, a column that does not exist, a
filter it cannot read) prints one line naming it and the fix, and exits with
status 2; anything unexpected exits with status 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._read.loaders import loader_for
from .errors import NaklarError, UnknownColumnError

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from ._store.store import Store

__all__ = ["main", "parse_where", "SETTINGS_NAMES"]

#: Settings file names looked for, in this order, when ``--dict-file`` is not given.
#: Pickles are never guessed: unpickling runs code, so ``conf.pkl`` is read only when named.
_USUAL_NAMES = (
    "conf.json",
    "conf.yaml",
    "conf.yml",
    "config.json",
    "config.yaml",
    "config.yml",
    "params.json",
    "params.yaml",
    "settings.json",
    "hparams.yaml",
    "conf.toml",
    "config.toml",
)


def _readable(name: str) -> bool:
    try:
        loader_for(name)
    except NaklarError:
        return False
    return True


#: The usual names naklar has a loader for.
SETTINGS_NAMES = tuple(name for name in _USUAL_NAMES if _readable(name))

EXIT_USER_ERROR = 2
EXIT_UNEXPECTED = 1


class UsageError(NaklarError):
    """A command-line mistake naklar's library cannot see (a bad ``--where``, an output type)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, 1 unexpected, 2 the user's mistake)."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        with _warnings_as_lines():
            arguments.run(arguments)
    except (NaklarError, OSError) as error:  # OSError: a file the user named
        if arguments.debug:
            traceback.print_exc()
        print(f"naklar: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("naklar: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if arguments.debug:
            traceback.print_exc()
        print(
            f"naklar: unexpected error: {type(error).__name__}: {_one_line(error)} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
    return 0


# -- the parser ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="naklar",
        description=(__doc__ or "").replace("::\n", "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    loading, selecting = _loading_options(), _selecting_options()

    keys = commands.add_parser(
        "keys",
        parents=[loading],
        help="the columns found: type, how many runs have each, a few values",
        description="Load a results tree (or open --db) and list its columns: type, "
        "how many runs have a value, and a few of the values.",
    )
    keys.add_argument("root_dir", nargs="?", metavar="ROOT", help="the results tree")
    keys.set_defaults(run=run_keys)

    show = commands.add_parser(
        "show",
        parents=[loading, selecting],
        help="print the runs, every column or those named",
        usage="naklar show (ROOT | --db URL) [COLUMNS ...] [--where EXPR]... [options]",
        description="Load a results tree (or open --db) and print a selection of its runs. "
        "The load report goes to standard error, the runs to standard output.",
    )
    show.add_argument(
        "names",
        nargs="*",
        metavar="ROOT [COLUMNS]",
        help="the results tree (not with --db), then the columns to show (all)",
    )
    show.add_argument(
        "--format",
        choices=("table", "csv", "json", "markdown"),
        default="table",
        help="how to print the runs (table)",
    )
    show.set_defaults(run=run_show)

    export = commands.add_parser(
        "export",
        parents=[loading, selecting],
        help="write the runs to a .parquet or .csv file",
        usage="naklar export (ROOT | --db URL) OUT.parquet|OUT.csv [--columns ...] [options]",
        description="Load a results tree (or open --db) and write its runs to a Parquet or "
        "CSV file, chosen by the file's extension. Read it back with pandas; "
        "df.naklar.select runs the same filters on it.",
    )
    export.add_argument(
        "names", nargs="+", metavar="ROOT OUT", help="the results tree (not with --db), the file"
    )
    export.add_argument("--columns", nargs="+", default=[], help="the columns to write (all)")
    export.set_defaults(run=run_export)

    sync = commands.add_parser(
        "sync",
        parents=[loading],
        help="load a tree into a persistent store, or refresh it, printing what changed",
        description="Load ROOT into the database at --db, or, when the database already "
        "holds this tree, read only new and changed files. Without ROOT, refresh the "
        "tree the store was loaded from.",
    )
    sync.add_argument("root_dir", nargs="?", metavar="ROOT", help="the results tree")
    sync.set_defaults(run=run_sync)

    demo = commands.add_parser(
        "demo",
        help="write the documentation's iris sweep and query it",
        description="Write the documentation's iris sweep (12 SVC settings; needs the "
        "demo extra, scikit-learn) and print the walkthrough's selections.",
    )
    demo.add_argument("directory", nargs="?", default="demo-results", help="where to write it")
    demo.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    demo.set_defaults(run=lambda arguments: run_demo(arguments.directory))
    return parser


def _loading_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("loading")
    group.add_argument(
        "--dict-file",
        metavar="NAME",
        help="the settings file each run directory holds; by default the first of "
        + ", ".join(SETTINGS_NAMES)
        + " found under ROOT (a pickle such as conf.pkl is read only when named: "
        "unpickling runs code)",
    )
    group.add_argument(
        "--include-hidden", action="store_true", help="also walk directories named .*"
    )
    group.add_argument(
        "--follow-symlinks", action="store_true", help="walk directories that are symlinks"
    )
    group.add_argument(
        "--on-error",
        choices=("warn", "raise", "ignore"),
        default="warn",
        help="a settings file that cannot be read: skip it with a warning (warn), "
        "stop (raise) or skip it silently (ignore)",
    )
    group.add_argument(
        "--on-unsupported",
        choices=("warn", "raise", "ignore"),
        default="warn",
        help="a key whose values fit no column type: leave it out with a warning (warn), "
        "stop (raise) or leave it out silently (ignore)",
    )
    group.add_argument("--source", metavar="NAME", help="read the runs as this tool writes them")
    group.add_argument(
        "--metrics",
        action="append",
        metavar="NAMES",
        help="the columns that are results, not settings: names or shell-style patterns, "
        "comma-separated or repeated (f1,accuracy or 'val_*'); the store keeps them",
    )
    group.add_argument(
        "--workers", type=_count(1), metavar="N", help="processes reading files (all cores)"
    )
    group.add_argument(
        "--db",
        metavar="URL",
        help="a database URL: read the store there instead of walking ROOT "
        "(sync: the store to load or refresh)",
    )
    group.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    return options


def _selecting_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("selecting")
    group.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="EXPR",
        help="keep runs where EXPR holds, as select() filters: C=1,2 (any of), f1>0.8, "
        "kernel!=linear, model.kernel=rbf, gamma=None; also >=, <, <=; repeat to AND",
    )
    group.add_argument("--sort", metavar="COLUMN", help="order the runs by this column")
    group.add_argument("--descending", action="store_true", help="sort from the largest")
    group.add_argument("--limit", type=_count(0), metavar="N", help="print at most N runs")
    return options


def _count(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least``."""

    def count(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(
                f"takes a whole number of at least {least}, got {text!r}"
            )
        return number

    return count


# -- the commands -------------------------------------------------------------------------


def run_keys(arguments: argparse.Namespace) -> None:
    _print_table(keys_table(_store(arguments, arguments.root_dir).summary()))


def run_show(arguments: argparse.Namespace) -> None:
    root, columns = _split_names(arguments, arguments.names, "ROOT")
    frame = _selection(_store(arguments, root), columns, arguments)
    printers: dict[str, Callable[[pd.DataFrame], str]] = {
        "table": _table_text,
        "csv": lambda frame: frame.to_csv(index=False).rstrip("\n"),
        "json": _json_records,
        "markdown": _markdown,
    }
    print(printers[arguments.format](frame))


def run_export(arguments: argparse.Namespace) -> None:
    root, rest = _split_names(arguments, arguments.names, "ROOT OUT")
    if len(rest) != 1:
        raise UsageError(f"export takes one output file after the root, got {rest}")
    out = rest[0]
    extension = os.path.splitext(out)[1].lower()
    if extension not in (".parquet", ".csv"):
        raise UsageError(
            f"cannot write {out!r}: name a .parquet or .csv file (its extension decides the format)"
        )
    frame = _selection(_store(arguments, root), arguments.columns, arguments)
    if extension == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} runs, {len(frame.columns)} columns to {out}", file=sys.stderr)


def run_sync(arguments: argparse.Namespace) -> None:
    import naklar

    if arguments.db is None:
        raise UsageError("sync needs --db URL: the database that keeps the store")
    if arguments.root_dir is None:
        store = _open(arguments.db)
        store.refresh(workers=arguments.workers)
    else:
        options = _load_options(arguments, arguments.root_dir)
        store = naklar.load(arguments.root_dir, url=arguments.db, **options)
    print(store.report)
    if store.report is not None and store.report.changes is None:
        print(f"  loaded into {store.engine.url!r}")  # the URL's repr hides its password


def run_demo(directory: str) -> None:
    """Write the iris sweep under ``directory`` (unless there) and print selections."""
    import naklar

    from ._demo import write_iris_sweep

    if not os.path.isdir(os.path.join(directory, "0")):
        print(f"writing the iris sweep (12 SVC settings) to {directory}/ ...")
        write_iris_sweep(directory)
    store = naklar.load(directory, dict_file="conf.json")
    E: Any = store.E  # attributes are the sweep's keys, unknown to a type checker
    print(store.report, end="\n\n")
    _show_rows("store.select('i', 'path', 'f1')", store.select("i", "path", "f1"))
    _show_rows("store.select('path', C=[1, 2])", store.select("path", C=[1, 2]))
    _show_rows(
        "store.select('i', 'kernel', 'C', 'f1', E.f1 > 0.8)",
        store.select("i", "kernel", "C", "f1", E.f1 > 0.8),
    )
    print(">>> store.frame().pivot_table(index='kernel', columns='C', values='f1')")
    print(store.frame().pivot_table(index="kernel", columns="C", values="f1").to_string())


def _show_rows(call: str, rows: list[tuple[object, ...]]) -> None:
    print(f">>> {call}")
    for row in rows:
        print(f"    {tuple(row)}")
    print()


# -- loading and selecting ----------------------------------------------------------------


def _split_names(
    arguments: argparse.Namespace, names: list[str], what: str
) -> tuple[str | None, list[str]]:
    """``(root, the rest)``: with ``--db`` there is no root among the positional arguments."""
    if arguments.db is not None:
        return None, names
    if not names:
        raise UsageError(f"give {what} (the results tree first), or --db URL to read a store")
    return names[0], names[1:]


def _store(arguments: argparse.Namespace, root: str | None) -> Store:
    import naklar

    if arguments.db is not None:
        if root is not None:
            raise UsageError(
                f"give either ROOT ({root!r}) or --db, not both: `naklar sync ROOT --db URL` "
                "loads a tree into a database"
            )
        return _open(arguments.db)
    if root is None:
        raise UsageError("give ROOT (the results tree), or --db URL to read a store")
    store = naklar.load(root, **_load_options(arguments, root))
    print(store.report, file=sys.stderr)
    return store


def _open(url: str) -> Store:
    import sqlalchemy as sa

    import naklar

    try:
        return naklar.open(url)
    except sa.exc.ArgumentError as error:  # not a URL, or a dialect SQLAlchemy lacks
        raise UsageError(
            f"--db {url!r} is not a database URL SQLAlchemy can use ({error}); write "
            "dialect+driver://user@host/database, e.g. sqlite:///sweep.db"
        ) from None


def _load_options(arguments: argparse.Namespace, root: str) -> dict[str, Any]:
    """The keyword arguments of ``naklar.load`` the command line gave."""
    options: dict[str, Any] = {
        "include_hidden": arguments.include_hidden,
        "follow_symlinks": arguments.follow_symlinks,
        "on_error": arguments.on_error,
        "on_unsupported": arguments.on_unsupported,
        "workers": arguments.workers,
    }
    if arguments.source is not None:
        options["source"] = arguments.source
    if arguments.metrics:
        options["metrics"] = [
            name.strip() for names in arguments.metrics for name in names.split(",") if name.strip()
        ]
    if arguments.dict_file is not None:
        options["dict_file"] = arguments.dict_file
    elif arguments.source is None:
        options["dict_file"] = find_settings_name(root, arguments.include_hidden)
    return options


def find_settings_name(root: str, include_hidden: bool = False) -> str:
    """The first of :data:`SETTINGS_NAMES` in the first directory under ``root`` holding one."""
    if not os.path.isdir(root):
        what = "is a file, not a directory" if os.path.exists(root) else "does not exist"
        raise UsageError(f"ROOT {root!r} {what}: pass the folder that holds one directory per run")
    hidden = 0
    for _directory, subdirectories, files in os.walk(root):
        present = set(files)
        for name in SETTINGS_NAMES:
            if name in present:
                return name
        if not include_hidden:
            hidden += sum(name.startswith(".") for name in subdirectories)
            subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        subdirectories.sort()
    raise UsageError(
        f"no settings file named {', '.join(SETTINGS_NAMES)} under {root!r}; pass "
        "--dict-file NAME with the file each run directory holds (a pickle is read only "
        "when named so)"
        + (f"; {hidden} hidden directories were not entered: --include-hidden" if hidden else "")
    )


def _selection(store: Store, columns: list[str], arguments: argparse.Namespace) -> pd.DataFrame:
    """The frame ``show`` and ``export`` print: ``--where`` filters, ``--sort``, ``--limit``."""
    conditions = [where_condition(store, text) for text in arguments.where]
    sort = arguments.sort
    wanted = list(columns)
    if sort is not None and wanted and sort not in wanted:
        wanted.append(sort)  # sorted by, then left out
    frame = store.frame(*wanted, *conditions)
    if sort is not None:
        if sort not in frame.columns:
            raise UnknownColumnError(_unknown_column(sort, list(frame.columns)))
        frame = frame.sort_values(
            sort, ascending=not arguments.descending, kind="stable", na_position="last"
        )
        if columns and sort not in columns:
            frame = frame.drop(columns=sort)
    if arguments.limit is not None:
        frame = frame.head(arguments.limit)
    return frame.reset_index(drop=True)


def _unknown_column(name: str, columns: list[str]) -> str:
    from ._table.model import unknown_column_message

    return unknown_column_message(name, columns)


# -- --where ------------------------------------------------------------------------------

#: ``key OP value``: the key is everything before the first operator.
_WHERE = re.compile(r"^(?P<key>.+?)\s*(?P<op>==|!=|>=|<=|=|>|<)\s*(?P<value>.*)$", re.DOTALL)
#: The operator -> the lookup of select's keyword filters (``None``: ``key=value``).
_LOOKUP_OF = {"=": None, "==": None, "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


def parse_where(text: str, text_column: bool = False) -> tuple[str, str | None, Any]:
    """``'f1>0.8'`` -> ``('f1', 'gt', 0.8)``: the key, select's lookup and the value.

    The value reads as a user means it: ``1`` an int, ``0.8`` a float, ``true`` and
    ``false`` booleans, ``None`` (or ``null``) a missing value, anything else text;
    quotes keep text as it is (``kernel='1,2'``), and so does ``text_column`` (the
    key is a text column: ``name=007`` is the text ``'007'``). With ``=``, a comma
    list means any of its values (``IN``).

    >>> parse_where('C=1,2'), parse_where('kernel!=linear'), parse_where('gamma=None')
    (('C', None, [1, 2]), ('kernel', 'ne', 'linear'), ('gamma', None, None))
    """
    match = _WHERE.match(text.strip())
    if match is None or not match["key"].strip():
        raise UsageError(
            f"--where {text!r} is not a filter: write KEY=VALUE, KEY=V1,V2 (any of), "
            "KEY!=VALUE, KEY>VALUE, KEY>=VALUE, KEY<VALUE or KEY<=VALUE"
        )
    key, op, raw = match["key"].strip(), match["op"], match["value"].strip()
    lookup = _LOOKUP_OF[op]
    values = [_parse_value(part, text_column) for part in _split_commas(raw)]
    if len(values) == 1:
        return key, lookup, values[0]
    if lookup is not None:
        raise UsageError(
            f"--where {text!r}: {op} compares with one value; a comma list goes with = "
            f"(any of), or quote the value ({key}{op}'{raw}')"
        )
    return key, None, values


def _split_commas(raw: str) -> list[str]:
    """Split at commas outside quotes: ``a,'b,c'`` -> ``['a', "'b,c'"]``."""
    parts, current, quote = [], "", ""
    for char in raw:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    return [*parts, current.strip()]


_WORDS: dict[str, Any] = {"true": True, "false": False}


def _parse_value(text: str, text_column: bool) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("none", "null"):
        return None
    if text_column:
        return text
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def where_condition(store: Store, text: str) -> sa.ColumnElement[bool]:
    """``--where text`` as the condition ``select`` builds for the same keyword filter.

    The condition is on the column by its key (``E['model.kernel']``), so any key
    works, dotted ones included.
    """
    import sqlalchemy as sa

    from ._query.filters import keyword_conditions

    key = parse_where(text)[0]
    spec = store._column_spec(key)  # an unknown key names the closest columns
    _, lookup, value = parse_where(text, text_column=isinstance(spec.type, sa.String))
    keyword = key if lookup is None else f"{key}__{lookup}"
    assert store.table is not None
    column = store.table.c[spec.name]
    (condition,) = keyword_conditions({keyword: value}, [key], lambda _: column)
    return condition


# -- printing -----------------------------------------------------------------------------


def keys_table(summary: pd.DataFrame) -> pd.DataFrame:
    """``Store.summary()`` as ``naklar keys`` prints it: a row per column, examples as text."""
    table = summary.reset_index().drop(columns="share", errors="ignore")
    table["examples"] = [", ".join(map(str, values)) for values in table["examples"]]
    return table


def _print_table(frame: pd.DataFrame) -> None:
    print(_table_text(frame))


def _table_text(frame: pd.DataFrame) -> str:
    """Every row and column (``to_string`` cuts nothing), text left-aligned, numbers right.

    Missing values are blank. Text is padded before ``to_string``, which would
    print a missing value in a text column as ``None`` whatever it is told.
    """
    import pandas as pd

    if frame.empty:  # no runs selected: the columns alone
        return " ".join(map(str, frame.columns))
    header, columns = [], []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or values.dtype == bool:
            header.append(str(column))
            columns.append(values.to_numpy())
            continue
        texts = ["" if _missing(value) else str(value) for value in values]
        width = max([len(str(column)), *map(len, texts)])
        header.append(str(column).ljust(width))
        columns.append([text.ljust(width) for text in texts])
    shown = pd.DataFrame(dict(enumerate(columns)), index=range(len(frame)))
    text: str = shown.to_string(index=False, header=header, na_rep="")
    return "\n".join(line.rstrip() for line in text.splitlines())


def _json_records(frame: pd.DataFrame) -> str:
    """One JSON object per run; floats keep every digit, missing values are null."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return json.dumps(records, indent=1, ensure_ascii=False, default=_json_value)


def _json_value(value: Any) -> Any:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is not None:
        return isoformat()
    if isinstance(value, bytes):
        return value.hex()
    item = getattr(value, "item", None)  # a numpy scalar
    return item() if item is not None else str(value)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return "" if _missing(value) else str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(map(cell, frame.columns)) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, (list, tuple)) and bool(pd.isna(value)))


# -- messages -----------------------------------------------------------------------------

#: The library's parameter spellings in messages, as this command's options.
_OPTION_SPELLINGS = [
    (re.compile(r"\binclude_hidden=True"), "--include-hidden"),
    (re.compile(r"\bfollow_symlinks=True"), "--follow-symlinks"),
    (re.compile(r"\bon_error='(\w+)'"), r"--on-error \1"),
    (re.compile(r"\bon_unsupported='(\w+)'"), r"--on-unsupported \1"),
    (re.compile(r"\bdict_file="), "--dict-file"),
    (
        re.compile(r"initialise\(root_dir\) after connect\(url\)(, or pass table_name=)?"),
        "naklar sync ROOT --db URL",
    ),
]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    for pattern, spelling in _OPTION_SPELLINGS:
        text = pattern.sub(spelling, text)
    return text


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings print as ``naklar: warning: ...``, without the file and line of Python's form."""

    def show(message: Any, category: Any, *_: Any, **__: Any) -> None:
        print(f"naklar: warning: {_one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
