"""Reading files that joblib may have compressed: the compressor is told by the file's first bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import BinaryIO

from mshot.errors import InvalidInput


def decompressed(handle: BinaryIO, what: str, legacy_protocols: bool = False) -> BinaryIO:
    """The file's pickle stream, decompressed when joblib compressed it (joblib's magic prefixes). Uncompressed,
    it must start as protocol 2 or later does, unless `legacy_protocols` (protocols 0 and 1 have no header)."""
    head = handle.peek(8)[:8] if hasattr(handle, "peek") else b""
    if head.startswith(b"\x78"):
        return io.BufferedReader(_ZlibReader(handle))
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if head.startswith(b"BZ"):
        return bz2.BZ2File(handle, mode="rb")
    if head.startswith(b"\xfd7zXZ") or head.startswith(b"\x5d\x00"):
        return lzma.LZMAFile(handle, mode="rb")
    if head.startswith(b"\x04\x22\x4d\x18"):
        raise InvalidInput(f"{what} is lz4-compressed, which is not supported; re-save it with joblib compress=3")
    if not head.startswith(b"\x80") and not legacy_protocols:
        raise InvalidInput(f"{what} is not a pickle (protocol 2 or later, as joblib writes) or joblib-compressed")
    return handle


class _ZlibReader(io.RawIOBase):
    """A streaming zlib decompressor (joblib's compress=N with its default zlib); truncation reads as EOF."""

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.inflate = zlib.decompressobj()
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            if self.inflate.unconsumed_tail:
                self.pending = self.inflate.decompress(self.inflate.unconsumed_tail, 1 << 20)
            elif self.inflate.eof:
                return 0
            else:
                chunk = self.handle.read(1 << 16)
                self.pending = self.inflate.decompress(chunk, 1 << 20) if chunk else self.inflate.flush()
                if not chunk and not self.pending:
                    return 0
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count
