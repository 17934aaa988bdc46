"""The detail pane: the item in full, its case, the last oversight entries and why it ranks here."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Group, RenderableType
from rich.style import StyleType
from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from spo_tui.domain.dates import local_time, relative_due, uk_moment
from spo_tui.domain.exchanges import exchanges
from spo_tui.domain.text import visible
from spo_tui.domain.urgency import Urgency
from spo_tui.domain.vocab import (
    CountersignKind,
    CountersignState,
    ItemKind,
    OversightOutcome,
    OversightType,
    RoSH,
    TouchPointReason,
    sentence_span,
)
from spo_tui.widgets.theme import theme_style

SBAR_PARTS = (
    ("situation", "Situation"),
    ("background", "Background"),
    ("assessment", "Assessment"),
    ("recommendation", "Recommendation"),
)


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _v(value: Any) -> str:
    """Stored text for one line of the pane: control characters and line breaks as escapes."""
    return visible("" if value is None else value, lines=False)


def item_section(item: dict[str, Any], today: date) -> list:
    """The item in full. Stored text is shown through ``visible`` (Text never reads markup)."""
    d = item["detail"]
    kind = ItemKind(item["kind"])
    parts: list = [Text.assemble((kind.label + ": ", "bold"), _v(item["title"]))]
    if item.get("due"):
        parts.append(
            Text(
                f"Due {date.fromisoformat(item['due']):%a %d/%m/%Y} ({relative_due(date.fromisoformat(item['due']), today)})"
            )
        )
    if item.get("catch_up") and item.get("due"):
        made = local_time(item["created_at"]).date()
        late = (made - date.fromisoformat(item["due"])).days
        parts.append(
            Text(
                f"On the catch-up list: already {late} days overdue when it reached the queue on {made:%d/%m/%Y}",
                style="italic",
            )
        )
    if item.get("status") == "waiting":
        since = f" since {local_time(item['waiting_since']):%a %d/%m/%Y %H:%M}" if item.get("waiting_since") else ""
        parts.append(Text(f"Waiting on {_v(item.get('waiting_on') or 'someone else')}{since}", style="bold"))
        if item.get("waiting_until"):
            parts.append(
                Text(
                    f"Comes back to the queue on {date.fromisoformat(item['waiting_until']):%a %d/%m/%Y} if not resubmitted"
                )
            )
    elif item.get("snoozed_until") and item["snoozed_until"] > today.isoformat():
        parts.append(
            Text(
                f"Snoozed until {date.fromisoformat(item['snoozed_until']):%a %d/%m/%Y} (z brings it back now)",
                style="bold",
            )
        )
    if item.get("raised_by_name"):
        parts.append(Text(f"Raised by {_v(item['raised_by_name'])} on {local_time(item['created_at']):%d/%m/%Y %H:%M}"))
    if kind == ItemKind.SBAR:
        parts.append(Text(f"Practitioner's urgency: {_v(d['urgency'])}"))
        for key, label in SBAR_PARTS:
            parts.append(Text.assemble((f"{label}: ", "bold"), visible(d[key] or "")))
        for label, text in exchanges("sbar", d):
            parts.append(Text.assemble((f"{label}: ", "bold"), visible(text)))
        if d.get("booked_for"):
            parts.append(Text(f"Booked into the protected hour {uk_moment(d['booked_for'])}"))
    elif kind == ItemKind.COUNTERSIGN:
        kind_label = CountersignKind(d["kind"]).label if d["kind"] in CountersignKind.__members__ else _v(d["kind"])
        state = CountersignState(d["state"]).label if d["state"] in CountersignState.__members__ else _v(d["state"])
        parts.append(Text(f"{kind_label} by {_v(d.get('author_name', ''))}: {state}"))
        if d.get("court_date"):
            court = date.fromisoformat(d["court_date"])
            at = f" at {_v(d['court_time'])}" if d.get("court_time") else ""
            oral = " · oral report" if d.get("oral") else ""
            parts.append(Text(f"Court {court:%a %d/%m/%Y}{at} ({relative_due(court, today)}){oral}", style="bold"))
        if d.get("gatekeeper_name"):
            parts.append(Text(f"Peer gatekeeping by {_v(d['gatekeeper_name'])} (medium RoSH) [000 §3.2]"))
        if d.get("sampled"):
            parts.append(Text("The sample: the author is an approved PO, so most of their OASys skip the queue"))
        if d.get("returned_for") and d.get("state") in (
            "AWAITING_COUNTERSIGN",
            "AWAITING_GATEKEEP",
            "REJECTED",
            "RETURNED_TO_AUTHOR",
        ):
            parts.append(Text.assemble(("Returned for: ", "bold"), visible(d["returned_for"])))
    elif kind == ItemKind.ALERT:
        parts.append(Text(visible(d["details"] or "")))
    elif kind == ItemKind.TASK:
        parts.append(Text(f"Category: {_v(d['category'].replace('_', ' '))}"))
        if d.get("helpdesk_ref"):
            parts.append(Text(f"Helpdesk reference: {_v(d['helpdesk_ref'])}", style="bold"))
        if d.get("delegated_to_name"):
            role = f" ({_v(d['delegated_role'])})" if d.get("delegated_role") else ""
            when = f" on {local_time(d['delegated_at']):%a %d/%m/%Y}" if d.get("delegated_at") else ""
            parts.append(Text(f"Delegated to {_v(d['delegated_to_name'])}{role}{when}"))
        if d.get("chased_at") and item.get("status") == "open":
            parts.append(
                Text(
                    f"Back from {_v(d.get('delegated_to_name') or 'the delegate')} on"
                    f" {local_time(d['chased_at']):%a %d/%m/%Y}: past its target, chase it or delegate it again",
                    style="bold",
                )
            )
        for line in d.get("facilities_lines") or ():
            parts.append(Text(_v(line)))
        if d.get("details"):
            parts.append(Text(visible(d["details"])))
    elif kind == ItemKind.ACTION:
        parts.append(Text(f"Owner: {_v(d.get('owner_name', ''))}"))
        parts.append(Text(visible(d["description"] or "")))
    elif kind == ItemKind.TOUCH_POINT:
        reason = (
            TouchPointReason(d["reason"]).label
            if d["reason"] in {r.value for r in TouchPointReason}
            else _v(d["reason"])
        )
        parts.append(Text(f"Reason: {reason}"))
    elif kind == ItemKind.SUPERVISION:
        parts.append(Text(f"{_v(d['kind'].replace('_', ' '))} with {_v(d.get('practitioner_name', ''))}"))
    elif kind == ItemKind.CONFIRM and d.get("entry"):
        e = d["entry"]
        parts.append(
            Text(
                f"Entered by {_v(e['entered_by_name'])} in the name of {_v(e['decided_by_name'])}"
                f" on {local_time(e['created_at']):%d/%m/%Y %H:%M}: v confirms it, d corrects it",
                style="bold",
            )
        )
        parts.append(Text(f"Outcome: {_label(OversightOutcome, e['outcome'])}"))
        parts.append(Text.assemble(("Discussed: ", "bold"), visible(e["discussed"] or "")))
        parts.append(Text.assemble(("Decision: ", "bold"), visible(e["decision"] or "")))
    return parts


def _label(enum_cls, value: str) -> str:
    try:
        return enum_cls(value).label
    except ValueError:
        return _v(value)


def case_section(case: dict[str, Any], today: date, overdue: StyleType = "bold") -> list:
    mappa = (
        f"MAPPA cat {case['mappa_category']} level {case['mappa_level'] or '-'}"
        if case["mappa_category"]
        else "not MAPPA"
    )
    parts: list = [
        _heading(f"Case {_v(case['crn'])} {_v(case['name'])}"),
        Text(
            f"PP {_v(case.get('practitioner') or 'unallocated')} · RoSH {RoSH(case['rosh']).label} · {mappa} · tier {_v(case['tier'] or '-')}"
        ),
        Text(_v(sentence_span(case["sentence_type"], case["sentence_start"], case["sentence_end"]))),
    ]
    for flag in case["flags"]:
        review = flag["review_date"]
        style = overdue if review and review < today.isoformat() else ""
        when = f"review {date.fromisoformat(review):%d/%m/%Y}" if review else "no review date"
        parts.append(Text(f"  {_v(flag['code'])}: {when}", style=style))
    return parts


def oversight_section(entries: list[dict[str, Any]]) -> list:
    parts: list = [_heading("Last oversight")]
    if not entries:
        parts.append(Text("No oversight entry on this case yet.", style="italic"))
    for e in entries:
        mark = " (superseded)" if e.get("superseded_by") else ""
        parts.append(
            Text.assemble(
                (f"{local_time(e['created_at']):%d/%m/%Y} ", "bold"),
                f"{OversightType(e['type']).label}: {OversightOutcome(e['outcome']).label}{mark} — {_v(e['decided_by_name'])}",
            )
        )
        parts.append(Text("  " + _v((e["decision"].splitlines() or [""])[0][:200]), style="dim"))
    return parts


def urgency_section(urgency: Urgency) -> list:
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right")
    table.add_column()
    for reason, points in urgency.reasons:
        table.add_row(Text(f"{points:+d}"), Text(_v(reason)))
    table.add_row(Text(f"{urgency.score}", style="bold"), Text("urgency", style="bold"))
    return [_heading("Why it ranks here"), table]


class ItemDetail(ScrollView):
    """Shows what the screen hands it; never reads the store itself.

    It renders its text to lines itself and keeps its scrollable size at least the pane's own
    height, so showing another item repaints this pane alone: a widget whose height follows its
    content makes the whole screen lay out again on every cursor move.
    """

    DEFAULT_CSS = """
    ItemDetail { scrollbar-gutter: stable; overflow-x: hidden; }
    """

    #: Lines by which the scrollable height grows.
    HEIGHT_STEP = 50

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._renderable: RenderableType = Text()
        self._lines: list[Strip] = []
        self._rendered_for = Size(0, 0)  # the size the lines were made for

    def show(self, item: dict | None, case: dict | None, recent: list, urgency: Urgency | None, today: date) -> None:
        if item is None:
            self._renderable = Text("Nothing in this view. Press 0 for all work.", style="italic")
        else:
            parts: list = item_section(item, today)
            if urgency is not None:
                parts += [Text()] + urgency_section(urgency)
            if case is not None:
                # A review date that has passed: the theme's error text colour, readable in every theme.
                overdue = theme_style(self.app, "text-error", bold=True)
                parts += [Text()] + case_section(case, today, overdue) + [Text()] + oversight_section(recent)
            self._renderable = Group(*parts)
        self._render_lines()
        self.scroll_to(0, 0, animate=False, immediate=True)

    @property
    def text(self) -> str:
        """What the pane shows, as plain text (for tests and screen readers)."""
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _render_lines(self) -> None:
        region = self.scrollable_content_region
        if region.width <= 0:
            return  # not laid out yet: on_resize renders
        self._rendered_for = region.size
        options = self.app.console.options.update_width(region.width)
        lines = self.app.console.render_lines(self._renderable, options, pad=False)
        self._lines = [Strip(line).crop_extend(0, region.width, None) for line in lines]
        # Grown in steps, so most items need no new layout of the screen.
        height = max(region.height, -(-len(self._lines) // self.HEIGHT_STEP) * self.HEIGHT_STEP)
        self.virtual_size = Size(region.width, height)
        self.refresh()

    def on_resize(self) -> None:
        if self.scrollable_content_region.size != self._rendered_for:
            self._render_lines()

    def render_line(self, y: int) -> Strip:
        _scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        line = self._lines[index] if index < len(self._lines) else Strip.blank(width)
        return line.apply_style(self.rich_style)
