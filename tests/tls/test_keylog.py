"""Key log parsing: the labels kept, comments, bad lines counted with their numbers."""

from __future__ import annotations

from sipsniff.tls.keylog import CLIENT_RANDOM, CLIENT_TRAFFIC, KeyLog

R1 = "11" * 32
R2 = "22" * 32


def test_labels_by_client_random() -> None:
    log = KeyLog()
    bad = log.add(
        (
            "# a comment\n"
            f"CLIENT_RANDOM {R1} {'ab' * 48}\n"
            f"CLIENT_TRAFFIC_SECRET_0 {R2} {'cd' * 32}\r\n"
            f"EXPORTER_SECRET {R2} {'ef' * 32}\n"
            "\n"
        ).encode()
    )
    assert bad.count == 0
    assert log.get(bytes.fromhex(R1)) == {CLIENT_RANDOM: bytes.fromhex("ab" * 48)}
    assert log.get(bytes.fromhex(R2)) == {CLIENT_TRAFFIC: bytes.fromhex("cd" * 32)}
    assert log.get(b"\x33" * 32) is None


def test_bad_lines_are_counted_with_numbers() -> None:
    log = KeyLog()
    text = (
        f"CLIENT_RANDOM {R1} {'ab' * 48}\n"
        "garbage\n"
        f"CLIENT_RANDOM {R1[:-2]} {'ab' * 48}\n"  # random too short
        f"WHATEVER_SECRET {R1} {'ab' * 48}\n"  # unknown label
        f"CLIENT_RANDOM {R2} abc\n"  # odd hex
    )
    bad = log.add(text.encode(), first_line=10)
    assert bad.count == 4
    assert bad.lines == [11, 12, 13, 14]
    assert bad.describe() == "4 lines (11, 12, 13, 14)"
    assert len(log) == 1
