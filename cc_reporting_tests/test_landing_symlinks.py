"""A local landing zone never follows a symlink: a link to a secret outside the zone (or a symlinked folder) among
good objects is refused and reported, and the secret's bytes reach neither quarantine/ nor the warehouse."""
from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from cc_reporting.resources.landing import LandingKeyRefused, RefusedKey
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat, fixture_json, query

SECRET = (b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-cc-landing-symlink-secret\n"
          b"-----END OPENSSH PRIVATE KEY-----\n")
MARKER = b"cc-landing-symlink-secret"


@pytest.fixture
def zone_with_links(tmp_path, landing):
    """Three good CTR objects; a link to an SSH key outside; a symlinked hour folder holding a valid CTR object
    (staged only if the folder were followed) and the key; a link to a good object inside the zone."""
    outside = tmp_path / "home" / ".ssh"
    outside.mkdir(parents=True)
    (outside / "id_ed25519").write_bytes(SECRET)
    (outside / "hour").mkdir()
    (outside / "hour" / "cc-firehose-1-2026-01-05-10-x").write_bytes(
        concat(dict(fixture_json("abandoned_ctr.json"), ContactId="c-through-linked-folder")))
    os.symlink(outside / "id_ed25519", outside / "hour" / "cc-firehose-1-2026-01-05-10-key")
    good = []
    for i in range(3):
        key = f"ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-{i}"
        landing.write(key, concat(dict(fixture_json("abandoned_ctr.json"), ContactId=f"c-good-{i}")))
        good.append(f"c-good-{i}")
    root = Path(landing.uri)
    os.symlink(outside / "id_ed25519", root / "ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-key")
    os.symlink(outside / "hour", root / "ctr/2026/01/05/10")
    os.symlink(root / "ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-0", root / "ctr/2026/01/05/09/inside-link")
    return landing, good


def _regular_files(folder: Path):
    for here, _dirs, names in os.walk(folder):                   # os.walk does not follow symlinked folders
        for name in names:
            path = Path(here) / name
            if path.is_file() and not path.is_symlink():
                yield path


def test_listing_skips_symlinks_and_reports_them_as_refused(zone_with_links):
    landing, _ = zone_with_links
    assert [o.key for o in landing.list("ctr/")] == [f"ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-{i}"
                                                     for i in range(3)]
    assert landing.list_refused("ctr/") == [
        RefusedKey("ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-key", "is a symlink"),
        RefusedKey("ctr/2026/01/05/09/inside-link", "is a symlink"),
        RefusedKey("ctr/2026/01/05/10", "is a symlinked folder"),
    ]


@pytest.mark.parametrize("key", ["ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-key",
                                 "ctr/2026/01/05/10/cc-firehose-1-2026-01-05-10-x",
                                 "../home/.ssh/id_ed25519"])
def test_reading_a_symlinked_or_outside_key_is_refused_in_one_line(zone_with_links, key):
    landing, _ = zone_with_links
    with pytest.raises(LandingKeyRefused) as refused:
        landing.read(key)
    message = str(refused.value)
    assert "\n" not in message and key in message and MARKER.decode() not in message


def test_writing_through_a_symlinked_folder_is_refused(zone_with_links, tmp_path):
    landing, _ = zone_with_links
    with pytest.raises(LandingKeyRefused):
        landing.write("ctr/2026/01/05/10/planted", b"x")
    assert not (tmp_path / "home" / ".ssh" / "hour" / "planted").exists()


def test_staging_stages_the_good_objects_and_the_secret_lands_nowhere(zone_with_links, warehouse, tmp_path):
    landing, good = zone_with_links
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse}, instance=instance)
    assert result.success
    assert [r[0] for r in query(warehouse, "SELECT contact_id FROM stg_ctr ORDER BY 1")] == good

    # the secret's bytes: not copied anywhere in the zone (quarantine/ included), the warehouse or the run's events
    for path in _regular_files(Path(landing.uri)):
        assert MARKER not in path.read_bytes(), path
    assert not (Path(landing.uri) / "quarantine").exists()
    for path in _regular_files(Path(warehouse.database).parent):   # the database file and its WAL
        assert MARKER not in path.read_bytes(), path
    with warehouse.connect() as con:
        for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                         "WHERE data_type = 'VARCHAR'").fetchall():
            hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains("{column}", ?)',
                               [MARKER.decode()]).fetchone()[0]
            assert hits == 0, (table, column)
    events = json.dumps([str(entry) for entry in instance.all_logs(result.run_id)])
    assert MARKER.decode() not in events
    for folder in ("exports", "outbox", "rta"):
        for path in _regular_files(tmp_path / folder):
            assert MARKER not in path.read_bytes(), path

    # the refusal is visible in the run's log: the key and why
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("cc-firehose-1-2026-01-05-09-key is a symlink" in m for m in messages)
    assert any("ctr/2026/01/05/10 is a symlinked folder" in m for m in messages)


def test_staging_metadata_lists_the_refused_entries(zone_with_links, warehouse):
    landing, _ = zone_with_links
    result = dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse})
    metadata = result.asset_materializations_for_node("stg_ctr")[0].metadata
    assert metadata["objects_refused"].value == len(landing.list_refused("ctr/")) >= 2
    assert "cc-firehose-1-2026-01-05-09-key" in metadata["refused"].value
