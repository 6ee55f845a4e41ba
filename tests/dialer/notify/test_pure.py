"""The reminder service's pure parts: SMS length and encoding, templates, when to send."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.notify.errors import TemplateRefused
from dialer.notify.planning import Defaults, Override, Recipient, next_allowed, plan_callback, retry_at
from dialer.notify.sms import GSM7, UCS2, decode, encode, measure, pdu_payloads, split_text
from dialer.notify.templates import TemplateText, build_context, check_template, render

# -- SMS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),  # an extension character counts two septets
        ("€" * 81, GSM7, 162, 2),
        ("ą" * 70, UCS2, 70, 1),  # Polish letters are not in GSM-7
        ("ą" * 71, UCS2, 71, 2),
        ("😀" * 35, UCS2, 70, 1),  # outside the BMP: two UTF-16 units
    ],
)
def test_length_and_parts(text: str, encoding: str, units: int, parts: int) -> None:
    m = measure(text)
    assert (encoding, units, parts) == (m.encoding, m.units, m.parts)


@given(st.text(max_size=800))
def test_parts_rebuild_the_text_and_fit_their_limits(text: str) -> None:
    encoding, parts = split_text(text)
    assert text == "".join(parts)
    limit = 153 if encoding == GSM7 else 67
    if len(parts) > 1:
        for p in parts:
            assert len(encode(p, encoding)) <= (limit if encoding == GSM7 else 2 * limit)
    assert text == "".join(decode(encode(p, encoding), encoding) for p in parts)


def test_long_messages_carry_a_concatenation_header() -> None:
    coding, payloads, udh = pdu_payloads("€" * 100, reference=7)
    assert 0 == coding and udh and 2 == len(payloads)
    assert bytes((5, 0, 3, 7, 2, 1)) == payloads[0][:6]
    assert all(len(p) - 6 <= 153 for p in payloads)  # an escape is never split across parts


# -- templates ---------------------------------------------------------------------------

SMS = TemplateText("sms", "Hi {{ contact.name }}, {{ callback.at|datetime }}")


def test_dates_render_in_the_recipients_zone_and_language() -> None:
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    ctx = build_context(
        contact_name="Jan",
        fields={},
        callback_at=at,
        timezone="Europe/Warsaw",
        agent="A",
        campaign="C",
        language="pl",
    )
    assert "Hi Jan, wtorek, 1 grudnia 2026 10:00" == render(SMS, ctx).text


@pytest.mark.parametrize(
    ("template", "field"),
    [
        (TemplateText("sms", "{{ ''.__class__.__mro__[1].__subclasses__() }}"), "template"),  # sandbox
        (TemplateText("sms", "Hi {{ contcat.name }}"), "template"),  # a typo is refused at save
        (TemplateText("sms", "Hi {{ contact.name "), "template"),  # syntax
        (TemplateText("sms", "Hi", subject="x"), "subject"),
        (TemplateText("email", "Hi"), "subject"),
        (TemplateText("email", "Hi", subject="{{ contact.name }}\nBcc: x@y"), "subject"),
        (TemplateText("fax", "Hi"), "channel"),
        (TemplateText("sms", "{% if false %}x{% endif %}"), "body"),
    ],
)
def test_a_template_that_does_not_render_is_refused(template: TemplateText, field: str) -> None:
    with pytest.raises(TemplateRefused) as e:
        check_template(template)
    assert field == e.value.field


def test_a_missing_custom_field_renders_empty_and_sms_length_is_shown() -> None:
    check = check_template(
        TemplateText("sms", "Kwota: {{ contact.fields.nothing }}{{ contact.fields.amount }}")
    )
    assert "Kwota: 1 234,56" == check.rendered.text
    assert check.sms is not None and (GSM7, 1) == (check.sms.encoding, check.sms.parts)


names = st.text(max_size=60)
field_values = st.one_of(st.text(max_size=40), st.integers(), st.none(), st.floats(allow_nan=False))


@settings(max_examples=200)
@given(name=names, fields=st.dictionaries(st.text(min_size=1, max_size=10), field_values, max_size=5))
def test_any_contact_data_renders_and_never_injects_html(name: str, fields: dict[str, object]) -> None:
    t = TemplateText(
        "email",
        "Dear {{ contact.name }} {{ contact.fields.city }}",
        subject="For {{ contact.name|replace('\\n', ' ')|replace('\\r', ' ') }}",
        html="<p>{{ contact.name }}</p>"
        "{% for k, v in contact.fields.items() %}<i>{{ k }}={{ v }}</i>{% endfor %}",
    )
    ctx = build_context(
        contact_name=name,
        fields=fields,
        callback_at=None,
        timezone="UTC",
        agent="A",
        campaign="C",
        language="en",
    )
    try:
        out = render(t, ctx)
    except TemplateRefused as e:
        assert e.field == "body"  # only an all-blank text is refused
        assert not f"Dear {name} ".strip()
        return
    inner = out.html.removeprefix("<p>").split("</p>")[0]
    assert "<" not in inner and ">" not in inner
    for k, v in fields.items():
        assert "<" not in k or "&lt;" in out.html
        assert not isinstance(v, str) or "<" not in v or "&lt;" in out.html


# -- planning ----------------------------------------------------------------------------

DUE = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
ON_SMS = Defaults(True, "sms", 1, 7200)
ON_MAIL = Defaults(True, "email", 2, 3600)
CUSTOMER = Recipient({"sms": "+48600000001", "email": "c@example.com"})
AGENT = Recipient({"email": "a@example.com"})
DAY = (dt.time(8), dt.time(21))


def plan(**kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "customer_default": ON_SMS,
        "agent_default": ON_MAIL,
        "override": None,
        "customer": CUSTOMER,
        "agent": AGENT,
        "zones": ("UTC",),
        "hours": DAY,
    }
    args.update(kw)
    return plan_callback(DUE, **args)  # type: ignore[arg-type]


def test_an_sms_that_would_go_at_night_goes_at_the_next_allowed_moment() -> None:
    customer, agent = plan()
    assert dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC) == customer.send_at and customer.skipped is None
    assert DUE - dt.timedelta(hours=1) == agent.send_at  # e-mail to the agent: no night rule


def test_no_allowed_hour_before_the_callback_skips_the_sms() -> None:
    (customer, _) = plan(hours=(dt.time(10), dt.time(21)))
    assert "no allowed hour for an SMS before the callback" == customer.skipped


def test_overrides_choose_recipients_channel_template_and_lead() -> None:
    (only,) = plan(override=Override(recipients="customer", channel="email", template_id=9, lead_s=600))
    assert ("customer", "email", 9, DUE - dt.timedelta(minutes=10)) == (
        only.recipient,
        only.channel,
        only.template_id,
        only.send_at,
    )
    assert [] == plan(override=Override(recipients="none"))


def test_refusals_and_missing_addresses_are_reasons() -> None:
    refused = Recipient(CUSTOMER.addresses, "the contact opted out of reminders")
    customer, agent = plan(customer=refused, agent=None)
    assert "the contact opted out of reminders" == customer.skipped
    assert "the callback has no agent" == agent.skipped
    (customer, _) = plan(customer=Recipient({}))
    assert "no phone number for the customer" == customer.skipped


def test_a_number_with_two_zones_texts_only_when_both_are_awake() -> None:
    at = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)  # 07:00 Warsaw, 06:00 London
    assert dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC) == next_allowed(
        at, ("Europe/Warsaw", "Europe/London"), *DAY
    )


def test_retry_backoff_doubles_to_its_cap() -> None:
    now = DUE
    assert [60, 120, 240, 300] == [
        (retry_at(now, n, base_s=60, cap_s=300) - now).total_seconds() for n in (1, 2, 3, 4)
    ]
