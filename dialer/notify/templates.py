"""Reminder templates: Jinja2's sandboxed environment, rendered from the callback, the contact
(name, custom fields), the agent and the campaign, dates in the recipient's zone and language.

Why the sandbox: templates are written by supervisors through the API, so a template must
not reach Python internals (``{{ ''.__class__ }}`` raises ``SecurityError``). Unknown names
fail (``StrictUndefined``), except a contact's custom field, which may be missing on some
contacts and renders empty. The HTML part autoescapes (a contact's name cannot inject markup);
the subject and text parts do not (they are not HTML). :func:`check_template` renders
against :data:`SAMPLE` when a template is saved, so a broken one is refused then; at send
time, :func:`render` renders every part before anything is sent, so a failure never sends
half a message.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from dialer.notify.errors import TemplateRefused
from dialer.notify.sms import SmsLength, measure

LANGUAGES = ("en", "pl")
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "pl": ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "pl": (
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ),
}


@dataclass(frozen=True, slots=True)
class TemplateText:
    """A template's parts: ``subject`` and ``html`` for e-mail only (``html`` optional)."""

    channel: str
    body: str
    subject: str = ""
    html: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


class _Fields(dict[str, Any]):
    """A contact's custom fields: a field this contact lacks renders as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def _local(value: dt.datetime, tz: str) -> dt.datetime:
    return value.astimezone(ZoneInfo(tz))


def _formatters(language: str) -> dict[str, Any]:
    days, months = _DAYS[language], _MONTHS[language]

    def date(value: dt.datetime) -> str:
        return f"{days[value.weekday()]}, {value.day} {months[value.month - 1]} {value.year}"

    def time(value: dt.datetime) -> str:
        return value.strftime("%H:%M")

    def datetime(value: dt.datetime) -> str:
        return f"{date(value)} {time(value)}"

    return {"date": date, "time": time, "datetime": datetime}


@functools.cache
def _environment(html: bool, language: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False)
    env.filters.update(_formatters(language))
    return env


@functools.lru_cache(maxsize=512)
def _compiled(source: str, html: bool, language: str) -> Template:
    """Templates compile once per source (a pass renders one template for many contacts)."""
    return _environment(html, language).from_string(source)


def build_context(
    *,
    contact_name: str,
    fields: dict[str, Any],
    callback_at: dt.datetime | None,
    timezone: str,
    agent: str,
    campaign: str,
    language: str,
) -> dict[str, Any]:
    """The names a template sees: ``contact``, ``callback``, ``agent``, ``campaign``."""
    at = _local(callback_at, timezone) if callback_at is not None else None
    return {
        "contact": {"name": contact_name, "fields": _Fields({str(k): v for k, v in fields.items()})},
        "callback": {"at": at, "timezone": timezone},
        "agent": {"name": agent},
        "campaign": {"name": campaign},
        "language": language,
    }


def render(template: TemplateText, context: dict[str, Any]) -> Rendered:
    """Every part rendered, or :class:`TemplateRefused` and nothing (never half a message)."""
    language = context.get("language", "en")
    if language not in LANGUAGES:
        language = "en"
    try:
        subject = (
            _compiled(template.subject, False, language).render(context).strip() if template.subject else ""
        )
        text = _compiled(template.body, False, language).render(context)
        html = _compiled(template.html, True, language).render(context) if template.html else ""
    except TemplateError as e:
        raise TemplateRefused("template", f"does not render: {e.message or type(e).__name__}") from None
    except Exception as e:  # a filter given the wrong type, a division by zero in the template
        raise TemplateRefused("template", f"does not render: {type(e).__name__}: {e}") from None
    if "\n" in subject or "\r" in subject:
        raise TemplateRefused("subject", "must render to one line")
    if not text.strip():
        raise TemplateRefused("body", "renders to an empty message")
    return Rendered(subject, text, html)


SAMPLE = {
    "contact_name": "Zofia Łukasiewicz-Grün",
    "fields": {"email": "zofia@example.com", "city": "Kraków", "amount": "1 234,56"},
    "callback_at": dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
    "timezone": "Europe/Warsaw",
    "agent": "Anna",
    "campaign": "Sample campaign",
}


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """What saving a template shows: the sample's rendering and, for SMS, its length."""

    rendered: Rendered
    sms: SmsLength | None


def check_template(template: TemplateText, *, language: str = "en") -> TemplateCheck:
    """Refuse a template that breaks a channel's rule or does not render against :data:`SAMPLE`.

    Raises:
        TemplateRefused: naming the part and why.
    """
    if template.channel not in ("sms", "email"):
        raise TemplateRefused("channel", "must be sms or email", template.channel)
    if not template.body.strip():
        raise TemplateRefused("body", "must not be empty")
    if template.channel == "sms" and (template.subject or template.html):
        raise TemplateRefused("subject", "an SMS template has only a body")
    if template.channel == "email" and not template.subject.strip():
        raise TemplateRefused("subject", "an e-mail template needs a subject")
    rendered = render(template, build_context(**SAMPLE, language=language))  # type: ignore[arg-type]
    return TemplateCheck(rendered, measure(rendered.text) if template.channel == "sms" else None)
