"""Checking a message by its key parts (what, where, the fix), so rewording it breaks no test.

Each error class keeps one exact-text test (``tests/package/test_messages.py``).
"""

from __future__ import annotations


def assert_mentions(message: str, *parts: str) -> None:
    """Every part occurs in the message; the failure names the parts that do not."""
    absent = [part for part in parts if part not in message]
    assert not absent, f"{message!r} does not mention {absent!r}"
