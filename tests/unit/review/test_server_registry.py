"""The registry of servers `review serve` started (under the user's cache) forgets servers whose data
folders are gone."""

from __future__ import annotations

import json

from toolforge.review import server


def test_registry_is_pruned_of_gone_data_folders(tmp_path, monkeypatch):
    reg = tmp_path / "cache" / "labelstudio-servers.json"
    monkeypatch.setattr(server, "_REGISTRY", reg)
    live = tmp_path / "live"
    creds = server.make_credentials(live)
    reg.parent.mkdir(parents=True)
    reg.write_text(json.dumps({"http://127.0.0.1:1": str(tmp_path / "gone"), "http://127.0.0.1:2": str(live)}))
    assert server.credentials_for_url("http://127.0.0.1:1") is None
    assert server.credentials_for_url("http://127.0.0.1:2/") == creds
    assert json.loads(reg.read_text()) == {"http://127.0.0.1:2": str(live)}   # written back without the gone one
    server._remember("http://127.0.0.1:3", tmp_path / "other")               # remembering prunes too
    assert set(json.loads(reg.read_text())) == {"http://127.0.0.1:2", "http://127.0.0.1:3"}
    reg.write_text("not json")
    assert server.credentials_for_url("http://127.0.0.1:2") is None            # a broken file is not fatal
