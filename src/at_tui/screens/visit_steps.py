"""The one place that maps a stop of the visit flow to its screen.

The screens of a visit all derive from `visit_base.VisitScreen`; keeping this map apart
means the base never imports its own subclasses.
"""

from __future__ import annotations

from at_tui.domain.flow import stop_index, visit_flow
from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.questionnaire import QuestionnaireScreen
from at_tui.screens.result import ResultScreen
from at_tui.screens.visit_base import VisitScreen
from at_tui.workspace import Workspace

SCREEN_BY_KIND: dict[str, type[VisitScreen]] = {
    "checklist": ChecklistScreen,
    "questionnaire": QuestionnaireScreen,
    "result": ResultScreen,
    "deliverables": DeliverablesScreen,
}


def screen_for_stop(workspace: Workspace, visit_id: str, key: str | None) -> VisitScreen:
    visit = workspace.visits.require(visit_id)
    stops = visit_flow(workspace.playbook_for(visit))
    index = stop_index(stops, key or visit.current_step)
    return SCREEN_BY_KIND[stops[index].kind](workspace, visit, stops, index)
