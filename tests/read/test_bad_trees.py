"""Every settings file is accounted for: each one is a row or a skipped entry with its reason."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import naklar
from naklar import experiment
from naklar._read.loaders import load_pickle
from naklar.errors import NaklarWarning, SettingsFileError

from messages import assert_mentions
from trees import BAD_CASES, RUNNING_AS_ROOT, BadCase, Tree, write_tree

# Root reads files whatever their mode: under root the permission case runs in a
# child process as another user instead (test_load_unreadable_file_skipped_...).
CASES = [
    pytest.param(case, id=case.name)
    for case in BAD_CASES
    if not (case.name == "permission_denied" and RUNNING_AS_ROOT)
]
SUFFIX = (
    ". The full list is in the load report (experiment.report.skipped); pass "
    "on_error='raise' to stop at the first one."
)


def skipped_warning(tree: Tree, files_found: int, more: int = 0) -> str:
    shown = "; ".join(f"{path}: {reason}" for path, reason in list(tree.skipped.items())[:3])
    tail = f"; and {more} more" if more else ""
    return f"{len(tree.skipped)} of {files_found} settings files skipped: {shown}{tail}{SUFFIX}"


def naklar_messages(records: Any) -> list[str]:
    return [str(record.message) for record in records if record.category is NaklarWarning]


@pytest.mark.parametrize("case", CASES)
def test_load_bad_file_skipped_with_one_warning(tmp_path: Path, case: BadCase) -> None:
    tree = write_tree(tmp_path / "results", [case], fmt=case.fmt)

    with pytest.warns(NaklarWarning) as records:
        report = experiment.initialise(str(tree.root), dict_file=tree.dict_file)

    assert naklar_messages(records) == [skipped_warning(tree, files_found=3)]
    assert [(entry.path, entry.reason) for entry in report.skipped] == list(tree.skipped.items())
    assert (report.files_found, report.loaded) == (3, 2)
    assert experiment.skipped == report.skipped
    assert experiment.select("naklar_dir", "i", "C") == [("good0", 0, 1.0), ("good1", 1, 1.0)]


@pytest.mark.parametrize("case", CASES)
def test_load_bad_file_raises_naming_file_and_cause(tmp_path: Path, case: BadCase) -> None:
    tree = write_tree(tmp_path / "results", [case], fmt=case.fmt)
    ((path, reason),) = tree.skipped.items()

    with pytest.raises(SettingsFileError) as raised:
        experiment.initialise(str(tree.root), dict_file=tree.dict_file, on_error="raise")

    assert_mentions(str(raised.value), str(path), reason, "on_error='warn'")
    assert (raised.value.path, raised.value.reason) == (path, reason)


def test_load_every_bad_case_summarised_in_one_warning(tmp_path: Path) -> None:
    cases = [case for case in BAD_CASES if case.fmt == "pkl" and case.name != "permission_denied"]
    tree = write_tree(tmp_path / "results", cases, good_runs=3)
    files = 3 + len(cases)

    with pytest.warns(NaklarWarning) as records:
        report = experiment.initialise(str(tree.root))

    assert naklar_messages(records) == [
        skipped_warning(tree, files_found=files, more=len(cases) - 3)
    ]
    assert report.loaded + len(report.skipped) == report.files_found == files
    assert [(entry.path, entry.reason) for entry in report.skipped] == list(tree.skipped.items())


def test_load_on_error_ignore_is_silent_and_reports(tmp_path: Path) -> None:
    cases = [case for case in BAD_CASES if case.fmt == "pkl" and case.name != "permission_denied"]
    tree = write_tree(tmp_path / "results", cases)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = experiment.initialise(str(tree.root), on_error="ignore")

    assert report.loaded == 2
    assert {entry.path: entry.reason for entry in report.skipped} == tree.skipped


def test_load_on_error_unknown_mode_rejected(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "results")

    with pytest.raises(ValueError) as raised:
        experiment.initialise(str(tree.root), on_error="skip")  # type: ignore[arg-type]

    assert_mentions(str(raised.value), "on_error", "'warn', 'raise', 'ignore'", "got 'skip'")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValueError("boom"), "ValueError: boom"),
        (PermissionError(13, "Permission denied"), "permission denied"),
        (FileNotFoundError(2, "No such file"), "file vanished before it could be read"),
        (KeyError("C"), "KeyError: 'C'"),
    ],
    ids=["value_error", "permission", "vanished", "key_error"],
)
def test_load_func_raising_skips_file(tmp_path: Path, error: Exception, reason: str) -> None:
    tree = write_tree(tmp_path / "results", good_runs=3)
    failing = str(tree.root / "good1" / "conf.pkl")

    def load_func(path: str) -> Any:
        if path == failing:
            raise error
        return load_pickle(path)

    with pytest.warns(NaklarWarning) as records:
        report = experiment.initialise(str(tree.root), load_func=load_func)

    assert naklar_messages(records) == [
        f"1 of 3 settings files skipped: {failing}: {reason}{SUFFIX}"
    ]
    assert [(entry.path, entry.reason) for entry in report.skipped] == [(failing, reason)]
    assert experiment.select("i") == [(0,), (2,)]


def test_load_file_vanishing_before_read_skipped(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "results", good_runs=3)
    vanishing = tree.root / "good2"

    def load_and_delete_next(path: str) -> Any:
        shutil.rmtree(vanishing, ignore_errors=True)  # another process cleans up meanwhile
        return load_pickle(path)

    with pytest.warns(NaklarWarning):
        report = experiment.initialise(str(tree.root), load_func=load_and_delete_next)

    assert [(entry.path, entry.reason) for entry in report.skipped] == [
        (str(vanishing / "conf.pkl"), "file vanished before it could be read")
    ]
    assert report.loaded + len(report.skipped) == report.files_found == 3


@pytest.fixture
def directory_vanishing_mid_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tree]:
    """A tree whose ``gone`` run is deleted right after the root is listed."""
    tree = write_tree(tmp_path / "results", extra_runs={"gone": {"i": 9}})
    real_scandir = os.scandir

    class Listed:
        def __init__(self, entries: list[os.DirEntry[str]]) -> None:
            self.entries = entries

        def __enter__(self) -> Iterator[os.DirEntry[str]]:
            return iter(self.entries)

        def __exit__(self, *exc: object) -> None:
            return None

    def scandir_then_delete(path: Any) -> Any:
        with real_scandir(path) as entries:
            listed = list(entries)
        if str(path) == str(tree.root):
            shutil.rmtree(tree.root / "gone")
        return Listed(listed)

    monkeypatch.setattr(os, "scandir", scandir_then_delete)
    yield tree


def test_load_directory_vanishing_mid_walk_reported(directory_vanishing_mid_walk: Tree) -> None:
    tree = directory_vanishing_mid_walk
    gone = str(tree.root / "gone")

    with pytest.warns(NaklarWarning) as records:
        report = experiment.initialise(str(tree.root))

    reason = "directory could not be listed: No such file or directory"
    assert naklar_messages(records) == [
        f"0 of 2 settings files skipped, 1 directories not walked: {gone}: {reason}{SUFFIX}"
    ]
    assert [(entry.path, entry.reason) for entry in report.walk_problems] == [(gone, reason)]
    assert (report.files_found, report.loaded, report.skipped) == (2, 2, [])


def test_load_directory_vanishing_mid_walk_raises(directory_vanishing_mid_walk: Tree) -> None:
    with pytest.raises(SettingsFileError) as raised:
        experiment.initialise(str(directory_vanishing_mid_walk.root), on_error="raise")

    assert raised.value.path == str(directory_vanishing_mid_walk.root / "gone")


def test_load_all_files_bad_raises_nothing_loaded(tmp_path: Path) -> None:
    cases = [case for case in BAD_CASES if case.name in ("empty_pickle", "list_payload")]
    tree = write_tree(tmp_path / "results", cases, good_runs=0)

    with pytest.raises(naklar.NothingLoadedError) as raised:
        experiment.initialise(str(tree.root))

    assert {entry.path: entry.reason for entry in raised.value.report.skipped} == tree.skipped


def test_load_all_files_bad_under_ignore_gives_empty_table(tmp_path: Path) -> None:
    cases = [case for case in BAD_CASES if case.name in ("empty_pickle", "list_payload")]
    tree = write_tree(tmp_path / "results", cases, good_runs=0)

    report = experiment.initialise(str(tree.root), on_error="ignore")

    assert (report.files_found, report.loaded, len(report.skipped)) == (2, 0, 2)
    assert experiment.select() == []
    assert experiment.store().columns == ["naklar_dir"]


def test_store_load_reports_skipped_the_same_way(tmp_path: Path) -> None:
    case = next(case for case in BAD_CASES if case.name == "truncated_pickle")
    tree = write_tree(tmp_path / "results", [case])

    with pytest.warns(NaklarWarning):
        store = naklar.load(str(tree.root))

    assert store.report is not None
    assert {entry.path: entry.reason for entry in store.report.skipped} == tree.skipped


NOBODY = 65534


def _load_in_child_as_nobody(root: Path, dict_file: str) -> dict[str, Any]:
    """Load ``root`` in a forked child that dropped root's rights, and return its report.

    Root reads files whatever their mode, so a permission error only happens to
    another user. The child has naklar imported already, so it needs nothing but
    the tree to be readable to it.
    """
    import json

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = naklar.load(root, dict_file=dict_file).report
            assert report is not None
            skipped = [[entry.path, entry.reason] for entry in report.skipped]
            payload = {"loaded": report.loaded, "skipped": skipped}
        except BaseException as error:  # report anything to the parent
            payload = {"error": repr(error)}
        os.write(write_end, json.dumps(payload).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return dict(json.loads(data))


@pytest.mark.skipif(not RUNNING_AS_ROOT, reason="the parametrised cases cover it without root")
# the child is this test's own fork (Python 3.12+ warns, as pandas runs a thread of Arrow's)
@pytest.mark.filterwarnings("ignore:.*use of fork\\(\\):DeprecationWarning")
def test_load_unreadable_file_skipped_for_a_user_without_read_rights() -> None:
    import tempfile

    (case,) = [case for case in BAD_CASES if case.name == "permission_denied"]
    base = Path(tempfile.mkdtemp(prefix="naklar-perm-"))
    try:
        tree = write_tree(base / "results", [case], fmt=case.fmt)
        for directory, _, files in os.walk(base):
            os.chmod(directory, 0o755)
            for name in files:
                path = Path(directory, name)
                if str(path) not in tree.skipped:
                    path.chmod(0o644)

        report = _load_in_child_as_nobody(tree.root, tree.dict_file)
    finally:
        shutil.rmtree(base)

    assert report == {"loaded": 2, "skipped": [list(item) for item in tree.skipped.items()]}


def bad_json_tree(root: Path) -> Path:
    """Runs 0-99; run 70's file is broken, run 30's settings file a dangling symlink."""
    for number in range(100):
        (root / str(number)).mkdir(parents=True)
        settings = root / str(number) / "conf.json"
        if number == 30:
            settings.symlink_to(root / "missing.json")
        else:
            settings.write_text("{" if number == 70 else f'{{"i": {number}}}')
    return root


@pytest.mark.parametrize("workers", [1, 2])
def test_strict_load_raises_for_the_first_problem_in_report_order(
    tmp_path: Path, workers: int
) -> None:
    root = bad_json_tree(tmp_path / "results")

    with pytest.raises(SettingsFileError) as raised:
        naklar.load(root, dict_file="conf.json", on_error="raise", workers=workers)

    assert raised.value.path == str(root / "30" / "conf.json")
    assert raised.value.reason.startswith("dangling symlink")


@pytest.mark.parametrize("workers", [1, 2])
def test_strict_load_raises_for_a_file_that_cannot_be_parsed(tmp_path: Path, workers: int) -> None:
    root = bad_json_tree(tmp_path / "results")
    (root / "30" / "conf.json").unlink()

    with pytest.raises(SettingsFileError) as raised:
        naklar.load(root, dict_file="conf.json", on_error="raise", workers=workers)

    assert raised.value.path == str(root / "70" / "conf.json")


def test_strict_load_stamps_each_file_once_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naklar._read import chunks as reading

    root = bad_json_tree(tmp_path / "results")
    (root / "30" / "conf.json").unlink()
    (root / "70" / "conf.json").write_text('{"i": 70}')
    stats: list[str] = []
    stamp_file = reading.stamp_file
    monkeypatch.setattr(
        reading, "stamp_file", lambda path, prefix: stats.append(path) or stamp_file(path, prefix)
    )

    store = naklar.load(root, dict_file="conf.json", on_error="raise", workers=1)

    assert store.report is not None and store.report.loaded == 99
    assert stats == []  # json files are stamped with fstat once they are open


def test_strict_store_refresh_raises_for_a_new_dangling_symlink(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for number in range(3):
        (root / str(number)).mkdir(parents=True)
        (root / str(number) / "conf.json").write_text(f'{{"i": {number}}}')
    store = naklar.load(root, url="sqlite://", dict_file="conf.json", on_error="raise")
    (root / "3").mkdir()
    (root / "3" / "conf.json").symlink_to(root / "missing.json")
    (root / "4").mkdir()
    (root / "4" / "conf.json").write_text('{"i": 4}')

    with pytest.raises(SettingsFileError) as raised:
        store.refresh()

    assert raised.value.path == str(root / "3" / "conf.json")
    assert store.select("i", as_frame=True)["i"].tolist() == [0, 1, 2]
