"""One CloudWatch dashboard for Costwarden's own health: every function's invocations, errors, throttles and
duration, every dead-letter queue's depth, and the state of every alarm.

It discovers the functions (``CostwardenFunction``) already in the stack, so a new capability needs no change
here; the stack creates it after all capabilities.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.function import CostwardenFunction

PERIOD = Duration.hours(1)
WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6


class OperationsDashboard(Construct):
    """Attributes: ``dashboard``, ``functions`` (the ``CostwardenFunction``s it shows)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.functions = [c for c in stack.node.find_all() if isinstance(c, CostwardenFunction)]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        widgets: list[cloudwatch.IWidget] = []
        for fn in self.functions:
            lam = fn.function
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{fn.service_name}: invocations, errors, throttles",
                    left=[
                        lam.metric_invocations(period=PERIOD, statistic="Sum"),
                        lam.metric_errors(period=PERIOD, statistic="Sum"),
                        lam.metric_throttles(period=PERIOD, statistic="Sum"),
                    ],
                    right=[
                        fn.dead_letter_queue.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum", label="dead letters"
                        )
                    ],
                    width=WIDGET_WIDTH,
                    height=WIDGET_HEIGHT,
                )
            )
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{fn.service_name}: duration (p50, p95, max) vs timeout",
                    left=[
                        lam.metric_duration(period=PERIOD, statistic="p50"),
                        lam.metric_duration(period=PERIOD, statistic="p95"),
                        lam.metric_duration(period=PERIOD, statistic="Maximum"),
                    ],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(value=lam.timeout.to_milliseconds(), label="timeout")
                    ]
                    if lam.timeout is not None
                    else None,
                    width=WIDGET_WIDTH,
                    height=WIDGET_HEIGHT,
                )
            )
        alarms = [alarm for fn in self.functions for alarm in fn.alarms.values()]
        alarms += [c for c in stack.node.find_all() if isinstance(c, cloudwatch.Alarm) and c not in alarms]
        if alarms:
            widgets.append(
                cloudwatch.AlarmStatusWidget(title="Costwarden alarms", alarms=alarms, width=24, height=WIDGET_HEIGHT)
            )
        self.dashboard.add_widgets(*widgets)
