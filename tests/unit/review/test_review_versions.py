"""Task versions in the store: which tasks are stale, which record a revision links to."""

from __future__ import annotations

from toolforge.review import versions
from toolforge.store import open_store


def test_parent_links_and_stale_tasks(tmp_db, sample_records):
    a, b = sample_records[0], sample_records[1]
    with open_store(tmp_db) as st:
        st.upsert_records([a], source="test")
        d = a.to_dict()
        d.pop("id")
        d["messages"][-1]["content"] = "revised once"
        from toolforge.record import Record

        r1 = Record.model_validate(d)
        d["messages"][-1]["content"] = "revised twice"
        r2 = Record.model_validate(d)
        st.upsert_records([r1], source="review", parent_id=a.id, revision=1)
        st.upsert_records([r2], source="review", parent_id=r1.id, revision=2)
        live = {a.id: (11, "sha", "v1")}
        links = versions.parent_links(st, live)
        # the nearest ancestor with a task here: a, for both revisions
        assert links[r1.id] == {"record_id": a.id, "task_id": 11, "revision": 1}
        assert links[r2.id] == {"record_id": a.id, "task_id": 11, "revision": 2}
        assert versions.parent_links(st, {})[r2.id] == {"record_id": r1.id, "task_id": None, "revision": 2}

        con = st.con
        con.execute("INSERT INTO review_tasks (url, project_id, record_id, task_id, data_sha) VALUES "
                    "('u', 1, ?, 12, 's'), ('u', 1, ?, 20, 's')", [a.id, b.id])
        # task 11 (a's old task, replaced by 12 after new audio) is stale; task 20 superseded by a revision's
        # task is not stale for its own record b (its annotations still count for b)
        versions._retire_row(con, "u", 1, 11, a.id, "superseded", "audio changed after it was annotated", 12)
        versions._retire_row(con, "u", 1, 20, b.id, "superseded", "revised: ...", 21)
        versions._retire_row(con, "u", 1, 30, "gone-record", "deleted", "deleted on the server", None)
        stale = versions.stale_tasks(st, "u", 1)
        assert set(stale) == {11} and "older version" in stale[11] and "task 12" in stale[11]
        state = versions.load(st, "u", 1)
        assert state.deleted == {"gone-record"} and state.superseded == {11: a.id, 20: b.id}
        assert state.expected_on_server() == 3        # tasks 12, 20 live (20 also superseded), 11 superseded
        versions.forget_deleted(st, "u", 1, {"gone-record"})
        assert versions.load(st, "u", 1).deleted == set()
