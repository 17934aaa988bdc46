"""Who is acting: computer logins linked to staff, ``--as`` among them, remembered per login, role changes.

The ``spo-tui`` command runs as a real process. A second computer login is simulated by starting
the same CLI through a two-line ``python -c`` that replaces ``spo_tui.config.current_os_user``, with
that login's own state folder (as each login has its own home); nothing in spo-tui itself reads an
override, so no environment variable lets anyone choose who they are. The login running the tests
(root in CI, a person on a laptop) is looked up, never assumed.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CASPO, NOW, PO, SPO, fixed_clock, row, rows, snapshot

from spo_tui.app import SpoApp
from spo_tui.config import current_os_user
from spo_tui.domain.errors import NotAllowed
from spo_tui.services import intake
from spo_tui.services.context import make_context
from spo_tui.store import links
from spo_tui.store.db import open_db
from spo_tui.store.schema import migrations

TODAY = "2026-11-23"
ME = current_os_user()
#: Simulated logins: names no real account running the tests will have.
SAM, CAS, PAT, DEPUTY = "sam-login-t", "cas-login-t", "pat-login-t", "deputy-login-t"

SIMULATED = (
    "import sys\n"
    "from spo_tui import config\n"
    "config.current_os_user = lambda: sys.argv[1]\n"
    "from spo_tui.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def spo_tui(tmp_path: Path, *args: str, login: str | None = None, env_extra: dict | None = None):
    """Run ``spo-tui ARGS`` as the real login (``login=None``) or as a simulated one, each login with
    its own data, config and state folders."""
    home = tmp_path / f"home-{login or 'me'}"
    env = {**os.environ, "SPO_TUI_TODAY": TODAY, "SPO_TUI_RULES": str(tmp_path / "no-rules.toml")}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    env.pop("SPO_TUI_DB", None)
    env.update(env_extra or {})
    command = [sys.executable, "-m", "spo_tui"] if login is None else [sys.executable, "-c", SIMULATED, login]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)


def state_file(tmp_path: Path, login: str | None) -> Path:
    return tmp_path / f"home-{login or 'me'}" / "xdg_state_home" / "spo-tui" / "acting-as.json"


def read(path: Path, sql: str, params=()) -> list[tuple]:
    db = open_db(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def everything(path: Path) -> dict:
    db = open_db(path)
    try:
        return snapshot(db)
    finally:
        db.close()


def staff_csv(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("name,role,team\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A real store set up as a team would: Sam's login imports the staff (and so is linked to the SPO),
    then Sam links Cas's login to Cas Admin (CASPO) and Pat's to Pat Officer (PO)."""
    path = tmp_path / "team.db"
    staff = staff_csv(tmp_path, "staff.csv", [f"{SPO},SPO,A", f"{CASPO},CASPO,A", f"{PO},PO,A"])
    made = spo_tui(tmp_path, "--db", str(path), "import", "staff", str(staff), login=SAM)
    assert made.returncode == 0, made.stderr
    for login, name in ((CAS, CASPO), (PAT, PO)):
        linked = spo_tui(tmp_path, "--db", str(path), "staff", "link", name, "--os-user", login, login=SAM)
        assert linked.returncode == 0, linked.stderr
    return path


def add_task(tmp_path: Path, path: Path, title: str, *as_: str, login: str | None = None):
    return spo_tui(
        tmp_path, "--db", str(path), *as_, "add", "task", "--title", title, "--category", "other", login=login
    )


def who_added(path: Path, title: str) -> tuple[str, str]:
    """(staff name, OS user) of the audit row that added the task called ``title``."""
    return read(
        path,
        """SELECT s.name, a.os_user FROM audit_log a JOIN items i ON i.id = a.entity_id
                         JOIN staff s ON s.id = a.actor_id WHERE a.action = 'add_task' AND i.title = ?""",
        [title],
    )[0]


# --- Who you are ---------------------------------------------------------------------------------


def test_the_login_is_the_real_user_ids_name_not_user_or_logname(monkeypatch):
    monkeypatch.setenv("USER", "sam-spoofed")
    monkeypatch.setenv("LOGNAME", "sam-spoofed")
    assert current_os_user() == pwd.getpwuid(os.getuid()).pw_name != "sam-spoofed"


def test_a_new_store_links_whoever_imports_its_staff_to_its_spo_and_says_so_once(store, tmp_path):
    links = read(
        store, "SELECT l.os_user, s.name, l.linked_by FROM staff_links l JOIN staff s ON s.id = l.staff_id ORDER BY 1"
    )
    sam_id = read(store, "SELECT id FROM staff WHERE name = ?", [SPO])[0][0]
    assert links == [(CAS, CASPO, sam_id), (PAT, PO, sam_id), (SAM, SPO, None)]
    set_up = read(store, "SELECT os_user, actor_id, new FROM audit_log WHERE action = 'link_os_user' ORDER BY id")[0]
    assert set_up[:2] == (SAM, None) and json.loads(set_up[2])["how"] == "set-up"
    # Told once, at the import; later commands say nothing more.
    done = add_task(tmp_path, store, "Order chairs", login=SAM)
    assert done.returncode == 0 and done.stderr == ""
    assert who_added(store, "Order chairs") == (SPO, SAM)


def test_the_import_that_sets_a_store_up_says_who_it_linked(tmp_path):
    path = tmp_path / "new.db"
    staff = staff_csv(tmp_path, "staff.csv", [f"{CASPO},CASPO,A", f"{SPO},SPO,A"])
    made = spo_tui(tmp_path, "--db", str(path), "import", "staff", str(staff), login=CAS)
    assert made.returncode == 0
    assert made.stderr.strip().splitlines() == [
        f"spo-tui: Nobody was linked to this database yet, so you ({CAS}) are now linked to {SPO} (SPO) and act as "
        "them. Link each colleague's computer login to their name with: spo-tui staff link NAME --os-user USER"
    ]  # only ever to the SPO, whoever set it up
    assert read(path, "SELECT os_user, staff_id FROM staff_links") == [
        (CAS, read(path, "SELECT id FROM staff WHERE role = 'SPO'")[0][0])
    ]


# --- Nobody acts as the SPO by typing a name -------------------------------------------------------


def test_acting_as_the_spo_from_an_unlinked_login_is_refused_and_changes_nothing(store, tmp_path):
    before = everything(store)
    refusal = (
        f"spo-tui: you ({ME}) are not linked to any staff member in this database: ask your SPO to run: "
        f'spo-tui staff link "YOUR NAME" --os-user {ME}'
    )
    as_spo = add_task(tmp_path, store, "Forged", "--as", SPO)  # the real login, no simulation at all
    assert (as_spo.returncode, as_spo.stderr.strip()) == (2, refusal)
    assert add_task(tmp_path, store, "Forged").stderr.strip() == refusal
    # $USER and $LOGNAME are not who you are.
    spoofed = spo_tui(tmp_path, "--db", str(store), "--as", SPO, "queue", env_extra={"USER": SAM, "LOGNAME": SAM})
    assert (spoofed.returncode, spoofed.stderr.strip()) == (2, refusal)
    # Nor can the unlinked login link itself, nor start the TUI.
    link = spo_tui(tmp_path, "--db", str(store), "--as", SPO, "staff", "link", SPO, "--os-user", ME)
    assert (link.returncode, link.stderr.strip()) == (2, refusal)
    tui = spo_tui(tmp_path, "--db", str(store), "--as", SPO)
    assert (tui.returncode, tui.stderr.strip()) == (2, refusal)
    assert everything(store) == before
    assert not state_file(tmp_path, None).exists()


def test_as_chooses_only_among_the_staff_linked_to_the_login(store, tmp_path):
    before = everything(store)
    as_spo = add_task(tmp_path, store, "Forged", "--as", SPO, login=CAS)
    assert as_spo.returncode == 2
    assert as_spo.stderr.strip() == (
        f"spo-tui: you ({CAS}) may act as {CASPO} (CASPO), not as {SPO}: an SPO links people "
        "with spo-tui staff link NAME --os-user USER"
    )
    assert everything(store) == before
    # With one link, that person is who you are: --as is not needed.
    assert add_task(tmp_path, store, "Chairs", login=CAS).returncode == 0
    assert who_added(store, "Chairs") == (CASPO, CAS)
    # Given more links, --as chooses among them; with no SPO among them and no choice remembered, it asks.
    assert spo_tui(tmp_path, "--db", str(store), "staff", "link", PO, "--os-user", CAS, login=SAM).returncode == 0
    ask = add_task(tmp_path, store, "Which", login=CAS)
    assert (ask.returncode, ask.stderr.strip()) == (
        2,
        f"spo-tui: you ({CAS}) may act as {CASPO} (CASPO) or {PO} (PO): choose one with --as NAME",
    )
    assert add_task(tmp_path, store, "Desks", "--as", CASPO, login=CAS).returncode == 0
    assert who_added(store, "Desks") == (CASPO, CAS)
    unknown = add_task(tmp_path, store, "X", "--as", "Nobody Here", login=CAS)
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "spo-tui: no staff member called 'Nobody Here'")


def test_the_remembered_actor_is_per_login_and_not_in_the_shared_database(store, tmp_path):
    # Two logins may each act as the SPO or the CASPO (a deputy covering the SPO, say).
    for login, name in ((SAM, CASPO), (DEPUTY, SPO), (DEPUTY, CASPO)):
        assert (
            spo_tui(tmp_path, "--db", str(store), "staff", "link", name, "--os-user", login, login=SAM).returncode == 0
        )
    assert spo_tui(tmp_path, "--db", str(store), "staff", "use", CASPO, login=SAM).returncode == 0
    # The deputy's default is still the SPO: Sam's choice is Sam's alone.
    assert add_task(tmp_path, store, "Deputy's", login=DEPUTY).returncode == 0
    assert who_added(store, "Deputy's") == (SPO, DEPUTY)
    assert add_task(tmp_path, store, "Sam's", login=SAM).returncode == 0
    assert who_added(store, "Sam's") == (CASPO, SAM)
    # The deputy chooses the CASPO; Sam chooses the SPO again; each keeps their own.
    assert spo_tui(tmp_path, "--db", str(store), "staff", "use", CASPO, login=DEPUTY).returncode == 0
    assert spo_tui(tmp_path, "--db", str(store), "staff", "use", SPO, login=SAM).returncode == 0
    assert add_task(tmp_path, store, "Deputy's again", login=DEPUTY).returncode == 0
    assert add_task(tmp_path, store, "Sam's again", login=SAM).returncode == 0
    assert who_added(store, "Deputy's again") == (CASPO, DEPUTY)
    assert who_added(store, "Sam's again") == (SPO, SAM)
    # Nothing about it is in the shared file; each login's state folder holds its own choice.
    assert read(store, "SELECT key FROM meta WHERE key LIKE '%actor%'") == []
    for login, name in ((SAM, SPO), (DEPUTY, CASPO)):
        remembered = json.loads(state_file(tmp_path, login).read_text(encoding="utf-8"))
        assert remembered["databases"] == {os.path.realpath(store): name}
        assert state_file(tmp_path, login).stat().st_mode & 0o777 == 0o600


def test_as_on_a_print_command_is_for_that_command_alone(store, tmp_path):
    """Once, `spo-tui --as "aaron atkinson" queue` silently changed who the next session acted as."""
    assert spo_tui(tmp_path, "--db", str(store), "staff", "link", CASPO, "--os-user", SAM, login=SAM).returncode == 0
    printed = spo_tui(tmp_path, "--db", str(store), "--as", CASPO, "queue", login=SAM)
    assert printed.returncode == 0, printed.stderr
    assert not state_file(tmp_path, SAM).exists()
    assert add_task(tmp_path, store, "After printing", login=SAM).returncode == 0
    assert who_added(store, "After printing") == (SPO, SAM)
    chosen = spo_tui(tmp_path, "--db", str(store), "staff", "use", CASPO, login=SAM)
    assert chosen.returncode == 0 and "now act as Cas Admin (CASPO) on this database" in chosen.stdout
    assert add_task(tmp_path, store, "After choosing", login=SAM).returncode == 0
    assert who_added(store, "After choosing") == (CASPO, SAM)


def test_a_remembered_name_no_longer_linked_is_not_used(store, tmp_path):
    assert spo_tui(tmp_path, "--db", str(store), "staff", "link", PO, "--os-user", CAS, login=SAM).returncode == 0
    assert spo_tui(tmp_path, "--db", str(store), "staff", "use", PO, login=CAS).returncode == 0
    assert spo_tui(tmp_path, "--db", str(store), "staff", "unlink", PO, "--os-user", CAS, login=SAM).returncode == 0
    assert add_task(tmp_path, store, "After", login=CAS).returncode == 0
    assert who_added(store, "After") == (CASPO, CAS)


def test_a_damaged_remembered_file_is_ignored(store, tmp_path):
    state_file(tmp_path, SAM).parent.mkdir(parents=True)
    state_file(tmp_path, SAM).write_text("{not json", encoding="utf-8")
    assert add_task(tmp_path, store, "Fine", login=SAM).returncode == 0
    assert who_added(store, "Fine") == (SPO, SAM)


# --- Stores made before this version ------------------------------------------------------------


def old_store(path: Path) -> None:
    """A store as the version before links left it: staff, and the CASPO remembered in ``meta``."""
    from sqlite_utils import Database

    db = Database(str(path))
    migrations.apply(db, stop_before="0007_identity")
    for staff_id, name, role in (("s1", SPO, "SPO"), ("s2", CASPO, "CASPO")):
        db.execute(
            "INSERT INTO staff(id, name, role, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00Z')",
            [staff_id, name, role],
        )
    db.execute("INSERT INTO meta(key, value) VALUES ('default_actor', ?)", [CASPO])
    db.execute("INSERT INTO audit_log(at, actor_id, action, entity) VALUES ('2026-01-02T00:00:00Z', 's2', 'old', 'x')")
    db.conn.commit()
    db.close()


def test_a_store_from_before_links_links_its_first_opener_to_its_spo_once(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    first = add_task(tmp_path, path, "First")
    assert first.returncode == 0
    assert "you (" + ME + f") are now linked to {SPO} (SPO)" in first.stderr
    assert who_added(path, "First") == (SPO, ME)  # not the CASPO the shared file remembered
    assert read(path, "SELECT os_user, staff_id FROM staff_links") == [(ME, "s1")]
    assert read(path, "SELECT os_user FROM audit_log WHERE action = 'old'") == [(None,)]  # old rows keep no login
    assert read(path, "SELECT key FROM meta WHERE key = 'default_actor'") == []
    second = add_task(tmp_path, path, "Second")
    assert second.returncode == 0 and second.stderr == ""
    assert add_task(tmp_path, path, "X", "--as", CASPO).returncode == 2
    assert add_task(tmp_path, path, "Y", login=DEPUTY).returncode == 2


def test_a_read_only_old_store_opens_as_its_spo_without_linking(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    open_db(path).close()  # brought up to date by someone who can write it, nobody linked yet
    before = everything(path)
    path.chmod(0o444)
    tmp_path.chmod(0o555)  # no WAL files can be made beside it
    try:
        if os.access(path, os.W_OK):
            pytest.skip("root can write any file: read-only cannot be tested as root")
        done = spo_tui(tmp_path, "--db", str(path), "queue", login=DEPUTY)
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o600)
    assert done.returncode == 0, done.stderr
    assert everything(path) == before


# --- Linking is the SPO's, and audited -------------------------------------------------------------


def test_only_an_spo_links_and_unlinks_logins_and_every_change_is_audited(store, tmp_path):
    before = everything(store)
    refused = spo_tui(tmp_path, "--db", str(store), "staff", "link", SPO, "--os-user", CAS, login=CAS)
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == f"spo-tui: only an SPO can link a computer login to a member of staff; {CASPO} is CASPO"
    )
    assert spo_tui(tmp_path, "--db", str(store), "staff", "unlink", PO, "--os-user", PAT, login=CAS).returncode == 2
    bad = spo_tui(tmp_path, "--db", str(store), "staff", "link", PO, "--os-user", "pat\x1b]0;x\x07", login=SAM)
    assert bad.returncode == 2 and "not a computer login name" in bad.stderr
    nobody = spo_tui(tmp_path, "--db", str(store), "staff", "link", "Nobody", "--os-user", "x", login=SAM)
    assert (nobody.returncode, nobody.stderr.strip()) == (2, "spo-tui: no staff member called 'Nobody'")
    assert everything(store) == before

    linked = spo_tui(tmp_path, "--db", str(store), "staff", "link", PO, "--os-user", DEPUTY, login=SAM)
    assert (linked.returncode, linked.stdout.strip()) == (0, f"{DEPUTY} may now act as {PO} (PO)")
    listing = spo_tui(tmp_path, "--db", str(store), "staff", "links", login=CAS)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.strip().splitlines()
    assert lines[0] == f"You are {CAS} on this computer, acting as {CASPO} (CASPO)."
    assert [line.split()[0] for line in lines[1:]] == sorted([CAS, DEPUTY, PAT, SAM])
    assert any(line.startswith(SAM) and "linked at set-up on" in line for line in lines)
    assert f"{SAM:<14}  {SPO} (SPO), linked at set-up on 23/11/2026" in lines
    assert f"{DEPUTY}  {PO} (PO), linked by {SPO} on 23/11/2026" in lines
    unlinked = spo_tui(tmp_path, "--db", str(store), "staff", "unlink", PO, "--os-user", PAT, login=SAM)
    assert unlinked.returncode == 0
    assert add_task(tmp_path, store, "Gone", login=PAT).returncode == 2
    # The last login linked to an SPO cannot be unlinked: nobody could link anyone again.
    last = spo_tui(tmp_path, "--db", str(store), "staff", "unlink", SPO, "--os-user", SAM, login=SAM)
    assert last.returncode == 2 and "the only login linked to an SPO" in last.stderr
    audit = read(
        store,
        """SELECT a.action, s.name, a.os_user, COALESCE(a.new, a.old) FROM audit_log a
                           LEFT JOIN staff s ON s.id = a.actor_id WHERE a.action LIKE '%link_os_user' ORDER BY a.id""",
    )
    assert [(a, s, o, json.loads(j)["os_user"]) for a, s, o, j in audit] == [
        ("link_os_user", None, SAM, SAM),
        ("link_os_user", SPO, SAM, CAS),
        ("link_os_user", SPO, SAM, PAT),
        ("link_os_user", SPO, SAM, DEPUTY),
        ("unlink_os_user", SPO, SAM, PAT),
    ]


# --- Roles change only by an SPO, never your own ----------------------------------------------------


def test_a_caspos_staff_import_promoting_themself_or_demoting_the_spo_is_refused_with_nothing_written(store, tmp_path):
    before = everything(store)
    coup = staff_csv(tmp_path, "coup.csv", [f"{SPO},PO,A", f"{CASPO},SPO,A", f"{PO},PO,A"])
    done = spo_tui(tmp_path, "--db", str(store), "import", "staff", str(coup), login=CAS)
    assert done.returncode == 1
    assert done.stdout.strip().splitlines() == [
        "Import staff from coup.csv: 3 rows, 2 problems in 2 rows. Nothing was written.",
        f"line 2, role: only an SPO can change a role ({SPO} is SPO, the file says PO); {CASPO} is CASPO",
        f"line 3, role: nobody changes their own role ({CASPO} is CASPO, the file says SPO): another SPO must",
    ]
    assert everything(store) == before
    # Nor one at a time, nor by adding a new SPO, nor in a dry run.
    for lines in ([f"{CASPO},SPO,A"], [f"{SPO},CASPO,A"], [f"{PO},PSO,A"], ["New Boss,SPO,A"]):
        one = spo_tui(
            tmp_path, "--db", str(store), "import", "staff", str(staff_csv(tmp_path, "one.csv", lines)), login=CAS
        )
        assert one.returncode == 1 and "Nothing was written" in one.stdout, lines
        dry = spo_tui(
            tmp_path, "--db", str(store), "import", "staff", str(tmp_path / "one.csv"), "--dry-run", login=CAS
        )
        assert dry.returncode == 1 and "role:" in dry.stdout
    assert "only an SPO can add an SPO; Cas Admin is CASPO" in one.stdout
    assert everything(store) == before
    # What a CASPO may do: add practitioners and change teams.
    fine = staff_csv(tmp_path, "fine.csv", [f"{PO},PO,B", "Nia New,PSO,A"])
    assert spo_tui(tmp_path, "--db", str(store), "import", "staff", str(fine), login=CAS).returncode == 0
    assert read(store, "SELECT name, role, team FROM staff WHERE name IN (?, ?) ORDER BY name", [PO, "Nia New"]) == [
        ("Nia New", "PSO", "A"),
        (PO, "PO", "B"),
    ]


def test_an_spo_changes_others_roles_but_never_their_own(store, tmp_path):
    before = everything(store)
    own = spo_tui(
        tmp_path, "--db", str(store), "import", "staff", str(staff_csv(tmp_path, "own.csv", [f"{SPO},PO,A"])), login=SAM
    )
    assert own.returncode == 1
    assert own.stdout.strip().splitlines()[1] == (
        f"line 2, role: nobody changes their own role ({SPO} is SPO, the file says PO): another SPO must"
    )
    assert everything(store) == before
    others = staff_csv(tmp_path, "others.csv", [f"{SPO},SPO,A", f"{PO},PSO,A", "Second Spo,SPO,A"])
    assert spo_tui(tmp_path, "--db", str(store), "import", "staff", str(others), login=SAM).returncode == 0
    assert read(store, "SELECT name, role FROM staff WHERE name IN (?, ?) ORDER BY name", [PO, "Second Spo"]) == [
        (PO, "PSO"),
        ("Second Spo", "SPO"),
    ]
    changed = read(store, "SELECT old, os_user FROM audit_log WHERE action = 'import_staff' ORDER BY id DESC LIMIT 1")[
        0
    ]
    assert json.loads(changed[0]) == {PO: {"role": "PO"}} and changed[1] == SAM


def test_a_caspo_cannot_add_an_spo_by_hand(ctx, db):
    caspo = make_context(db, ctx.rules, CASPO, clock=fixed_clock(NOW))
    before = snapshot(db)
    with pytest.raises(
        NotAllowed, match="only an SPO can change a member of staff's role or add an SPO; Cas Admin is CASPO"
    ):
        intake.add_staff(caspo, "New Boss", "SPO")
    assert snapshot(db) == before
    intake.add_staff(caspo, "New Officer", "PO")
    intake.add_staff(ctx, "Second Spo", "SPO")
    assert {r["name"] for r in rows(db, "SELECT name FROM staff WHERE name IN ('New Officer', 'Second Spo')")} == {
        "New Officer",
        "Second Spo",
    }


# --- The audit log says which login acted ----------------------------------------------------------


def test_audit_rows_carry_the_login_as_well_as_the_staff_member(store, tmp_path):
    assert add_task(tmp_path, store, "By Cas", login=CAS).returncode == 0
    assert spo_tui(tmp_path, "--db", str(store), "queue", login=PAT).returncode == 0
    new_rows = read(
        store,
        """SELECT a.action, s.name, a.os_user FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_id
                              WHERE a.action IN ('add_task', 'print_queue') ORDER BY a.id""",
    )
    assert new_rows == [("add_task", CASPO, CAS), ("print_queue", PO, PAT)]
    assert read(store, "SELECT COUNT(*) FROM audit_log WHERE os_user IS NULL") == [(0,)]


def test_in_process_contexts_record_the_login_running_them(ctx, db):
    intake.add_task(ctx, "Order chairs", "other")
    assert row(db, "SELECT os_user FROM audit_log WHERE action = 'add_task'")["os_user"] == ME


# --- The demo ---------------------------------------------------------------------------------------


def test_the_demo_lets_its_maker_try_every_role_with_as_and_nobody_else(tmp_path):
    path = tmp_path / "demo.db"
    assert spo_tui(tmp_path, "demo", "--db", str(path)).returncode == 0
    people = read(path, "SELECT role, MIN(name) FROM staff GROUP BY role ORDER BY role")
    assert len(people) >= 8
    assert read(path, "SELECT COUNT(*) FROM staff_links WHERE os_user = ?", [ME]) == read(
        path, "SELECT COUNT(*) FROM staff"
    )
    for role, name in people:
        done = spo_tui(tmp_path, "--db", str(path), "--as", name, "queue", "--limit", "1")
        assert done.returncode == 0, (role, done.stderr)
        acted = read(
            path,
            """SELECT s.name, a.os_user FROM audit_log a JOIN staff s ON s.id = a.actor_id
                              WHERE a.action = 'print_queue' ORDER BY a.id DESC LIMIT 1""",
        )
        assert acted == [(name, ME)], role
    spo = read(path, "SELECT name FROM staff WHERE role = 'SPO' ORDER BY name LIMIT 1")[0][0]
    assert spo_tui(tmp_path, "--db", str(path), "--as", spo, "queue", login=DEPUTY).returncode == 2


def test_a_real_store_links_only_its_spo_at_set_up(tmp_path):
    path = tmp_path / "real.db"
    staff = staff_csv(tmp_path, "staff.csv", [f"{SPO},SPO,A", f"{CASPO},CASPO,A", f"{PO},PO,A"])
    assert spo_tui(tmp_path, "--db", str(path), "import", "staff", str(staff)).returncode == 0
    assert read(path, "SELECT s.name FROM staff_links l JOIN staff s ON s.id = l.staff_id") == [(SPO,)]
    assert add_task(tmp_path, path, "No", "--as", CASPO).returncode == 2


# --- The app decides the same way ----------------------------------------------------------------


async def test_the_app_refuses_a_login_nobody_linked_and_shows_nothing(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    db = open_db(path)
    with db.atomic():
        links.insert_links(db, SAM, ["s1"], None, "2026-01-01T00:00:00Z")  # Sam's login only
    db.close()
    before = everything(path)
    app = SpoApp(path, actor=SPO, clock=fixed_clock(NOW))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.ctx is None
        assert type(app.screen).__name__ not in ("TodayScreen", "AdminScreen")
    assert everything(path) == before


async def test_the_app_links_the_first_opener_of_an_old_store_to_its_spo_and_says_so(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    app = SpoApp(path, clock=fixed_clock(NOW))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        assert app.sub_title.startswith(f"{SPO} (SPO)")
        assert any(f"you ({ME}) are now linked to {SPO} (SPO)" in n.message for n in app._notifications)
    assert read(path, "SELECT os_user, staff_id FROM staff_links") == [(ME, "s1")]
