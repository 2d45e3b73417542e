"""A small espeak-ng synthesis server (standard library only: run by path, ``python -S -I FILE``).

It loads libespeak-ng and initialises it once (what every ``espeak-ng`` start
repeats), then reads batches from stdin, one JSON line each:
``{"voice": V, "items": [[text, rate or null, pitch or null, path], ...]}``. The
first batch of a voice forks a child that sets the voice the way ``espeak-ng -v
V`` does (the dictionary load: most of a start's cost) and is kept for the run;
that child forks one grandchild per item, which sets rate and pitch (only when given, as ``-s``/``-p``), speaks the text
in the pieces ``espeak-ng`` reads its stdin in, and writes the raw 16-bit samples
to ``path``. Each item so starts from the state a fresh ``espeak-ng`` process has
at that point, and its samples are the CLI's (tests/unit/audio/test_espeak_warm.py);
speaking several items in one process would not give that (measured: the
samples drift). It answers each batch with one JSON line: the exit code per item
(0 ok, 3 unknown voice, 4 synthesis error, negative: killed by that signal).
Being small, it forks cheaply; the worker that uses it never forks itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import sys
from typing import Any

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come to the callback
_RATE, _PITCH = 1, 3  # espeakRATE, espeakPITCH
_FLAGS = 0x1 | 0x100 | 0x1000  # espeakCHARS_UTF8 (-b 1) | espeakPHONEMES | espeakENDPAUSE: the CLI's flags
_STDIN_BUFFER = 1000  # espeak-ng reads stdin with fgets into a buffer of this size


class _VoiceSelect(ctypes.Structure):
    """speak_lib.h's espeak_VOICE."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


def library() -> Any | None:
    """libespeak-ng through ctypes, or None where it (or ``os.fork``) is not available."""
    if not hasattr(os, "fork"):
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
    except OSError:
        return None
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSelect)]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_SetSynthCallback.argtypes = [ctypes.c_void_p]
    return lib


def stdin_pieces(data: bytes, size: int = _STDIN_BUFFER) -> list[bytes]:
    """The pieces ``espeak-ng`` speaks its stdin in: what ``fgets`` returns into a ``size``-byte
    buffer (each line with its ``\\n``, a longer line in ``size - 1``-byte parts), one call each."""
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return [line[i:i + size - 1] for line in lines for i in range(0, len(line), size - 1)]


def set_voice(lib: Any, voice: str) -> bool:
    """What ``espeak-ng -v VOICE`` does: the voice by name, else by language (``en-gb+m3``)."""
    name = voice.encode("utf-8")
    if lib.espeak_SetVoiceByName(name) == 0:
        return True
    select = _VoiceSelect(languages=name)
    return bool(lib.espeak_SetVoiceByProperties(ctypes.byref(select)) == 0)


def _speak(lib: Any, text: str, rate: int | None, pitch: int | None, path: str, timeout_s: int) -> None:
    """In a grandchild (voice already set): rate, pitch, speak; raw samples to ``path``. Never returns."""
    code = 5
    try:
        signal.alarm(max(1, timeout_s))  # a hung synthesis ends this process, not the run
        chunks: list[bytes] = []

        def collect(wav: Any, n: int, _events: Any) -> int:
            if n > 0:
                chunks.append(ctypes.string_at(wav, n * 2))
            return 0

        cb = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(cb)
        if rate is not None:
            lib.espeak_SetParameter(_RATE, rate, 0)
        if pitch is not None:
            lib.espeak_SetParameter(_PITCH, pitch, 0)
        rc = 0
        for piece in stdin_pieces(text.encode("utf-8")):
            buf = piece + b"\0"
            rc = rc or lib.espeak_Synth(buf, len(buf), 0, 1, 0, _FLAGS, None, None)
        lib.espeak_Synchronize()
        with open(path, "wb") as fh:
            fh.write(b"".join(chunks))
        code = 0 if rc == 0 else 4
    finally:
        os._exit(code)


def _voice_server(lib: Any, voice: str, requests: Any, status_fd: int, timeout_s: int) -> None:
    """In a child, kept for the run: load ``voice``, then for each request line (a JSON list of
    items) one grandchild per item and one status byte each. Never returns."""
    try:
        ok = set_voice(lib, voice)
        for line in requests:
            for text, rate, pitch, path in json.loads(line):
                if not ok:
                    os.write(status_fd, bytes([3]))
                    continue
                pid = os.fork()
                if pid == 0:
                    _speak(lib, text, rate, pitch, path, timeout_s)
                _, status = os.waitpid(pid, 0)
                os.write(status_fd, bytes([os.waitstatus_to_exitcode(status) & 0xFF]))
    finally:
        os._exit(0)


class Voices:
    """One voice server per voice, started on first use and kept: each voice is loaded once."""

    def __init__(self, lib: Any, timeout_s: int) -> None:
        self.lib, self.timeout_s = lib, timeout_s
        self.servers: dict[str, tuple[int, Any, int]] = {}  # voice -> (pid, request pipe, status fd)

    def _server(self, voice: str) -> tuple[int, Any, int]:
        if voice not in self.servers:
            req_r, req_w = os.pipe()
            st_r, st_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(req_w)
                os.close(st_r)
                for _, other_req, other_st in self.servers.values():  # the siblings' pipe ends
                    other_req.close()
                    os.close(other_st)
                _voice_server(self.lib, voice, os.fdopen(req_r, "r", encoding="utf-8"), st_w, self.timeout_s)
            os.close(req_r)
            os.close(st_w)
            self.servers[voice] = (pid, os.fdopen(req_w, "w", encoding="utf-8"), st_r)
        return self.servers[voice]

    def run(self, voice: str, items: list[list[Any]]) -> list[int]:
        pid, req, st = self._server(voice)
        req.write(json.dumps(items) + "\n")
        req.flush()
        codes = b""
        while len(codes) < len(items):
            chunk = os.read(st, len(items) - len(codes))
            if not chunk:  # the voice server died: start a new one next time
                self.close(voice)
                break
            codes += chunk
        out = [c if c < 128 else c - 256 for c in codes]
        return out + [-1] * (len(items) - len(out))

    def close(self, voice: str | None = None) -> None:
        for v in [voice] if voice else list(self.servers):
            pid, req, st = self.servers.pop(v)
            req.close()
            os.close(st)
            os.waitpid(pid, 0)


def main() -> int:
    lib = library()
    timeout_s = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    if lib is None or lib.espeak_Initialize(_SYNCHRONOUS, 0, None, 0) <= 0:
        sys.stdout.write("null\n")
        sys.stdout.flush()
        return 1
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    voices = Voices(lib, timeout_s)
    try:
        for line in sys.stdin:
            batch = json.loads(line)
            sys.stdout.write(json.dumps(voices.run(batch["voice"], batch["items"])) + "\n")
            sys.stdout.flush()
    finally:
        voices.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
