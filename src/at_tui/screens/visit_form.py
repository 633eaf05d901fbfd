"""« Nouvelle visite »: the visit's identity. Also edits it later, saving each field as it changes."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Header, Input, Select, Static

from at_tui.domain.identity import FIELD_LABELS
from at_tui.domain.redaction import printable
from at_tui.domain.territory import departement_label, typology_choices
from at_tui.domain.text import FieldError
from at_tui.domain.visit import format_date
from at_tui.importers.finess_reference import proposed_typology
from at_tui.store.pending_writes import SAVE_ERRORS, NotSaved, not_saved_message
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.structure_suggestions import StructureInput, StructureSuggestions


class VisitFormScreen(Screen):
    """Without a visit id: a new visit, created on ctrl+s. With one: live edit of its identity."""

    CSS_PATH = "screens.tcss"

    BINDINGS = [
        Binding("ctrl+s", "submit", "Commencer la visite", id="form.submit", priority=True),
        Binding("ctrl+s", "close", "Fermer", id="form.close", priority=True),
        Binding("escape", "close", "Fermer", id="form.escape"),
        Binding("escape", "cancel", "Annuler", id="form.cancel"),
    ]

    def __init__(self, visit_id: str | None = None, prefill: dict | None = None) -> None:
        """`prefill`: a new visit's first values (structure, departement code, maillage), e.g. a
        maillage visit for a partner named at an opportunity's follow-up (screens/opportunity.py)."""
        super().__init__()
        self.visit_id = visit_id
        self.prefill = dict(prefill or {}) if visit_id is None else {}
        self.finess = ""  # set when the structure is picked from the FINESS extract
        self._settled_name: str | None = None  # the name as picked or stored, not typed
        self._typed: dict[str, str] = {}  # fields shown as typed: their value waits to be saved

    @property
    def editing(self) -> bool:
        return self.visit_id is not None

    def compose(self) -> ComposeResult:
        workspace = self.app.workspace
        territory = workspace.territory
        visit = workspace.visits.require(self.visit_id) if self.editing else None
        if visit is not None:  # typed, not saved yet: shown as typed
            from dataclasses import replace

            unsaved = {k.removeprefix("identity:"): v
                       for k, v in workspace.pending.raw_values(visit.id, "identity:").items()}
            self._typed = {name: unsaved.pop(name) for name in ("departement", "visit_date") if name in unsaved}
            visit = replace(visit, **unsaved)
        yield Header()
        title = "Identité de la visite — chaque champ est enregistré dès sa saisie" if visit else "Nouvelle visite"
        yield Static(f"[b]{title}[/b]", id="form-title")
        if visit:
            self.finess, self._settled_name = visit.finess, visit.structure
        elif self.prefill.get("structure"):  # given, not typed: no suggestions for it
            self._settled_name = self.prefill["structure"]
        with VerticalScroll(id="form-body"):
            suggestions = StructureSuggestions(workspace.complete_structures, id="structure-suggestions")
            yield from self._field("structure", StructureInput(
                suggestions, value=visit.structure if visit else self.prefill.get("structure", ""),
                placeholder="Nom de la structure (ex. CPTS Sud Toulousain)", id="structure"), suggestions)
            info = Static(self._finess_text(), id="finess-info", classes="form-hint")
            info.display = bool(self.finess)
            yield info
            names = [departement_label(d) for d in territory.departements]
            code = visit.departement if visit else self.prefill.get("departement")
            current = next((departement_label(d) for d in territory.departements if code and d.code == code), "")
            current = self._typed.get("departement", current)
            yield from self._field("departement", Input(
                value=current, placeholder="Numéro ou nom (ex. 31 ou Haute-Garonne)", id="departement",
                suggester=SuggestFromList(names + [d.name for d in territory.departements], case_sensitive=False)))
            choices = typology_choices(territory, visit.typologie if visit else None)
            # A stored typology no longer offered (an older territory, an imported visit) is not
            # selectable: the list then asks for one rather than failing to draw. A legacy one
            # (« CPTS/MSP ») is listed, marked « ancienne liste », until the AT picks another.
            known = visit is not None and visit.typologie in {value for _, value in choices}
            yield from self._field("typologie", Select(
                choices, prompt="Choisir la typologie…",
                value=visit.typologie if known else Select.NULL, id="typologie"))
            yield from self._field("commune", Input(
                value=visit.commune if visit else "", placeholder="Commune (ex. Auch)", id="commune"))
            yield from self._field("contact_name", Input(
                value=visit.contact_name if visit else "", placeholder="Prénom Nom", id="contact_name"))
            yield from self._field("contact_role", Input(
                value=visit.contact_role if visit else "", placeholder="Fonction (ex. coordinatrice)", id="contact_role"))
            today = self.app.today().isoformat()
            date_text = self._typed.get("visit_date") or format_date(visit.visit_date if visit else today)
            yield from self._field("visit_date", Input(value=date_text, placeholder="JJ/MM/AAAA", id="visit_date"))
            yield Checkbox(
                "Visite de maillage (partenaires d'une structure qui utilise déjà SPICO)",
                value=visit.maillage if visit else bool(self.prefill.get("maillage")), id="maillage")
        yield KeyBar()

    def _field(self, name: str, control, *under) -> ComposeResult:
        required = name in ("structure", "departement", "typologie", "visit_date")
        mark = " [b $error]*[/]" if required else ""
        control.compact = True
        with Horizontal(classes="form-row"):
            yield Static(FIELD_LABELS[name] + mark, classes="form-label")
            if under:  # e.g. the suggestion list, right under the control
                with Vertical(classes="form-control"):
                    yield control
                    yield from under
            else:
                yield control
        yield ErrorLine(id=f"{name}-error", classes="form-error")

    def on_mount(self) -> None:
        if self.editing:
            self.show_pending()
        self._initial = self._raw()  # what a new form holds before the AT types anything
        self.query_one("#structure", Input).focus()

    def typed_fields(self) -> list[str]:
        """The labels of the fields whose value the AT changed since the form opened."""
        initial = getattr(self, "_initial", {})
        return [FIELD_LABELS[name] for name, value in self._raw().items()
                if value != initial.get(name) and (value or initial.get(name))]

    def show_pending(self) -> None:
        """Each identity field says whether its value waits to be saved; cleared once it went through."""
        if not self.editing:
            return
        pending = self.app.workspace.pending
        for line in self.query(ErrorLine):
            name = line.id.removesuffix("-error")
            write = pending.get(self.visit_id, f"identity:{name}")
            if write is not None:
                self._show_not_saved(name, not_saved_message(write.cause))
            elif line.has_class("-not-saved"):
                self._show(name, "")

    def _show_not_saved(self, name: str, message: str) -> None:
        line = self.query_one(f"#{name}-error", ErrorLine)
        line.show(message)
        line.add_class("-not-saved")
        self.query_one(f"#{name}").remove_class("-field-error")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Editing saves as you type: there is nothing to submit, only to close.
        if action in ("submit", "cancel"):
            return not self.editing
        if action == "close":
            return self.editing
        return True

    def _raw(self) -> dict:
        values: dict = {}
        for name in FIELD_LABELS:
            if name == "finess":
                values[name] = self.finess
                continue
            value = self.query_one(f"#{name}").value
            values[name] = None if value is Select.NULL else value
        return values

    def _show(self, name: str, message: str) -> None:
        line = self.query_one(f"#{name}-error", ErrorLine)
        line.show(message)
        line.remove_class("-not-saved")
        self.query_one(f"#{name}").set_class(bool(message), "-field-error")

    # -- live edit of an existing visit -----------------------------------------

    def _save_field(self, name: str, raw) -> None:
        if not self.editing:
            refused = self.query(f"#{name}-error")
            if refused and refused.first(ErrorLine).display:  # re-check only what was refused
                self._validate(name, raw)
            return
        try:
            self.app.workspace.save_identity(self.visit_id, name, raw)
        except FieldError as problem:
            self._show(name, str(problem))
            return
        except NotSaved as problem:
            self._show_not_saved(name, problem.message)
            self.app.show_pending()
            return
        self._show(name, "")
        self.app.after_save()

    def _validate(self, name: str, raw) -> None:
        from at_tui.domain.identity import parse_identity_field

        try:
            parse_identity_field(self.app.workspace.territory, name, raw)
        except FieldError as problem:
            self._show(name, str(problem))
            return
        self._show(name, "")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "structure":
            self._structure_typed(event.value)
        self._save_field(event.input.id, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self.editing:
            self._validate(event.input.id, event.value)
        self.focus_next()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._save_field("typologie", None if event.value is Select.NULL else event.value)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._save_field("maillage", event.value)

    # -- completion from the imported FINESS structures ------------------------------

    def _structure_typed(self, value: str) -> None:
        if value == self._settled_name:
            return  # picked from the list, or the stored name: nothing typed
        self._settled_name = None
        if self.finess:
            self._link_finess("")  # the name was edited by hand: no longer that FINESS structure
        self.query_one(StructureSuggestions).complete(value)

    def on_structure_suggestions_picked(self, message: StructureSuggestions.Picked) -> None:
        structure = message.structure
        territory = self.app.workspace.territory
        self._settled_name = structure.name
        self._fill("structure", structure.name)
        self._fill("commune", structure.commune or "")
        departement = next((d for d in territory.departements if d.code == structure.departement), None)
        self._fill("departement", departement_label(departement) if departement else structure.departement)
        typology = proposed_typology(territory, structure.typology, structure.category_code)
        proposed = typology is not None
        if proposed:
            self.query_one("#typologie", Select).value = typology
        self._link_finess(structure.finess, structure.category_label, proposed)
        self.query_one("#structure", Input).focus()  # a click on the list may have moved it

    def _fill(self, name: str, value: str) -> None:
        """As if typed: in edit mode the Input.Changed that follows saves it."""
        field = self.query_one(f"#{name}", Input)
        field.value = value
        field.cursor_position = len(value)

    def _link_finess(self, number: str, category: str | None = None, proposed: bool = True) -> None:
        self.finess = number
        if self.editing:
            try:
                self.app.workspace.save_identity(self.visit_id, "finess", number)
            except NotSaved:
                self.app.show_pending()  # kept and retried; said in the header
        info = self.query_one("#finess-info", Static)
        info.update(self._finess_text(category, proposed))
        info.display = bool(number)

    def _finess_text(self, category: str | None = None, proposed: bool = True) -> str:
        if not self.finess:
            return ""
        text = f"FINESS {escape(printable(self.finess))}" + (f" · {escape(printable(category))}" if category else "")
        if not proposed:
            text += "\n[b]Typologie à choisir[/b] : cette catégorie FINESS n'en propose pas."
        return text

    # -- actions ------------------------------------------------------------------

    def action_submit(self) -> None:
        try:
            visit, errors = self.app.workspace.start_visit(self._raw())
        except SAVE_ERRORS as error:  # nothing created; the form keeps what was typed
            from at_tui.store.errors import cause

            self.app.workspace.after_failed_write()
            self.notify(f"Visite non créée : {cause(error)}. Ce qui est saisi reste dans le formulaire : "
                        "réessayez (Ctrl+S) quand le problème est réglé.", severity="error", timeout=15)
            return
        for name in FIELD_LABELS:
            if name not in ("maillage", "finess"):
                self._show(name, errors.get(name, ""))
        if errors:
            first = next(iter(errors))
            self.query_one(f"#{first}").focus()
            self.notify(f"{len(errors)} champ(s) à corriger.", severity="error")
            return
        self.app.pop_screen()
        self.app.open_visit(visit.id)

    def action_cancel(self) -> None:
        """Échap: an empty form leaves at once; one holding typed text asks first (nothing of it
        is saved before the visit is created)."""
        typed = self.typed_fields()
        if not typed:
            self.app.pop_screen()
            return
        from at_tui.screens.confirm import DiscardTypedScreen

        self.app.push_screen(DiscardTypedScreen(typed), lambda leave: self.app.pop_screen() if leave else None)

    def action_close(self) -> None:
        if self.editing and self.query(".-field-error"):
            self.notify("Un champ est invalide : sa dernière valeur correcte est conservée.", severity="warning")
        self.app.pop_screen()
