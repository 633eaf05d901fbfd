"""The opportunity's life after the visit, as data of the playbook (seed 000, steps 4 to 7).

Statuses are the seed's: « en attente » (3. Classification — Livrable(s)), « projet en
cours » (4. Qualification — « changement de statut passage en « projet en cours » »),
« Terminé » (6. Suivi des usages — « Quand le suivi M6 est réalisé et que les usages sont
en run, passer le statut de l'opportunité en « Terminé » »). « Sans suite » is not in the
slides: a real pipeline needs a close without deployment, with its reason.

Activities are what the journal records, with the CRM titles the seed writes
(« Cadrage (déploiement acté) », « [M1] SPICO Suivi des usages »…): which step they
belong to, the status they set, the date they record, when they come due, the form
they carry. A new playbook version changes all of it without code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from at_tui.domain.data_model import Identifier, Model, Source, find_by_id, require_unique

DateField = Literal["launch_date", "deployment_end"]
DATE_LABELS: dict[str, str] = {
    "visit_date": "visite",
    "launch_date": "réunion de lancement",
    "deployment_end": "fin du déploiement",
}


class Status(Model):
    id: str = Identifier
    label: str = Field(min_length=1)
    # Where it may go next, and whether the opportunity is closed there.
    next: tuple[str, ...] = ()
    closed: bool = False
    reason_required: bool = False
    source: Source


class Due(Model):
    """When an activity comes due: whole calendar months after a recorded date."""

    after: DateField
    months: int = Field(ge=1, le=60)


class Proposal(Model):
    """An answer of the activity's form that proposes a status, confirmed by the lead."""

    question: str = Identifier
    equals: bool | str
    status: str = Identifier


class Activity(Model):
    id: str = Identifier
    type: str = Field(min_length=1)  # the CRM activity type
    title: str = Field(min_length=1)  # the CRM title, exactly as the seed writes it
    step: str | None = None  # the playbook step it belongs to
    # Who records it: the opportunity's lead, its support, or either side.
    by: Literal["lead", "support", "any"] = "any"
    sets_status: str | None = None
    records: DateField | None = None  # the date this activity fixes (its own day)
    due: Due | None = None
    form: str | None = None  # a questionnaire id (data, like the Recueil)
    proposes: Proposal | None = None
    once: bool = True  # a follow-up is done once; notes and contributions repeat
    source: Source


class Lifecycle(Model):
    initial: str = Identifier
    statuses: tuple[Status, ...] = Field(min_length=1)
    activities: tuple[Activity, ...] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _coherent(self) -> Lifecycle:
        require_unique([s.id for s in self.statuses], "statut")
        require_unique([a.id for a in self.activities], "activité")
        known = {s.id for s in self.statuses}
        if self.initial not in known:
            raise ValueError(f"champ « initial » : statut « {self.initial} » inconnu")
        for status in self.statuses:
            for target in status.next:
                if target not in known:
                    raise ValueError(f"statut « {status.id} », champ « next » : statut « {target} » inconnu")
        for activity in self.activities:
            for target in filter(None, (activity.sets_status, activity.proposes and activity.proposes.status)):
                if target not in known:
                    raise ValueError(f"activité « {activity.id} » : statut « {target} » inconnu")
        return self

    def status(self, status_id: str) -> Status:
        return find_by_id(self.statuses, status_id)

    def activity(self, activity_id: str) -> Activity:
        return find_by_id(self.activities, activity_id)

    def status_label(self, status_id: str) -> str:
        try:
            return self.status(status_id).label
        except KeyError:
            return status_id

    @property
    def follow_ups(self) -> tuple[Activity, ...]:
        """The activities that come due by themselves (M+1, M+3, M+6)."""
        return tuple(a for a in self.activities if a.due is not None)
