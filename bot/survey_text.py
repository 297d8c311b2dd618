"""The satisfaction survey's results as text: counts by unit and the share satisfied
against 65 %, the same lines on /survey's results screen and at the foot of the county's
/summary. Only counts: nothing here can name a rater (storage.satisfaction.results)."""

from __future__ import annotations

from typing import Final

from bot.i18n import N_, gettext
from bot.satisfaction import TARGET, SurveyResults, meets, satisfied_share
from bot.shares import percent
from storage.models import SurveyRaters, SurveyState

__all__ = ["RATER_LABELS", "result_lines"]

RATER_LABELS: Final = {
    SurveyRaters.SECRETARIES: N_("branch secretaries"),
    SurveyRaters.MEMBERS: N_("all members"),
}


def result_lines(found: SurveyResults, language: str) -> list[str]:
    """The heading, the rule, how many units are at the mark, then a line per unit."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    survey = found.survey
    state = _("answers open") if survey.state == SurveyState.OPEN else _("answers closed")
    lines = [
        _("📊 Satisfaction survey {year} (raters: {raters}; {state})").format(
            year=survey.year, raters=_(RATER_LABELS[survey.raters]), state=state
        ),
        _("Satisfied = satisfied + basically satisfied, of all answers; target {target}.").format(
            target=percent(TARGET)
        ),
        _("Units at the mark: {passing} of {judged} rated").format(
            passing=found.passing, judged=found.judged
        ),
    ]
    for result in found.units:
        share = satisfied_share(result)
        if share is None:
            lines.append(_("• {unit}: no answers yet").format(unit=result.name))
            continue
        lines.append(
            _("• {unit}: satisfied {s}, basically {b}, dissatisfied {d}; {percent} {mark}").format(
                unit=result.name,
                s=result.satisfied,
                b=result.basically,
                d=result.dissatisfied,
                percent=percent(share),
                mark="✅" if meets(result) else "⚠️",
            )
        )
    return lines
