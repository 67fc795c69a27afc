"""The class hub's roster (deploy/jupyterhub/shopsim_hub.py): checked lines, password hashes, core shares."""

import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub"))
import shopsim_hub  # noqa: E402


def _roster(tmp_path, rows, header=("username", "role", "password_hash", "full_name", "language")):
    path = tmp_path / "roster.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_a_roster_lists_people_by_username(tmp_path):
    path = _roster(tmp_path, [["li_na", "trainee", "", "李娜", "zh_CN"], ["teacher", "instructor", "", "", ""]])
    roster = shopsim_hub.load_roster(path)
    assert list(roster) == ["li_na", "teacher"]
    assert roster["li_na"] == shopsim_hub.Member("li_na", "trainee", "", "李娜", "zh_CN")
    assert roster["teacher"].role == "instructor"


def test_every_bad_line_is_listed_in_one_error(tmp_path):
    path = _roster(tmp_path, [["Li Na", "trainee", "", "", ""], ["wang", "boss", "", "", "fr"],
                              ["wang", "trainee", "", "", ""]])
    with pytest.raises(shopsim_hub.RosterError) as err:
        shopsim_hub.load_roster(path)
    text = str(err.value)
    assert "4 problem(s)" in text
    assert "line 2: username 'Li Na' is not a Linux login name" in text
    assert "line 3: role 'boss'; allowed: trainee, instructor" in text
    assert "line 3: language 'fr'" in text and "line 4: username 'wang' is listed twice" in text


def test_an_empty_or_missing_roster_is_refused(tmp_path):
    with pytest.raises(shopsim_hub.RosterError, match="no one is listed"):
        shopsim_hub.load_roster(_roster(tmp_path, []))
    with pytest.raises(shopsim_hub.RosterError, match="cannot read it"):
        shopsim_hub.load_roster(tmp_path / "nope.csv")


def test_passwords_are_stored_as_salted_hashes_and_checked():
    stored = shopsim_hub.hash_password("秘密 secret", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "secret" not in stored
    assert shopsim_hub.verify_password("秘密 secret", stored)
    assert not shopsim_hub.verify_password("secret", stored)
    assert shopsim_hub.hash_password("x", iterations=1000) != shopsim_hub.hash_password("x", iterations=1000)
    for broken in ("", "plain", "md5$1$a$b", "pbkdf2_sha256$x$y$z"):
        assert not shopsim_hub.verify_password("x", broken)


def test_issuing_passwords_fills_only_the_missing_hashes(tmp_path):
    kept = shopsim_hub.hash_password("old", iterations=1000)
    path = _roster(tmp_path, [["li_na", "trainee", "", "", ""], ["wang", "trainee", kept, "", ""]])
    new = shopsim_hub.issue_passwords(path)
    assert list(new) == ["li_na"]
    roster = shopsim_hub.load_roster(path)
    assert shopsim_hub.verify_password(new["li_na"], roster["li_na"].password_hash)
    assert roster["wang"].password_hash == kept
    assert path.stat().st_mode & 0o077 == 0
    assert shopsim_hub.main(["passwords", str(path), "--out", str(tmp_path / "pw.csv")]) == 0
    assert shopsim_hub.main(["check", str(tmp_path / "nope.csv")]) == 2


def test_cpu_limits_give_each_user_whole_cores_spread_by_uid(monkeypatch):
    monkeypatch.setattr(shopsim_hub.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert shopsim_hub._cores_for(1000, 1) == {0}
    assert shopsim_hub._cores_for(1001, 1) == {1}
    assert shopsim_hub._cores_for(1001, 1.5) == {2, 3}
    assert shopsim_hub._cores_for(1000, None) == set() == shopsim_hub._cores_for(1000, 4)


def test_the_course_environment_offers_jupyterlab_in_chinese():
    from jupyterlab_server.translation_utils import get_language_packs

    packs, problem = get_language_packs("en")
    assert "zh_CN" in packs and not problem
    assert packs["zh_CN"]["displayName"] == "Chinese (Simplified, China)"
