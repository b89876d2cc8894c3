"""The alert topic's one publisher with e-mail (issue 22): ``adapters.sns.publish`` given the plain-text rendering of
``notifier.email``, so the topic's e-mail subscribers read the alert as text while every machine subscriber (the
notifier's Lambda, SQS, HTTPS, ``email-json``) gets the JSON event unchanged (SNS ``MessageStructure=json``).
"""

from __future__ import annotations

from typing import Any

from costwarden.adapters import sns
from costwarden.models.alert import AlertEvent
from costwarden.notifier.email import email_text


def publish(event: AlertEvent, topic_arn: str, sns_client: Any | None = None) -> str:
    """Publish ``event`` to the alert topic (``adapters.sns.publish``) with its e-mail text; returns the message id."""
    return sns.publish(event, topic_arn, sns_client, email=email_text)
