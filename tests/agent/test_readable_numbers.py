"""Numbers in an answer as a person reads them (agent/answer/readable_numbers.py)."""

from __future__ import annotations

from agent.answer.readable_numbers import readable_numbers, size


def test_scientific_notation_is_written_out_and_bytes_get_their_binary_size() -> None:
    assert readable_numbers("- **RAM**: 6.8719476736e+10 bytes\n- load: 2.51") == (
        "- **RAM**: 68,719,476,736 bytes (64 GiB)\n- load: 2.51")
    assert readable_numbers("Free: 2.68435456e+11 bytes.") == "Free: 268,435,456,000 bytes (250 GiB)."
    assert readable_numbers("ratio 1.25e-1") == "ratio 0.125"


def test_plain_counts_of_bytes_get_their_size_once() -> None:
    assert readable_numbers("The volume holds 1610612736000 bytes") == (
        "The volume holds 1610612736000 bytes (1.46 TiB)")
    # a size given already, small counts, and code spans stay as they are
    assert readable_numbers("68719476736 bytes (64 GiB)") == "68719476736 bytes (64 GiB)"
    assert readable_numbers("a 512 bytes header") == "a 512 bytes header"
    assert readable_numbers("`node_memory_MemTotal_bytes 6.8719476736e+10`") == (
        "`node_memory_MemTotal_bytes 6.8719476736e+10`")
    assert readable_numbers("```\nfree 2.68435456e+11 bytes\n```") == "```\nfree 2.68435456e+11 bytes\n```"


def test_numbers_too_large_or_too_small_to_read_better_stay_as_written() -> None:
    assert readable_numbers("Avogadro: 6.02e+23, epsilon 2.2e-16") == "Avogadro: 6.02e+23, epsilon 2.2e-16"
    # versions and words that hold an e are no numbers
    assert readable_numbers("release 1.2e3-beta, node-1e5") == "release 1.2e3-beta, node-1e5"


def test_sizes_take_the_largest_binary_unit() -> None:
    assert [size(n) for n in (2**20, 3 * 2**29, 2**40 + 2**39)] == ["1 MiB", "1.5 GiB", "1.5 TiB"]


def test_counts_of_kilobytes_and_megabytes_get_their_size_in_the_largest_unit() -> None:
    assert readable_numbers("MemTotal: 8148324 kB") == "MemTotal: 8148324 kB (7.77 GiB)"
    assert readable_numbers("Swap used: 786432 kB; heap 512 MB") == "Swap used: 786432 kB (768 MiB); heap 512 MB"
    assert readable_numbers("a 900 kB file") == "a 900 kB file"


def test_ids_hashes_paths_rates_and_quotes_stay_as_written() -> None:
    for text in ("commit 12345e6", "https://github.com/o/r/commit/4521e10", "s3://b/backups/2e5/dump",
                 "fe80::3e8", "ticket #5e3", "job id 1e5: done", "1048576 B/s", "2048 MB/s",
                 "-2097152 bytes", 'the mail said "free 1073741824 bytes"', "release 1.2e+3-beta"):
        assert readable_numbers(text) == text, text


def test_scientific_notation_is_written_out_exactly_and_at_a_sentences_end() -> None:
    assert readable_numbers("Total RAM: 6.8719476736e+10.") == "Total RAM: 68,719,476,736."
    assert readable_numbers("share 1.23456789e-4") == "share 0.000123456789"
    assert readable_numbers("count 1.2345678901234567e+17") == "count 123,456,789,012,345,670"
