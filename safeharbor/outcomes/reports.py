"""Funder reports: what a program did in a period (``funder_report``), or the agencies of a
county together (``county_report``, the "macro" view), as de-identified tables.

The tables follow what funders ask for: the federal OVC TIMS performance measures (clients
served, new and continuing, demographics, victimisation type, services by service area, referrals
and partners), HHS OTIP's youth program reporting (minors and young adults, screening with
validated instruments, exits) and the California CSEC Program's county reporting (referral
sources, placement changes, the county across agencies).

Nothing in a report names or points to a youth: no names, ids, record numbers or birth dates,
only counts, and every table goes through small-cell suppression (``suppression.py``, threshold
``SAFEHARBOR_SMALL_CELL``). That is also the only way a victim-service provider's figures leave
it. A youth is counted once per agency that served them ("served": enrolled in one of its
programs at some time in the period); their characteristics are those recorded at their latest
enrolment in the period, their age is their age on the period's first day.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from safeharbor.accounts.choices import AgencyKind
from safeharbor.accounts.models import Agency
from safeharbor.core import clock
from safeharbor.referrals import workflow
from safeharbor.referrals.choices import Status
from safeharbor.referrals.models import Referral
from safeharbor.screening.choices import ScreeningStatus
from safeharbor.screening.models import Screening
from safeharbor.youth.choices import AgeBand, GenderIdentity, RaceEthnicity
from safeharbor.youth.models import Youth, age_band_for

from .choices import FUNDER_CATEGORY, ExitReason, ReferralSource, TraffickingType, YesNoUnknown
from .models import Enrolment, FundingSource, OutcomeObservation, Program, ServiceDelivery
from .reading import figure_reads
from .suppression import suppress, suppress_counts, threshold

MAX_YEARS = 5
PLACEMENT_MEASURE = "placement_moves"
MINOR_BANDS = frozenset({AgeBand.UNDER_12, AgeBand.AGE_12_14, AgeBand.AGE_15_17})

# A suppressed count (None) or a count, or hours (Decimal, one decimal place).
Cell = int | Decimal | None


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """One published table: labelled lines of values (None where suppressed) and a total line.

    ``chart_column`` is the column the bar chart shows (a count of youth, or of events).
    ``population`` marks tables whose grand total is the number of youth served: the same
    number in each, so no table may rely on hiding it (``_guard_population``).
    """

    key: str
    title: str
    columns: tuple[str, ...]
    lines: tuple[Line, ...]
    total: Line
    threshold: int
    note: str = ""
    chart_column: int = 0
    population: bool = False

    @property
    def grand_total(self) -> Cell:
        return self.total.values[self.chart_column]

    @property
    def suppressed(self) -> int:
        values = [v for line in (*self.lines, self.total) for v in line.values]
        return sum(value is None for value in values)

    def chart_items(self) -> list[tuple[str, int | Decimal | None]]:
        return [(line.label, line.values[self.chart_column]) for line in self.lines]


@dataclass(frozen=True)
class Report:
    """A funder report, ready to show or export. ``subject`` is the program or the county."""

    kind: Literal["program", "county"]
    title: str
    subject: str
    agency: str
    start: datetime.date
    end: datetime.date
    generated_at: datetime.datetime
    threshold: int
    tables: tuple[Table, ...]
    notes: tuple[str, ...]
    funding: tuple[str, ...] = ()
    program_id: int | None = None
    county: str = ""

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


def suppressed_label() -> str:
    return _("suppressed")


def format_cell(value: Cell) -> str:
    """How a value reads on a page and in an export: "suppressed" for a hidden count."""
    if value is None:
        return suppressed_label()
    if isinstance(value, Decimal):
        return f"{value:,.1f}"
    return f"{value:,}"


# --- Parameters -----------------------------------------------------------------------------


def _years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_period(start: datetime.date, end: datetime.date) -> None:
    """The period must run forwards and last at most five years (a funder's longest award)."""
    if end < start:
        raise ValidationError(
            {"end": [_("The period ends before it starts. Choose an end on or after the start.")]}
        )
    if end >= _years_later(start, MAX_YEARS):
        raise ValidationError(
            {
                "end": [
                    _(
                        "A report covers at most %(years)d years. Choose a shorter period, "
                        "or make one report for each part."
                    )
                    % {"years": MAX_YEARS}
                ]
            }
        )


def _program(program: Program | int | str) -> Program:
    if isinstance(program, Program):
        return program
    unknown = ValidationError(
        {"program": [_("There is no such program. Choose one of your agency's programs.")]}
    )
    try:
        key = int(program)
    except (TypeError, ValueError):
        raise unknown from None
    found = Program.objects.select_related("agency").filter(pk=key).first()
    if found is None:
        raise unknown
    return found


def _day_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    """The period as aware datetimes in the deployment's time zone: [first day, day after)."""
    zone = timezone.get_current_timezone()
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    after = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return begin, after


# --- Who was served ---------------------------------------------------------------------------


# A youth's id as text, as the database writes it: the reports only match ids with each other,
# and text is several times cheaper to read and to hash than uuid.UUID (tens of thousands a report).
YouthKey = str
UnitKey = tuple[YouthKey, int]


def _key(field_name: str = "youth_id") -> Cast:
    return Cast(field_name, output_field=CharField())


@dataclass
class _Unit:
    """A youth served by an agency in the period (never leaves this module)."""

    youth_id: YouthKey
    agency_id: int
    spans: list[tuple[datetime.date, datetime.date | None]] = field(default_factory=list)
    continuing: bool = False
    trafficking_type: str = TraffickingType.UNKNOWN
    referral_source: str = ""
    has_disability: str = YesNoUnknown.UNKNOWN

    def enrolled_on(self, day: datetime.date) -> bool:
        return any(s <= day and (e is None or day <= e) for s, e in self.spans)


@dataclass
class _Scope:
    programs: QuerySet[Program]
    agencies: dict[int, Agency]
    start: datetime.date
    end: datetime.date

    def enrolments(self) -> QuerySet[Enrolment]:
        return Enrolment.objects.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=self.start),
            program__in=self.programs,
            starts_on__lte=self.end,
        )


def _units(scope: _Scope) -> dict[UnitKey, _Unit]:
    units: dict[UnitKey, _Unit] = {}
    rows = scope.enrolments().order_by("starts_on", "pk")
    for youth_id, agency_id, starts_on, ends_on, kind, source, disability in rows.values_list(
        _key(),
        "program__agency_id",
        "starts_on",
        "ends_on",
        "trafficking_type",
        "referral_source",
        "has_disability",
    ):
        unit = units.setdefault((youth_id, agency_id), _Unit(youth_id, agency_id))
        unit.spans.append((starts_on, ends_on))
        unit.continuing = unit.continuing or starts_on < scope.start
        # Ordered by start: the last enrolment seen is the latest, whose intake answers count.
        unit.trafficking_type, unit.referral_source, unit.has_disability = kind, source, disability
    return units


@dataclass(frozen=True)
class _YouthFacts:
    band: str
    gender: str
    race: tuple[str, ...]


def _youth_facts(scope: _Scope) -> dict[YouthKey, _YouthFacts]:
    """Age band (from the birth date, the only field decrypted), gender and race/ethnicity."""
    youth = Youth.objects.filter(pk__in=scope.enrolments().values("youth_id"))
    return {
        pk: _YouthFacts(age_band_for(born, scope.start), gender or "", tuple(race or ()))
        for pk, born, gender, race in youth.values_list(
            _key("pk"), "date_of_birth", "gender_identity", "race_ethnicity"
        )
    }


# --- Building tables --------------------------------------------------------------------------


def _labels(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


def _one_column(
    key: str,
    title: str,
    column: str,
    counts: Mapping[str, int],
    labels: Mapping[str, str],
    *,
    note: str = "",
    population: bool = False,
) -> Table:
    published = suppress_counts(dict(counts))
    lines = tuple(
        Line(labels.get(code, code), (published.cell(code, "count"),)) for code in published.rows
    )
    return Table(
        key=key,
        title=title,
        columns=(column,),
        lines=lines,
        total=Line(_("Total"), (published.total,)),
        threshold=published.threshold,
        note=note,
        population=population,
    )


def _cross(
    key: str,
    title: str,
    rows: Mapping[str, str],
    cols: Mapping[str, str],
    counts: Mapping[tuple[str, str], int],
    *,
    all_label: str,
    note: str = "",
    population: bool = False,
) -> Table:
    published = suppress(list(rows), list(cols), counts)
    lines = tuple(
        Line(label, (*(published.cell(r, c) for c in cols), published.row_totals[r]))
        for r, label in rows.items()
    )
    total = Line(_("Total"), (*(published.col_totals[c] for c in cols), published.total))
    return Table(
        key=key,
        title=title,
        columns=(*cols.values(), all_label),
        lines=lines,
        total=total,
        threshold=published.threshold,
        note=note,
        chart_column=len(cols),
        population=population,
    )


def _with_amounts(
    key: str,
    title: str,
    column: str,
    counts: Mapping[str, int],
    labels: Mapping[str, str],
    amounts: Sequence[tuple[str, Mapping[str, int | Decimal]]],
    *,
    note: str = "",
    population: bool = False,
) -> Table:
    """Youth per row (suppressed) with amounts beside them (services, hours, moves). An amount
    is hidden wherever its row's count is, and its total wherever the count's total is: the
    same pattern, so the same equations protect it."""
    published = suppress_counts(dict(counts))
    lines = []
    for code in published.rows:
        youth = published.cell(code, "count")
        hidden = youth is None
        values: tuple[Cell, ...] = (
            youth,
            *(None if hidden else by_row.get(code, 0) for _label, by_row in amounts),
        )
        lines.append(Line(labels[code], values))
    totals: tuple[Cell, ...] = (
        published.total,
        *(
            None if published.total is None else sum(by_row.values(), start=_zero(by_row))
            for _label, by_row in amounts
        ),
    )
    return Table(
        key=key,
        title=title,
        columns=(column, *(label for label, _by_row in amounts)),
        lines=tuple(lines),
        total=Line(_("Total"), totals),
        threshold=published.threshold,
        note=note,
        population=population,
    )


def _zero(values: Mapping[str, int | Decimal]) -> int | Decimal:
    return Decimal("0.0") if any(isinstance(v, Decimal) for v in values.values()) else 0


def _withhold_all(table: Table) -> Table:
    def hidden(line: Line) -> Line:
        return Line(line.label, tuple(None for _value in line.values))

    return replace(
        table, lines=tuple(hidden(line) for line in table.lines), total=hidden(table.total)
    )


def _guard_population(tables: list[Table], served: int, small: int) -> list[Table]:
    """Every population table's grand total is the number served. Should suppression have
    hidden it in one table while another publishes it, that table's protection would rest on a
    number anyone can read: then the whole table is withheld instead."""
    if served < small:
        return tables
    return [_withhold_all(t) if t.population and t.grand_total is None else t for t in tables]


# --- The report's tables ----------------------------------------------------------------------


def _age_band_label(band: str) -> str:
    label = AgeBand(band).label
    if band in MINOR_BANDS:
        return _("Minor, %(band)s") % {"band": label}
    return _("Young adult, %(band)s") % {"band": label}


def _served_tables(
    units: Mapping[UnitKey, _Unit], facts: Mapping[YouthKey, _YouthFacts]
) -> list[Table]:
    not_recorded = _("Not recorded")
    status_cols = {"new": _("New in the period"), "continuing": _("Continuing")}
    ages: Counter[tuple[str, str]] = Counter()
    gender: Counter[str] = Counter(dict.fromkeys(GenderIdentity.values, 0))
    race: Counter[str] = Counter(dict.fromkeys(RaceEthnicity.values, 0))
    trafficking: Counter[str] = Counter(dict.fromkeys(TraffickingType.values, 0))
    disability: Counter[str] = Counter(dict.fromkeys(YesNoUnknown.values, 0))
    sources: Counter[str] = Counter(dict.fromkeys(ReferralSource.values, 0))
    for unit in units.values():
        youth = facts[unit.youth_id]
        ages[(youth.band, "continuing" if unit.continuing else "new")] += 1
        gender[youth.gender or "_none"] += 1
        for code in youth.race or ("_none",):
            race[code] += 1
        trafficking[unit.trafficking_type] += 1
        disability[unit.has_disability] += 1
        sources[unit.referral_source] += 1
    gender.setdefault("_none", 0)
    race.setdefault("_none", 0)
    with_none = {"_none": not_recorded}
    return [
        _cross(
            "served",
            _("Youth served, by age at the start of the period"),
            {band: _age_band_label(band) for band in AgeBand.values},
            status_cols,
            ages,
            all_label=_("All youth served"),
            note=_(
                "New: enrolled during the period. Continuing: enrolled before it and still "
                "enrolled at its start. Minors are under 18; young adults 18 or over."
            ),
            population=True,
        ),
        _one_column(
            "gender",
            _("Gender identity"),
            _("Youth"),
            gender,
            _labels(GenderIdentity.choices) | with_none,
            population=True,
        ),
        _one_column(
            "race",
            _("Race and ethnicity"),
            _("Youth"),
            race,
            _labels(RaceEthnicity.choices) | with_none,
            note=_(
                "A youth may identify with more than one group and is counted in each, so "
                "the total is of answers, not of youth."
            ),
        ),
        _one_column(
            "trafficking",
            _("Type of exploitation"),
            _("Youth"),
            trafficking,
            _labels(TraffickingType.choices),
            note=_("As recorded at the youth's latest enrolment in the period."),
            population=True,
        ),
        _one_column(
            "disability",
            _("Youth with a disability"),
            _("Youth"),
            disability,
            _labels(YesNoUnknown.choices),
            population=True,
        ),
        _one_column(
            "referral_sources",
            _("Referred by"),
            _("Youth"),
            sources,
            _labels(ReferralSource.choices),
            note=_("Who referred the youth to the program, at their latest enrolment."),
            population=True,
        ),
    ]


AREAS = tuple(dict.fromkeys(FUNDER_CATEGORY.values()))


@dataclass(frozen=True)
class _AreaSums:
    """What the services of one agency in one service area add up to."""

    youth: int  # distinct youth
    services: int
    minutes: int


@dataclass(frozen=True)
class _ServiceSums:
    """The services delivered under the scope's programs in the period, added up by the
    database: by agency and service area, and the distinct youth of each agency."""

    by_area: dict[tuple[int, str], _AreaSums]
    youth_of_agency: dict[int, int]


def _delivered(scope: _Scope) -> QuerySet[ServiceDelivery]:
    # order_by(): the model's default ordering would otherwise join the GROUP BY.
    return ServiceDelivery.objects.filter(
        program__in=scope.programs, delivered_on__range=(scope.start, scope.end)
    ).order_by()


def _area_of_service() -> Case:
    """The service area's position in AREAS, from the service type (several types may share
    an area: shelter and housing)."""
    types_of: dict[str, list[str]] = defaultdict(list)
    for service_type, area in FUNDER_CATEGORY.items():
        types_of[area].append(str(service_type))
    return Case(
        *(
            When(service_type__in=types_of[area], then=Value(position))
            for position, area in enumerate(AREAS)
        ),
        output_field=IntegerField(),
    )


def _service_sums(scope: _Scope, *, by_agency: bool) -> _ServiceSums:
    """One query (two with ``by_agency``, for the county's table by kind of agency). A youth is
    counted once per agency, as everywhere in the reports: distinct youth are counted within
    each agency, and adding them up over agencies counts (youth, agency) pairs."""
    rows = (
        _delivered(scope)
        .values(agency=F("program__agency_id"), area=_area_of_service())
        .annotate(
            served=Count("youth_id", distinct=True), services=Count("*"), spent=Sum("minutes")
        )
        .values_list("agency", "area", "served", "services", "spent")
    )
    by_area = {
        (agency_id, AREAS[area]): _AreaSums(served, services, spent)
        for agency_id, area, served, services, spent in rows
    }
    youth_of_agency: dict[int, int] = {}
    if by_agency:
        youth_of_agency = dict(
            _delivered(scope)
            .values(agency=F("program__agency_id"))
            .annotate(served=Count("youth_id", distinct=True))
            .values_list("agency", "served")
        )
    return _ServiceSums(by_area, youth_of_agency)


def _hours(minutes: Mapping[str, int]) -> dict[str, Decimal]:
    return {code: (Decimal(m) / 60).quantize(Decimal("0.1")) for code, m in minutes.items()}


def _services_table(sums: _ServiceSums) -> Table:
    areas = list(AREAS)
    served: Counter[str] = Counter(dict.fromkeys(areas, 0))
    deliveries: Counter[str] = Counter(dict.fromkeys(areas, 0))
    minutes: Counter[str] = Counter(dict.fromkeys(areas, 0))
    for (_agency_id, area), sum_ in sums.by_area.items():
        served[area] += sum_.youth
        deliveries[area] += sum_.services
        minutes[area] += sum_.minutes
    hours = _hours(minutes)
    return _with_amounts(
        "services",
        _("Services delivered, by service area"),
        _("Youth"),
        served,
        {area: area for area in areas},
        [(_("Services"), dict(deliveries)), (pgettext("time spent", "Hours"), hours)],
        note=_(
            "Service areas as in the OVC TIMS performance measures. A youth who received "
            "services in several areas is counted in each."
        ),
    )


def _referral_tables(scope: _Scope, units: Mapping[UnitKey, _Unit]) -> list[Table]:
    begin, after = _day_bounds(scope.start, scope.end)
    rows = (
        Referral.objects.filter(
            referring_agency_id__in=list(scope.agencies),
            youth_id__in=scope.enrolments().values("youth_id"),
            sent_at__gte=begin,
            sent_at__lt=after,
        )
        .exclude(status__in=[Status.DRAFT, Status.ENTERED_IN_ERROR])
        .values_list(
            _key(),
            "referring_agency_id",
            "sent_at",
            "status",
            "receiving_agency_id",
            "receiving_agency__kind",
            "organization_name",
        )
    )
    states: Counter[str] = Counter({"completed": 0, "closed": 0, "open": 0})
    partners: dict[str, set[str]] = {code: set() for code in [*AgencyKind.values, "_off"]}
    for youth_id, agency_id, sent_at, status, receiving_id, receiving_kind, name in rows:
        unit = units.get((youth_id, agency_id))
        if unit is None or not unit.enrolled_on(timezone.localdate(sent_at)):
            continue  # made outside the youth's enrolment: not this program's work
        if status == Status.COMPLETED:
            states["completed"] += 1
        elif status in workflow.CLOSED:
            states["closed"] += 1
        else:
            states["open"] += 1
        if receiving_id is not None:
            partners[receiving_kind].add(f"agency:{receiving_id}")
        else:
            partners["_off"].add("organisation:" + " ".join(name.casefold().split()))
    return [
        _one_column(
            "referrals",
            _("Referrals made"),
            _("Referrals"),
            states,
            {
                "completed": _("Completed by the service"),
                "closed": _("Closed otherwise (declined, cancelled, could not be carried out)"),
                "open": _("Still open at the time of the report"),
            },
            note=_(
                "Referrals sent in the period while the youth was enrolled; drafts and "
                "referrals entered in error are left out."
            ),
        ),
        _one_column(
            "partners",
            _("Partner organisations referred to"),
            _("Organisations"),
            {code: len(keys) for code, keys in partners.items()},
            _labels(AgencyKind.choices) | {"_off": _("Not on Safe Harbor")},
            note=_("Each organisation is counted once, however many referrals it received."),
        ),
    ]


def _exits_table(scope: _Scope) -> Table:
    exits: Counter[str] = Counter(dict.fromkeys(ExitReason.values, 0))
    for reason in (
        scope.enrolments().filter(ends_on__lte=scope.end).values_list("exit_reason", flat=True)
    ):
        exits[reason] += 1
    return _one_column(
        "exits",
        _("Reasons for leaving"),
        _("Exits"),
        exits,
        _labels(ExitReason.choices),
        note=_("Enrolments that ended in the period, by the reason recorded."),
    )


def _screening_tables(scope: _Scope, units: Mapping[UnitKey, _Unit]) -> list[Table]:
    begin, after = _day_bounds(scope.start, scope.end)
    rows = Screening.objects.filter(
        status=ScreeningStatus.COMPLETED,
        completed_at__gte=begin,
        completed_at__lt=after,
        agency_id__in=list(scope.agencies),
        youth_id__in=scope.enrolments().values("youth_id"),
    ).values_list(_key(), "agency_id", "instrument__title", "instrument__validated")
    screened: set[UnitKey] = set()
    by_instrument: dict[tuple[str, str], set[UnitKey]] = defaultdict(set)
    for youth_id, agency_id, title, validated in rows:
        key = (youth_id, agency_id)
        if key not in units:
            continue
        screened.add(key)
        by_instrument[(title, "validated" if validated else "not_validated")].add(key)
    titles = sorted({title for title, _kind in by_instrument})
    return [
        _one_column(
            "screened",
            _("Youth screened for exploitation in the period"),
            _("Youth"),
            {"yes": len(screened), "no": len(units) - len(screened)},
            {"yes": _("Screened"), "no": _("Not screened in the period")},
            note=_("Screenings completed by the agency's staff during the period."),
            population=True,
        ),
        _cross(
            "instruments",
            _("Screening instruments used"),
            {title: title for title in titles},
            {"validated": _("Validated instrument"), "not_validated": _("Not validated")},
            {key: len(youth) for key, youth in by_instrument.items()},
            all_label=_("Youth"),
            note=_(
                "A validated instrument has published sensitivity and specificity. A youth "
                "screened with two instruments is counted under each."
            ),
        ),
    ]


def _placement_table(scope: _Scope, units: Mapping[UnitKey, _Unit]) -> Table:
    # Summed by the database per youth and agency of the staff member who recorded them.
    rows = (
        OutcomeObservation.objects.filter(
            measure__code=PLACEMENT_MEASURE,
            observed_on__range=(scope.start, scope.end),
            youth_id__in=scope.enrolments().values("youth_id"),
        )
        .order_by()
        .values(key=_key(), agency=F("recorded_by__membership__agency_id"))
        .annotate(moves=Sum("value"))
        .values_list("key", "agency", "moves")
    )
    moves: dict[UnitKey, Decimal] = {
        (youth_id, agency_id): total
        for youth_id, agency_id, total in rows
        if (youth_id, agency_id) in units
    }
    bins = {
        "none": _("Not recorded"),
        "0": _("No move"),
        "1": _("1 move"),
        "2_3": _("2 or 3 moves"),
        "4": _("4 or more moves"),
    }
    youth: Counter[str] = Counter(dict.fromkeys(bins, 0))
    total_moves: Counter[str] = Counter(dict.fromkeys(bins, 0))
    for key in units:
        if key not in moves:
            youth["none"] += 1
            continue
        count = int(moves[key])
        code = "0" if count == 0 else "1" if count == 1 else "2_3" if count <= 3 else "4"
        youth[code] += 1
        total_moves[code] += count
    return _with_amounts(
        "placements",
        _("Placement moves in the period"),
        _("Youth"),
        youth,
        bins,
        [(_("Moves"), dict(total_moves))],
        note=_("From the 'Placement moves' outcome measure recorded by the agency's staff."),
        population=True,
    )


def _tables(
    scope: _Scope, *, by_agency: bool = False
) -> tuple[list[Table], dict[UnitKey, _Unit], _ServiceSums]:
    units = _units(scope)
    facts = _youth_facts(scope)
    sums = _service_sums(scope, by_agency=by_agency)
    tables = [
        *_served_tables(units, facts),
        _services_table(sums),
        *_referral_tables(scope, units),
        _exits_table(scope),
        *_screening_tables(scope, units),
        _placement_table(scope, units),
    ]
    return tables, units, sums


def _suppression_note(small: int) -> str:
    if small <= 1:
        return _("No count is suppressed: the threshold (SAFEHARBOR_SMALL_CELL) is set to 1.")
    return _(
        "Counts from 1 to %(below)d are suppressed, and so are enough other counts that a "
        "suppressed count cannot be worked out by adding or subtracting. Zeros are shown. "
        "A suppressed count may be of any size."
    ) % {"below": small - 1}


def _common_notes(small: int) -> list[str]:
    return [
        _suppression_note(small),
        _(
            "The report holds no names, record numbers, dates of birth or any other "
            "identifier: only counts."
        ),
        _(
            "Characteristics are those recorded at the youth's latest enrolment in the "
            "period; age is the age on the period's first day."
        ),
    ]


@figure_reads()
def funder_report(program: Program | int | str, start: datetime.date, end: datetime.date) -> Report:
    """The funder report of one program for ``start`` to ``end`` (both included). Raises
    ValidationError (fields ``program``, ``end``) for an unknown program or a bad period."""
    program = _program(program)
    check_period(start, end)
    agency = program.agency
    scope = _Scope(Program.objects.filter(pk=program.pk), {agency.pk: agency}, start, end)
    tables, units, _sums = _tables(scope)
    small = threshold()
    funding = tuple(
        " ".join(part for part in (source.funder, source.award_number) if part)
        for source in FundingSource.objects.filter(
            program=program, starts_on__lte=end, ends_on__gte=start
        ).order_by("starts_on", "pk")
    )
    return Report(
        kind="program",
        title=_("Funder report: %(program)s") % {"program": program.name},
        subject=program.name,
        agency=agency.name,
        start=start,
        end=end,
        generated_at=clock.now(),
        threshold=small,
        tables=tuple(_guard_population(tables, len(units), small)),
        notes=tuple(_common_notes(small)),
        funding=funding,
        program_id=program.pk,
    )


def _kind_tables(scope: _Scope, units: Mapping[UnitKey, _Unit], sums: _ServiceSums) -> list[Table]:
    """Youth served and services by kind of agency; victim-service providers together, in a
    row of their own whatever their kind (their figures leave only in suppressed totals)."""

    def group(agency_id: int) -> str:
        agency = scope.agencies[agency_id]
        return "_vsp" if agency.is_victim_service_provider else agency.kind

    labels = _labels(AgencyKind.choices) | {"_vsp": _("Victim-service providers (any kind)")}
    served: Counter[str] = Counter(dict.fromkeys(labels, 0))
    for _youth_id, agency_id in units:
        served[group(agency_id)] += 1
    youth: Counter[str] = Counter(dict.fromkeys(labels, 0))
    deliveries: Counter[str] = Counter(dict.fromkeys(labels, 0))
    minutes: Counter[str] = Counter(dict.fromkeys(labels, 0))
    for agency_id, count in sums.youth_of_agency.items():
        youth[group(agency_id)] += count
    for (agency_id, _area), sum_ in sums.by_area.items():
        deliveries[group(agency_id)] += sum_.services
        minutes[group(agency_id)] += sum_.minutes
    hours = _hours(minutes)
    return [
        _one_column(
            "served_by_kind",
            _("Youth served, by kind of agency"),
            _("Youth"),
            served,
            labels,
            population=True,
        ),
        _with_amounts(
            "services_by_kind",
            _("Services delivered, by kind of agency"),
            _("Youth"),
            youth,
            labels,
            [(_("Services"), dict(deliveries)), (pgettext("time spent", "Hours"), hours)],
        ),
    ]


@figure_reads()
def county_report(county: str, start: datetime.date, end: datetime.date) -> Report:
    """The same tables across every agency in ``county``, plus youth served and services by
    kind of agency. A youth served by two agencies is counted by each, as each agency's own
    report counts them. Raises ValidationError for an unknown county or a bad period."""
    name = " ".join((county or "").split())
    agencies = {agency.pk: agency for agency in Agency.objects.filter(county__iexact=name)}
    if not name or not agencies:
        raise ValidationError(
            {"county": [_("No agency on Safe Harbor is in this county. Check its name.")]}
        )
    check_period(start, end)
    programs = Program.objects.filter(agency_id__in=list(agencies))
    scope = _Scope(programs, agencies, start, end)
    tables, units, sums = _tables(scope, by_agency=True)
    tables += _kind_tables(scope, units, sums)
    small = threshold()
    notes = [
        *_common_notes(small),
        _(
            "A youth served by more than one agency in the county is counted by each, as in "
            "each agency's own report."
        ),
        _(
            "Agencies included: %(agencies)d; programs: %(programs)d. Victim-service "
            "providers' figures appear only within these suppressed totals."
        )
        % {"agencies": len(agencies), "programs": programs.count()},
    ]
    return Report(
        kind="county",
        title=_("County report: %(county)s") % {"county": name},
        subject=name,
        agency="",
        start=start,
        end=end,
        generated_at=clock.now(),
        threshold=small,
        tables=tuple(_guard_population(tables, len(units), small)),
        notes=tuple(notes),
        county=name,
    )
