"""Ordered, named migrations, applied when a store is opened.

Each module here is named ``mNNNN_<name>.py`` and defines ``SQL`` (a string of
statements) or ``def up(con)``. They are applied in order of their number, each
in its own transaction, and recorded in ``_migrations``. Areas own number
ranges so that they never collide:

    0001-0099 core (records, runs, validation, dedup marks, review verdicts)
    0100 generate   0200 validate   0300 dedup/stats   0400 audio
    0500 review     0600 export/push   0700 eval/import   0800 pipeline runs

Never edit a migration that has landed; add a new one.
"""
