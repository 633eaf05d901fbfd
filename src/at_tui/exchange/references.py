"""The playbooks and questionnaires an export carries, checked against the file and this laptop.

A visit opens with the playbook and questionnaire versions it was made with:
bundled with the app, kept as a snapshot in the database, or carried by the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.exchange.format import EnvelopeModel
    from at_tui.store.visits import VisitStore
    from at_tui.workspace import Workspace

# (kind, id, version) -> the validated Playbook or Questionnaire
References = dict[tuple[str, str, int], Any]


def bundled(workspace: Workspace, kind: str, ref_id: str, version: int):
    """The copy bundled with this at-tui, or None."""
    catalogue = workspace.reference.playbooks if kind == "playbook" else workspace.reference.questionnaires
    return catalogue.get((ref_id, version))


def validate_references(envelope: EnvelopeModel) -> tuple[References, list[str]]:
    """The file's references by key, and the French problems of those that are not valid."""
    from pydantic import ValidationError

    from at_tui.reference.loader import validation_problems

    models: References = {}
    problems: list[str] = []
    for reference in envelope.references:
        key = (reference.kind, reference.id, reference.version)
        what = "processus" if reference.kind == "playbook" else "questionnaire"
        name = f"{what} « {reference.id} » v{reference.version}"
        try:
            model = _model_class(reference.kind).model_validate(reference.content)
        except ValidationError as error:
            details = " ; ".join(validation_problems(reference.content, error))
            problems.append(f"Référence {name} invalide : {details}")
            continue
        if (model.id, model.version) != (reference.id, reference.version):
            problems.append(
                f"Référence {name} : son contenu est « {model.id} » v{model.version}, pas celui annoncé."
            )
            continue
        if key in models and not _same_model(models[key], model):
            problems.append(f"Référence {name} présente deux fois avec des contenus différents.")
            continue
        models[key] = model
    return models, problems


def resolve(workspace: Workspace, references: References, kind: str, ref_id: str, version: int):
    """The playbook/questionnaire the visit will use on this laptop: what `Workspace` opens it with."""
    found = bundled(workspace, kind, ref_id, version)
    if found is None:
        found = _parse(kind, workspace.visits.snapshot(kind, ref_id, version))
    return found if found is not None else references.get((kind, ref_id, version))


def reference_conflicts(store: VisitStore, references: References) -> list[str]:
    """The file's references that this laptop already keeps with another content."""
    conflicts = []
    for (kind, ref_id, version), model in references.items():
        content = store.snapshot(kind, ref_id, version)
        if content is None:
            continue
        stored = _parse(kind, content)
        if stored is None or not _same_model(stored, model):
            conflicts.append(
                f"{'le processus' if kind == 'playbook' else 'le questionnaire'} « {ref_id} » "
                f"version {version} existe déjà sur ce poste avec un contenu différent."
            )
    return conflicts


def _parse(kind: str, content: dict | None):
    """The model of a snapshot kept in the database, or None (none kept, or no longer valid)."""
    from pydantic import ValidationError

    if content is None:
        return None
    try:
        return _model_class(kind).model_validate(content)
    except ValidationError:
        return None


def _model_class(kind: str):
    from at_tui.domain.playbook import Playbook, Questionnaire

    return Playbook if kind == "playbook" else Questionnaire


def _same_model(a: Any, b: Any) -> bool:
    return a.model_dump(mode="json") == b.model_dump(mode="json")
