"""What was asked and answered on an item: part of the decision, shown and exported with it.

An SBAR can carry the question the SPO asked the practitioner (``i``) and the answer logged (``y``),
and an escalation's note and the answer to it. Plain Python, no I/O.
"""

from __future__ import annotations

from typing import Any


def exchanges(kind: str, detail: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each question and answer recorded on the item, in the order they happened."""
    if kind != "sbar":
        return []
    out = []
    if detail.get("info_request"):
        out.append(("Asked of the practitioner", str(detail["info_request"]).strip()))
        if detail.get("info_answer"):
            out.append(("Practitioner's answer", str(detail["info_answer"]).strip()))
    if detail.get("escalation_note") and detail.get("escalated_to"):
        out.append((f"Escalated to {detail['escalated_to']}", str(detail["escalation_note"]).strip()))
        if detail.get("escalation_answer"):
            out.append((f"Answer from {detail['escalated_to']}", str(detail["escalation_answer"]).strip()))
    return out


def exchanges_text(kind: str, detail: dict[str, Any]) -> str:
    """The exchanges as lines ``Label: text`` (empty when there are none)."""
    return "\n".join(f"{label}: {text}" for label, text in exchanges(kind, detail))


def discussed_prefill(item: dict[str, Any]) -> str:
    """What the oversight form's "what was discussed" starts with, from the item itself (with an
    SBAR, what was asked and answered on it): the same for the Today screen and ``spo-tui do decide``."""
    d = item["detail"]
    if item["kind"] == "sbar":
        who = item.get("raised_by_name") or "the practitioner"
        asked = exchanges_text("sbar", d)
        return f"SBAR from {who}. S: {d['situation']} R: {d['recommendation']}" + (f"\n{asked}" if asked else "")
    if item["kind"] == "alert":
        return f"Immediate-risk alert: {d['details']}"
    return item["title"]
