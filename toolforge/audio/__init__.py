"""Paired audio (issue 6): TTS engines, seeded voice plans, QC, ASR check, LFM2-Audio export.

Entry points (import the submodules; nothing heavy is imported here):

- :func:`toolforge.audio.run.run_tts` with a :class:`toolforge.audio.run.TTSConfig`: what
  ``toolforge tts`` calls.
- :mod:`toolforge.audio.engines`: the engine Protocol and registry (``get_engine``, ``available``).
- :mod:`toolforge.audio.store`: ``audio_root(store)``, ``audio_rows(store, record_ids)``,
  ``voice_distribution(store)`` over the ``audio`` table (migration ``m0400_audio``).
- :func:`toolforge.audio.lfm2.write_lfm2_audio`: the ``lfm2-audio`` export writer;
  ``render_response``/``parse_response`` for the ``tag``, ``lfm2`` and ``action`` markups.
- :mod:`toolforge.audio.qc` and :mod:`toolforge.audio.asr`: QC rules and the Whisper round trip.
"""
