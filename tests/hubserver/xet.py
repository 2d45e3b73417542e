"""The Xet CAS side of the Hub-API test double: what ``hf_xet`` calls to upload.

Upload protocol (https://huggingface.co/docs/xet): the client asks the Hub for a
write token (``/api/datasets/R/xet-write-token/REV``, answered in server.py),
then talks to the CAS URL it names:

- ``GET  /v1/chunks/default/H``: global dedup query. Answered 404 (nothing to
  dedup against), which the protocol allows.
- ``POST /v1/xorb-grants/default/H``: asks for a presigned upload URL. Answered
  404: this server offers no grants, and the client falls back to
- ``POST /v1/xorbs/default/H``: the serialized xorb (chunk headers + LZ4 /
  byte-grouped LZ4 / raw chunk data). Stored as is.
- ``POST /v2/shards``: answered 404 (not offered), the client falls back to
- ``POST /v1/shards``: the shard (file reconstructions + xorb chunk tables).
  Each file in it is reassembled from the stored xorbs right away and kept
  as a sha256-addressed blob, so the Hub commit (an ``lfsFile`` by sha256) and
  later plain HTTP downloads work exactly as with LFS uploads.
- ``POST /v1/telemetry``: accepted and ignored.

Hashes in paths and shards are 32 bytes written as four little-endian u64.
"""

from __future__ import annotations

import json
import secrets
import struct
import threading
from pathlib import Path
from typing import Any

LZ4_FRAME_MAGIC = 0x184D2204
SHARD_MAGIC = b"HFRepoMetaData\x00" + bytes([85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169])
BOOKEND = b"\xff" * 32
FLAG_VERIFICATION = 0x80000000
FLAG_METADATA_EXT = 0x40000000


def hash_hex(raw: bytes) -> str:
    return "".join(f"{int.from_bytes(raw[i:i + 8], 'little'):016x}" for i in range(0, 32, 8))


# ---- LZ4 (block and frame) and byte grouping, pure Python ------------------------------------
def lz4_block(src: bytes, out: bytearray) -> None:
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        out += src[i:i + lit]
        i += lit
        if i >= n:
            break
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = token & 15
        if ml == 15:
            while True:
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        start = len(out) - off
        if off <= 0 or start < 0:
            raise ValueError("corrupt LZ4 block")
        if off >= ml:
            out += out[start:start + ml]
        else:
            for k in range(ml):
                out.append(out[start + k])


def lz4_decompress(src: bytes) -> bytes:
    out = bytearray()
    if len(src) >= 4 and struct.unpack_from("<I", src)[0] == LZ4_FRAME_MAGIC:
        flg = src[4]
        i = 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1
        while True:
            (size,) = struct.unpack_from("<I", src, i)
            i += 4
            if size == 0:
                break
            raw, size = bool(size & 0x80000000), size & 0x7FFFFFFF
            block = src[i:i + size]
            i += size + (4 if flg & 0x10 else 0)
            if raw:
                out += block
            else:
                lz4_block(block, out)
        return bytes(out)
    lz4_block(src, out)
    return bytes(out)


def ungroup4(data: bytes) -> bytes:
    n = len(data)
    out = bytearray(n)
    pos = 0
    for g in range(4):
        size = n // 4 + (1 if g < n % 4 else 0)
        out[g::4] = data[pos:pos + size]
        pos += size
    return bytes(out)


def xorb_chunks(blob: bytes, count: int) -> list[bytes]:
    """The first ``count`` chunks of a serialized xorb, decompressed."""
    chunks, i = [], 0
    for _ in range(count):
        header = blob[i:i + 8]
        if len(header) < 8:
            raise ValueError("xorb is shorter than its chunk table says")
        comp_len = int.from_bytes(header[1:4], "little")
        scheme = header[4]
        raw_len = int.from_bytes(header[5:8], "little")
        body = blob[i + 8:i + 8 + comp_len]
        i += 8 + comp_len
        if scheme == 0:
            data = body
        elif scheme == 1:
            data = lz4_decompress(body)
        elif scheme == 2:
            data = ungroup4(lz4_decompress(body))
        else:
            raise ValueError(f"unknown xorb chunk compression scheme {scheme}")
        if len(data) != raw_len:
            raise ValueError("xorb chunk length mismatch")
        chunks.append(data)
    return chunks


def parse_shard(shard: bytes) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``(files, xorb_chunk_counts)``: each file is ``{hash, terms: [(xorb, start, end, length)]}``."""
    if not shard.startswith(SHARD_MAGIC):
        raise ValueError("not a xet shard (bad magic)")
    # Uploaded shards may omit the footer (footer_size 0): the sections are read in order,
    # file info from byte 48 up to its bookend, then the xorb (CAS) info up to its bookend.
    files, i = [], 48
    while True:
        h = shard[i:i + 32]
        if h == BOOKEND or len(h) < 32:
            break
        flags, n = struct.unpack_from("<II", shard, i + 32)
        i += 48
        terms = []
        for _ in range(n):
            xh = hash_hex(shard[i:i + 32])
            _xflags, length, start, end = struct.unpack_from("<IIII", shard, i + 32)
            terms.append((xh, start, end, length))
            i += 48
        if flags & FLAG_VERIFICATION:
            i += 48 * n
        if flags & FLAG_METADATA_EXT:
            i += 48
        files.append({"hash": hash_hex(h), "terms": terms})
    counts, i = {}, i + 48
    while True:
        h = shard[i:i + 32]
        if h == BOOKEND or len(h) < 32:
            break
        _flags, n_chunks = struct.unpack_from("<II", shard, i + 32)
        counts[hash_hex(h)] = n_chunks
        i += 48 + 48 * n_chunks
    return files, counts


class XetStore:
    """Xorbs by hash on disk; reconstructed files go to the server's sha256 blob store."""

    def __init__(self, root: Path, state: Any) -> None:
        self.root = root
        self.xorbs = root / "xorbs"
        self.xorbs.mkdir(parents=True, exist_ok=True)
        self.state = state
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self.chunk_counts: dict[str, int] = {}
        self.files: dict[str, str] = {}  # xet file hash -> sha256

    def issue_token(self, kind: str) -> str:
        tok = f"xet-{kind}-{secrets.token_hex(8)}"
        with self.lock:
            self.tokens.add(tok)
        return tok

    def _auth(self, h: Any) -> None:
        from tests.hubserver.server import HttpError

        auth = h.headers.get("Authorization", "")
        tok = auth.removeprefix("Bearer ").strip()
        with self.lock:
            ok = tok in self.tokens and tok.startswith("xet-write-")
        if not ok:
            raise HttpError(401, "invalid xet access token")

    def materialize(self, sha256: str) -> bool:
        return self.state.has_blob(sha256)

    # routes ----------------------------------------------------------------------------------
    def get_chunk_dedup(self, h: Any, query: Any, prefix: str, hash: str) -> None:
        from tests.hubserver.server import HttpError

        raise HttpError(404, "no global dedup information on this server")

    def xorb_grant(self, h: Any, query: Any, prefix: str, hash: str) -> None:
        from tests.hubserver.server import HttpError

        self._auth(h)
        h.body()
        raise HttpError(404, "upload grants are not offered by this server; use POST /v1/xorbs")

    def put_xorb(self, h: Any, query: Any, prefix: str, hash: str) -> None:
        from tests.hubserver.server import hold_point

        self._auth(h)
        data = h.body()
        hold_point(h)
        path = self.xorbs / hash
        inserted = not path.exists()
        if inserted:
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(data)
            tmp.replace(path)
        h.send(200, {"was_inserted": inserted})

    def shard_v2(self, h: Any, query: Any) -> None:
        from tests.hubserver.server import HttpError

        h.body()
        raise HttpError(404, "v2 shard upload is not offered by this server")

    def put_shard(self, h: Any, query: Any) -> None:
        from tests.hubserver.server import HttpError

        self._auth(h)
        shard = h.body()
        (self.root / "last-shard").write_bytes(shard)  # kept for debugging a failed parse
        try:
            files, counts = parse_shard(shard)
            with self.lock:
                self.chunk_counts.update(counts)
            for f in files:
                data = bytearray()
                for xorb, start, end, length in f["terms"]:
                    path = self.xorbs / xorb
                    if not path.exists():
                        raise HttpError(400, f"shard references xorb {xorb} that was never uploaded")
                    with self.lock:
                        n = self.chunk_counts.get(xorb, end)
                    piece = b"".join(xorb_chunks(path.read_bytes(), max(n, end))[start:end])
                    if len(piece) != length:
                        raise HttpError(400, f"term of file {f['hash']} has {len(piece)} bytes, expected {length}")
                    data += piece
                sha = self.state.put_blob(bytes(data))
                with self.lock:
                    self.files[f["hash"]] = sha
        except (ValueError, struct.error, IndexError) as exc:
            raise HttpError(400, f"invalid shard: {exc}") from None
        h.send(200, {"result": 1})

    def telemetry(self, h: Any, query: Any) -> None:
        h.body()
        h.send(200, json.loads("{}"))
