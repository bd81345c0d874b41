"""The host side of the channel treats everything from the sandbox as untrusted."""

from __future__ import annotations

import asyncio
import re
import struct
import sys
from pathlib import Path

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.plan.package_code import PACKAGE_MODULES
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox import image
from sandbox.protocol import CappedText, ProtocolViolation, encode, read_frame

ROOT = Path(__file__).resolve().parents[2]


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_round_trip_and_end_cleanly() -> None:
    reader = reader_with(encode({"t": "out", "data": "é"}) + encode({"t": "done", "ok": True}))
    assert await read_frame(reader, 1000) == {"t": "out", "data": "é"}
    assert await read_frame(reader, 1000) == {"t": "done", "ok": True}
    assert await read_frame(reader, 1000) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (struct.pack(">I", 10_000) + b"x", "exceeds"),
        (struct.pack(">I", 3) + b"nop", "not JSON"),
        (struct.pack(">I", 2) + b"[]", "typed JSON object"),
        (struct.pack(">I", 50) + b"{}", "inside a frame"),
        (b"\x00\x00", "frame header"),
    ],
)
async def test_malformed_frames_are_violations(data: bytes, problem: str) -> None:
    with pytest.raises(ProtocolViolation, match=problem):
        await read_frame(reader_with(data), 1000)


def test_capped_text_keeps_head_and_tail_with_a_marker() -> None:
    small = CappedText(100)
    small.add(b"hello")
    assert small.text() == "hello"
    capped = CappedText(1000)
    for _ in range(100):
        capped.add(b"a" * 100)
    capped.add(b"THE END")
    text = capped.text()
    assert text.startswith("a" * 700)
    assert text.endswith("THE END")
    assert "[truncated 9007 bytes: output is capped at 1000 bytes]" in text
    assert len(text) <= 1000 + 80


async def test_a_script_forging_frames_is_stopped(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import os, struct\nos.write(4, struct.pack('>I', 2**31) + b'x')\nresult = 1\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxProtocolError"
    assert "exceeds" in (outcome.error or "")


async def test_the_image_has_the_documented_libraries(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    if getattr(sandbox, "mode", "rootfs") == "host":
        pytest.skip("the host-/usr fallback has the standard library only")
    code = (
        "import sys, bs4, yaml, lxml, dateutil.parser\n"
        "soup = bs4.BeautifulSoup('<p>hi</p>', 'lxml')\n"
        "result = [sys.version_info[:2], soup.p.text, yaml.safe_load('a: 1'),\n"
        "          dateutil.parser.parse('2024-01-02').year]\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == [[3, 11], "hi", {"a": 1}, 2024]


def test_package_code_may_import_what_the_image_carries_besides_the_standard_library() -> None:
    extras = PACKAGE_MODULES - frozenset(sys.stdlib_module_names)
    assert extras == {package.removeprefix("python3-") for package in image.IMAGE_PACKAGES} - {"python3"}


def test_image_definition_is_the_same_everywhere() -> None:
    script = (ROOT / "infra/scripts/system-setup.sh").read_text()
    dockerfile = (ROOT / "infra/sandbox/Dockerfile").read_text()
    assert f"SANDBOX_VERSION={image.SANDBOX_VERSION}\n" in script
    match = re.search(r'SANDBOX_PACKAGES="([^"]+)"', script)
    assert match and tuple(match.group(1).split(",")) == image.IMAGE_PACKAGES
    for package in image.IMAGE_PACKAGES:
        assert f" {package}" in dockerfile
    assert f"({image.DEFAULT_IMAGE})" in dockerfile
    assert str(image.DEFAULT_ROOTFS).replace(image.SANDBOX_VERSION, "${SANDBOX_VERSION}") in script
