"""Plain helpers shared by the tests, and by `crash/crash_worker.py`, which runs outside pytest.

Importable as `helpers`: pytest puts `tests/` on sys.path for `tests/conftest.py`, and the
crash worker adds it itself. Keep the module light: nothing here imports pytest, textual or
the app's screens at module level.
"""

from __future__ import annotations

# A realistic visit identity, as typed in the « Nouvelle visite » form.
IDENTITY = {
    "structure": "CPTS du Grand Toulouse",
    "departement": "31",
    "typologie": "CPTS/MSP",
    "contact_name": "Claire Dupuis",
    "contact_role": "Coordinatrice",
    "visit_date": "22/11/2026",
}


async def type_text(pilot, text: str) -> None:
    """Type `text` key by key, as a user would."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def press_to(pilot, key: str, screen_type: type):
    """Press `key`, let the app settle, and return the screen it led to (a `screen_type`)."""
    await pilot.press(key)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, screen_type), f"{key}: {type(screen).__name__}, not {screen_type.__name__}"
    return screen


async def fill_new_visit_form(pilot, structure: str, departement: str, typology: str = "CPTS"):
    """From Accueil: open « Nouvelle visite » by keys, type the structure and the département,
    and pick the typology by typing in its list. Returns the form, not yet saved."""
    from at_tui.screens.visit_form import VisitFormScreen

    form = await press_to(pilot, "n", VisitFormScreen)
    await type_text(pilot, structure)
    await pilot.press("tab")
    await type_text(pilot, departement)
    await pilot.press("tab", "enter")  # open the typology list
    await pilot.pause()
    await type_text(pilot, typology)
    await pilot.press("enter")
    await pilot.pause()
    return form


async def acknowledge_guardrails(pilot) -> int:
    """At step 1, tick by keys the guardrails of the visit's argumentaire sheet, from the focused one
    (the first when the step opens) to the last; the focus ends on what follows them.
    Returns how many were ticked."""
    boxes = list(pilot.app.screen.query("Checkbox.guardrail"))
    if not boxes:
        return 0
    assert pilot.app.focused in boxes, f"focus on {pilot.app.focused}, not on a guardrail"
    ticked = 0
    for box in boxes[boxes.index(pilot.app.focused):]:
        assert pilot.app.focused is box, f"focus on {pilot.app.focused}, not on the guardrail {box.id}"
        if not box.value:
            await pilot.press("space")
            ticked += 1
        await pilot.press("tab")
    await pilot.pause()
    return ticked


class FixedClock:
    """Timestamps one second apart from a fixed instant: stable snapshots and histories."""

    def __init__(self, start: str = "2026-11-20T08:00:00+00:00") -> None:
        import datetime as dt

        self.now = dt.datetime.fromisoformat(start)

    def __call__(self) -> str:
        import datetime as dt

        self.now += dt.timedelta(seconds=1)
        return self.now.isoformat(timespec="microseconds")
