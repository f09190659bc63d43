"""The community resource directory: Open Referral HSDS 3.0 objects, keeping their HSDS ids.

Every HSDS object is a model whose primary key is the object's HSDS id (a UUID), so a re-import
updates by id and a referral can point at a service by an id that never changes. Field names are
HSDS's own. Free text is stored as given ("" where HSDS leaves it out); HSDS numbers are floats.

What HSDS 3.0 lacks we keep in our own columns and publish as attributes under our taxonomy
(``taxonomy.py``): the confidential-location flag with its "call to arrange" note
(``Location.is_confidential``, ``Location.arrangement_note``) and current capacity
(``Capacity``, after the HSDS 3.1 draft). None of this is youth data.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.models import TimeStampedModel

from .choices import AddressType, LocationType, ServiceStatus


class HsdsModel(TimeStampedModel):
    """An HSDS object: its HSDS id is the primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class Organization(HsdsModel):
    """An organisation that delivers services. May be linked to an agency on the platform,
    whose administrators then keep its services up to date."""

    name = models.TextField(_("name"))
    alternate_name = models.TextField(_("alternate name"), blank=True)
    description = models.TextField(_("description"), blank=True)
    email = models.TextField(_("email"), blank=True)
    website = models.TextField(_("website"), blank=True)
    tax_status = models.TextField(blank=True)
    tax_id = models.TextField(blank=True)
    year_incorporated = models.FloatField(null=True, blank=True)
    legal_status = models.TextField(blank=True)
    logo = models.TextField(blank=True)
    uri = models.TextField(blank=True)
    # HSDS declares no foreign key for it: an id that may name an organisation not held here.
    parent_organization_id = models.UUIDField(null=True, blank=True)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directory_organizations",
        verbose_name=_("agency on the platform"),
        help_text=_("Administrators of this agency may edit the organisation's services."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Program(HsdsModel):
    """A group of services run under one programme of an organisation."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="programs"
    )
    name = models.TextField(_("name"))
    alternate_name = models.TextField(blank=True)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = _("programme")

    def __str__(self) -> str:
        return self.name


class Service(HsdsModel):
    """A service an organisation provides. What search looks at is kept in its
    ``ServiceSearch`` row (``index.py``)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    program = models.ForeignKey(
        Program, on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    name = models.TextField(_("name"))
    alternate_name = models.TextField(_("alternate name"), blank=True)
    description = models.TextField(_("description"), blank=True)
    url = models.TextField(_("web address"), blank=True)
    email = models.TextField(_("email"), blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE
    )
    interpretation_services = models.TextField(_("interpretation"), blank=True)
    application_process = models.TextField(_("how to apply"), blank=True)
    fees_description = models.TextField(_("fees"), blank=True)
    wait_time = models.TextField(_("wait time"), blank=True)
    fees = models.TextField(blank=True)
    accreditations = models.TextField(blank=True)
    eligibility_description = models.TextField(_("who is eligible"), blank=True)
    minimum_age = models.FloatField(_("minimum age"), null=True, blank=True)
    maximum_age = models.FloatField(_("maximum age"), null=True, blank=True)
    assured_date = models.DateField(null=True, blank=True)
    assurer_email = models.TextField(blank=True)
    licenses = models.TextField(blank=True)
    alert = models.TextField(_("alert"), blank=True)
    last_modified = models.DateTimeField(_("last updated"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        indexes = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["last_modified"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(minimum_age__lte=models.F("maximum_age")),
                name="directory_service_age_range",
                violation_error_message=_("The minimum age cannot be above the maximum age."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def search_text(self) -> str:
        """The folded words search matches (name, descriptions, organisation, terms)."""
        row = ServiceSearch.objects.filter(service_id=self.pk).values_list("text", flat=True)
        return next(iter(row), "")


class Location(HsdsModel):
    """Where services are delivered. A confidential location (a safe house, a shelter) keeps
    its address and coordinates to itself: they are never shown publicly, exported or served
    by the API; only ``arrangement_note`` ("call to arrange") is."""

    location_type = models.CharField(
        max_length=16, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    url = models.TextField(blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="locations"
    )
    name = models.TextField(_("name"), blank=True)
    alternate_name = models.TextField(blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    external_identifier = models.TextField(blank=True)
    external_identifier_type = models.TextField(blank=True)
    is_confidential = models.BooleanField(
        _("confidential location"),
        default=False,
        help_text=_("A safe house or shelter: its address is never shown, exported or served."),
    )
    arrangement_note = models.TextField(
        _("how to arrange a visit"),
        blank=True,
        help_text=_("Shown instead of the address, e.g. 'Call the hotline to arrange intake.'"),
    )

    class Meta:
        verbose_name = _("location")
        indexes = [models.Index(fields=["latitude", "longitude"])]

    def __str__(self) -> str:
        return self.name or str(self.pk)


class ServiceAtLocation(HsdsModel):
    """A service as delivered at one location."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = _("service at a location")


class Address(HsdsModel):
    """A location's address. Never leaves the server for a confidential location."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.TextField(blank=True)
    address_1 = models.TextField(_("address"))
    address_2 = models.TextField(blank=True)
    city = models.TextField(_("city"))
    region = models.TextField(blank=True)
    state_province = models.TextField(_("state"))
    postal_code = models.CharField(_("ZIP code"), max_length=32, db_index=True)
    country = models.CharField(max_length=8)
    address_type = models.CharField(
        max_length=16, choices=AddressType.choices, default=AddressType.PHYSICAL
    )

    class Meta:
        verbose_name = _("address")


class Contact(HsdsModel):
    """A named contact for an organisation, service, location or service at a location."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contacts",
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    name = models.TextField(blank=True)
    title = models.TextField(blank=True)
    department = models.TextField(blank=True)
    email = models.TextField(blank=True)

    class Meta:
        verbose_name = _("contact")


class Phone(HsdsModel):
    """A telephone number of an organisation, service, location, contact or service at a
    location."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    number = models.TextField(_("number"))
    extension = models.FloatField(null=True, blank=True)
    type = models.TextField(blank=True)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = _("phone")


class Schedule(HsdsModel):
    """When a service is open (iCalendar-style recurrence, as HSDS has it). ``opens_at`` and
    ``closes_at`` are local times of the directory's time zone (settings.TIME_ZONE)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedules",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    timezone = models.FloatField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    count = models.FloatField(null=True, blank=True)
    wkst = models.CharField(max_length=2, blank=True)
    freq = models.CharField(max_length=8, blank=True)
    interval = models.FloatField(null=True, blank=True)
    byday = models.TextField(blank=True)
    byweekno = models.TextField(blank=True)
    bymonthday = models.TextField(blank=True)
    byyearday = models.TextField(blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.TextField(blank=True)
    attending_type = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name = _("schedule")


class Language(HsdsModel):
    """A language a service, location or phone line works in."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    name = models.TextField(blank=True)
    code = models.CharField(max_length=16, blank=True, db_index=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("language")


class ServiceArea(HsdsModel):
    """The area a service covers."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="service_areas"
    )
    name = models.TextField(blank=True)
    description = models.TextField(blank=True)
    extent = models.TextField(blank=True)
    extent_type = models.TextField(blank=True)
    uri = models.TextField(blank=True)

    class Meta:
        verbose_name = _("service area")


class CostOption(HsdsModel):
    """What a service costs. A service is "free" when it has a cost option of amount 0 and
    none above 0."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.TextField(blank=True)
    currency = models.CharField(max_length=8, blank=True)
    amount = models.FloatField(null=True, blank=True)
    amount_description = models.TextField(blank=True)

    class Meta:
        verbose_name = _("cost option")


class Funding(HsdsModel):
    """Where an organisation's or service's money comes from."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="funding"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="funding"
    )
    source = models.TextField(blank=True)


class RequiredDocument(HsdsModel):
    """A document someone needs to bring to use a service."""

    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="required_documents",
    )
    document = models.TextField(blank=True)
    uri = models.TextField(blank=True)


class Accessibility(HsdsModel):
    """Accessibility of a location."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="accessibility"
    )
    description = models.TextField(blank=True)
    details = models.TextField(blank=True)
    url = models.TextField(blank=True)


class OrganizationIdentifier(HsdsModel):
    """A third-party identifier of an organisation (a company or charity number)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="organization_identifiers"
    )
    identifier_scheme = models.TextField(blank=True)
    identifier_type = models.TextField()
    identifier = models.TextField()


class Taxonomy(HsdsModel):
    """A published vocabulary of terms (ours is in ``taxonomy.py``)."""

    name = models.TextField()
    description = models.TextField(blank=True)
    uri = models.TextField(blank=True)
    version = models.TextField(blank=True)

    class Meta:
        verbose_name = _("taxonomy")
        verbose_name_plural = _("taxonomies")

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(HsdsModel):
    """A term of a taxonomy. HSDS names the term's taxonomy twice: ``taxonomy`` (free text)
    and ``taxonomy_id`` (the column of ``vocabulary``)."""

    code = models.TextField(blank=True)
    name = models.TextField()
    description = models.TextField(blank=True)
    # HSDS declares no foreign key for the parent: it may name a term not held here.
    parent_id = models.UUIDField(null=True, blank=True, db_index=True)
    taxonomy = models.TextField(blank=True)
    language = models.TextField(blank=True)
    vocabulary = models.ForeignKey(
        Taxonomy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="taxonomy_id",
        related_name="terms",
    )
    term_uri = models.TextField(blank=True)

    class Meta:
        verbose_name = _("taxonomy term")

    def __str__(self) -> str:
        return self.name


class Attribute(HsdsModel):
    """A taxonomy term applied to any HSDS object (``link_entity`` names its kind, ``link_id``
    its id), as HSDS links them: how needs and our own flags are attached to services."""

    link_id = models.UUIDField()
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.CASCADE,
        related_name="attributes",
        db_index=False,  # the (taxonomy_term, link_entity, link_id) index leads with it
    )
    link_type = models.TextField(blank=True)
    link_entity = models.CharField(max_length=32)
    value = models.TextField(blank=True)

    class Meta:
        verbose_name = _("attribute")
        indexes = [
            models.Index(fields=["taxonomy_term", "link_entity", "link_id"]),
            models.Index(fields=["link_entity", "link_id"]),
        ]


class Capacity(HsdsModel):
    """How much of a service is free now (beds, places, appointments), as the HSDS 3.1 draft's
    capacity object: available, maximum, unit, updated. Exported as an attribute (our taxonomy's
    ``capacity`` term, the value JSON)."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="capacity")
    available = models.PositiveIntegerField(_("available now"))
    maximum = models.PositiveIntegerField(_("maximum"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=64, help_text=_("For example: beds, places."))
    description = models.TextField(blank=True)
    updated = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("capacity")
        verbose_name_plural = _("capacities")
        constraints = [
            models.CheckConstraint(
                condition=Q(maximum__isnull=True) | Q(available__lte=models.F("maximum")),
                name="directory_capacity_available_within_maximum",
                violation_error_message=_("Available cannot be more than the maximum."),
            ),
        ]


class SearchWord(models.Model):
    """Every word of the search index, for typo correction (``search.py``)."""

    word = models.CharField(max_length=64, primary_key=True)

    class Meta:
        verbose_name = _("search word")

    def __str__(self) -> str:
        return self.word


class ServiceSearch(models.Model):
    """Everything a search filters on, one row per service, derived from the service and its
    related objects by ``index.py`` (never edited by hand). ``document`` is what the full-text
    engine indexes: the folded words of ``text`` and, for the set-like filters, tokens that
    start with "_" (which a searched word never contains): ``_t<term>``, ``_l<language>``,
    ``_gany``, ``_free``, ``_cap``, ``_o<organisation>``, ``_p<postcode>`` and the grid cells
    of the service's public locations, ``_c<level>_<row>_<column>``. ``points`` holds the
    public locations' coordinates ("lat,lon lat,lon") for the exact distance; ``x``, ``y``,
    ``z`` the first of them on the unit sphere. A confidential location gives neither cells,
    points nor postcodes: they would place it."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, primary_key=True, related_name="search_row"
    )
    active = models.BooleanField(default=True)
    minimum_age = models.FloatField(null=True, blank=True)
    maximum_age = models.FloatField(null=True, blank=True)
    genders = models.TextField(blank=True)  # gender codes the service is for; "" = everyone
    languages = models.TextField(blank=True)  # language codes, space separated
    terms = models.TextField(blank=True)  # taxonomy term ids (hex), space separated
    free = models.BooleanField(default=False)
    capacity_available = models.BooleanField(default=False)
    exploited_youth = models.BooleanField(default=False)
    open_24_7 = models.BooleanField(default=False)
    organization_id = models.UUIDField(null=True, blank=True)
    last_modified = models.DateTimeField(null=True, blank=True)
    points = models.TextField(blank=True)
    text = models.TextField(blank=True)
    document = models.TextField(blank=True)
    # The first public point on the unit sphere (``index.unit_vector``), for distance by plain
    # SQL arithmetic; ``more_points`` when there are others (then ``points`` decides).
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    more_points = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("search row")

    def __str__(self) -> str:
        return str(self.service_id)
