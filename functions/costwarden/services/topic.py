"""The alert topic's one publisher with e-mail (issue 22): ``adapters.sns.publish`` given the plain-text rendering of
``notifier.email``, so the topic's e-mail subscribers read the alert as text while every machine subscriber (the
notifier's Lambda, SQS, HTTPS, ``email-json``) gets the JSON event unchanged (SNS ``MessageStructure=json``).

A rendering that fails never costs the alert: the e-mail then carries the subject and summary, and says so.
"""

from __future__ import annotations

from typing import Any

from costwarden.adapters import sns
from costwarden.models.alert import AlertEvent
from costwarden.notifier.email import FOOTER, email_text


def _email(event: AlertEvent) -> str:
    try:
        return email_text(event)
    except Exception as error:  # a rendering bug must not stop the alert reaching Slack and every other subscriber
        return (
            f"{event.title}\n\n{event.summary}\n\n(The rest of this alert could not be shown as text: "
            f"{type(error).__name__}. It is complete in Slack.)\n\n--\n\n{FOOTER}"
        )


def publish(event: AlertEvent, topic_arn: str, sns_client: Any | None = None) -> str:
    """Publish ``event`` to the alert topic (``adapters.sns.publish``) with its e-mail text; returns the message id."""
    return sns.publish(event, topic_arn, sns_client, email=_email)
