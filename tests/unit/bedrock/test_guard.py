"""The guard's arithmetic: token kinds, spend per team through profiles, the budget and baseline judgement, the
reconciliation with the bill, and the settings that refuse a deny with nowhere to go."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from costwarden.bedrock.guard import Profile, baseline, daily_budget, judge, model_of, team_spend
from costwarden.bedrock.prices import NoPriceError, TokenPrices, parse_products
from costwarden.bedrock.reconcile import BillError, billed, digest_lines, reconcile
from costwarden.bedrock.tokens import TokenKind, token_kind
from costwarden.models.alert import Severity
from costwarden.settings import Settings, SettingsError, parse_settings

from tests.support.bedrock import REGION, SONNET, SONNET_NAME, profile_arn, settings_doc, sonnet_products

SETTINGS = Settings.model_validate(settings_doc())
DAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("USE1-Claude3.5Sonnet-cache-read-input-token-count", TokenKind.CACHE_READ),
        ("USE1-Claude3.5Sonnet-cache-write-input-token-count", TokenKind.CACHE_WRITE),
        ("Cache Read Input Tokens", TokenKind.CACHE_READ),
        ("CacheWriteInputTokenCount", TokenKind.CACHE_WRITE),
        ("USE1-Claude3.5Sonnet-input-tokens", TokenKind.INPUT),
        ("OutputTokenCount", TokenKind.OUTPUT),
        ("USE1-TitanImageGenerator-images", None),
        ("USE1-ProvisionedThroughput-ModelUnits", None),
        ("", None),
    ],
)
def test_token_kinds_are_read_from_every_name_they_go_by(name: str, kind: TokenKind | None) -> None:
    assert token_kind(name) is kind


def _prices(model: str, region: str) -> TokenPrices:
    if model != SONNET:
        raise NoPriceError(f"{model}: no Price List name for it (bedrock.price_names)")
    return parse_products(
        sonnet_products(kinds=("input", "output", "cache_read")), model=model, region=region, name=SONNET_NAME
    )


NLP = Profile(profile_arn("nlp-chat"), "nlp", SONNET, REGION)
VISION = Profile(profile_arn("vision-caption"), "vision", SONNET, REGION)


def test_spend_goes_to_the_profiles_team_and_plain_model_ids_to_nobody() -> None:
    usage = {
        (NLP.arn, TokenKind.INPUT): 2_000_000,
        (NLP.arn, TokenKind.OUTPUT): 1_000_000,
        (NLP.arn, TokenKind.CACHE_READ): 10_000_000,
        (VISION.arn, TokenKind.INPUT): 1_000,
        (SONNET, TokenKind.OUTPUT): 1_000,
    }
    spends = team_spend([NLP, VISION], usage, _prices, region=REGION)
    assert list(spends) == ["nlp", "unowned", "vision"]
    nlp = spends["nlp"]
    assert nlp.parts == pytest.approx({TokenKind.INPUT: 6.0, TokenKind.OUTPUT: 15.0, TokenKind.CACHE_READ: 3.0})
    assert nlp.usd == pytest.approx(24.0) and nlp.profiles == [NLP.arn] and nlp.unpriced == []
    assert spends["unowned"].usd == pytest.approx(0.015)
    assert spends["vision"].usd == pytest.approx(0.003)


def test_an_unpriced_kind_or_model_is_named_never_counted_as_zero() -> None:
    nova = Profile(profile_arn("nlp-nova"), "nlp", "amazon.nova-pro-v1:0", REGION)
    usage = {(NLP.arn, TokenKind.CACHE_WRITE): 1_000, (nova.arn, TokenKind.INPUT): 5_000, (NLP.arn, TokenKind.INPUT): 1}
    spend = team_spend([NLP, nova], usage, _prices, region=REGION)["nlp"]
    assert spend.unpriced == [
        f"{SONNET} ({REGION}): no cache_write token price (Price List)",
        "amazon.nova-pro-v1:0: no Price List name for it (bedrock.price_names)",
    ]
    assert spend.tokens == {TokenKind.CACHE_WRITE: 1_000, TokenKind.INPUT: 5_001}
    assert spend.usd == pytest.approx(0.000003)


def test_the_model_of_a_profile_is_its_foundation_model_id() -> None:
    arns = [f"arn:aws:bedrock:{r}::foundation-model/{SONNET}" for r in ("us-east-1", "us-west-2")]
    assert model_of(arns) == SONNET
    assert model_of([]) == ""


def test_the_daily_budget_is_the_monthly_budget_over_the_days_of_the_month() -> None:
    assert daily_budget(SETTINGS, "nlp", DAY) == pytest.approx(100.0)
    assert daily_budget(SETTINGS, "nlp", date(2026, 11, 3)) == pytest.approx(3100 / 30)
    assert daily_budget(SETTINGS, "search", DAY) is None


def test_the_baseline_needs_history_and_leaves_today_out() -> None:
    days = [(date(2026, 12, d), float(d)) for d in range(1, 7)]
    assert baseline(days, DAY, SETTINGS) is None  # 6 days < anomaly.min_history_days (7)
    days.append((date(2026, 11, 30), 100.0))
    days.append((DAY, 10_000.0))  # today: not its own baseline
    assert baseline(days, DAY, SETTINGS) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("spend", "usual", "severity", "reasons"),
    [
        (99.0, None, None, ()),
        (100.0, None, Severity.WARNING, ("100% of the daily budget",)),
        (200.0, None, Severity.CRITICAL, ("200% of the daily budget",)),
        (90.0, 20.0, Severity.CRITICAL, ("4.5x the usual day",)),
        (90.0, 50.0, None, ()),  # 1.8x the usual day, but only 40 USD over it (anomaly.min_impact_usd: 50)
        (160.0, 100.0, Severity.WARNING, ("160% of the daily budget", "1.6x the usual day")),
    ],
)
def test_judged_against_the_daily_budget_and_the_usual_day(
    spend: float, usual: float | None, severity: Severity | None, reasons: tuple[str, ...]
) -> None:
    verdict = judge(spend, 100.0, usual, SETTINGS)
    assert (verdict.severity, verdict.reasons) == (severity, reasons)


def _bill_page(groups: list[tuple[str, str, str]], day: str = "2026-12-06") -> dict[str, Any]:
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": "2026-12-07"},
                "Estimated": False,
                "Groups": [
                    {"Keys": [tag, usage], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                    for tag, usage, amount in groups
                ],
            }
        ]
    }


BILL = _bill_page(
    [
        ("team$nlp", "USE1-Claude3.5Sonnet-input-tokens", "6.00"),
        ("team$nlp", "USE1-Claude3.5Sonnet-output-tokens", "15.00"),
        ("team$nlp", "USE1-Claude3.5Sonnet-cache-read-input-token-count", "3.00"),
        ("team$", "USE1-TitanImageGenerator-images", "0.40"),
    ]
)


def test_the_bill_is_read_by_team_and_token_kind() -> None:
    assert billed([BILL], team_key="team", metric="UnblendedCost") == {
        "2026-12-06": {"nlp": {"input": 6.0, "output": 15.0, "cache_read": 3.0}, "unowned": {"other": 0.4}}
    }


def test_an_estimate_without_the_cache_lines_is_a_gap_the_digest_names() -> None:
    bill = billed([BILL], team_key="team", metric="UnblendedCost")["2026-12-06"]
    whole = reconcile({"nlp": {"input": 6.0, "output": 15.0, "cache_read": 3.0}}, bill)
    without_cache = reconcile({"nlp": {"input": 6.0, "output": 15.0}}, bill)
    assert digest_lines({"teams": [r.to_dict() for r in whole]}) == [
        "nlp: estimated $24.00, billed $24.00",
        "unowned: estimated $0.00, billed $0.40 (gap $0.40)",
    ]
    assert digest_lines({"teams": [r.to_dict() for r in without_cache]})[0] == (
        "nlp: estimated $21.00, billed $24.00 (gap $3.00: not estimated cache_read)"
    )


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"ResultsByTime": [{"Groups": []}]}, r"^page 0, ResultsByTime\[0\]: no TimePeriod.Start$"),
        (
            {"ResultsByTime": [{"TimePeriod": {"Start": "2026-12-06"}, "Groups": [{"Keys": ["a"]}]}]},
            r"Groups\[0\]: Keys must be \[tag, usage type\]",
        ),
        (_bill_page([("team$nlp", "x", "lots")]), r"Groups\[0\]: no Metrics.UnblendedCost.Amount"),
    ],
)
def test_a_malformed_bill_page_is_named(page: dict[str, Any], message: str) -> None:
    with pytest.raises(BillError, match=message):
        billed([page], team_key="team", metric="UnblendedCost")


def test_a_hard_limit_without_roles_fails_at_synth_naming_the_team() -> None:
    with pytest.raises(SettingsError, match=r"bedrock.hard_limit is on for 'nlp' but bedrock.roles has no role"):
        parse_settings(settings_doc(hard_limit={"nlp": "approve"}))
    with pytest.raises(SettingsError, match=r"a role name is 1-64 characters"):
        parse_settings(settings_doc(hard_limit={"nlp": "auto"}, roles={"nlp": ["bad role/name"]}))
