"""The notifier renders digest events with the digest dashboard, not the generic layout."""

from __future__ import annotations

from costwarden.demo.example_digest import example_input
from costwarden.digest.compose import compose_digest
from costwarden.models.alert import AlertKind
from costwarden.notifier.blocks import default_blocks, renderer_for
from costwarden.notifier.digest_blocks import digest_blocks


def test_digest_kind_uses_the_digest_renderer() -> None:
    assert renderer_for(AlertKind.DIGEST) is digest_blocks
    event = compose_digest(example_input(), top_n=10)
    assert renderer_for(AlertKind.DIGEST)(event) != default_blocks(event)
