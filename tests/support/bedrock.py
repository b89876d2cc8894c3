"""Bedrock test shapes, one definition: Price List products as ``GetProducts`` returns them (``PriceList`` is a list
of JSON strings), application inference profile summaries as ``ListInferenceProfiles`` does, and the settings of
two teams with profiles."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
SONNET_NAME = "Claude 3.5 Sonnet"
#: USD per 1K tokens as the Price List states them (Claude 3.5 Sonnet, us-east-1, on demand).
SONNET_PER_1K = {"input": "0.003", "output": "0.015", "cache_read": "0.0003", "cache_write": "0.00375"}
_USAGE = {
    "input": ("Input tokens", "USE1-Claude3.5Sonnet-input-tokens"),
    "output": ("Output tokens", "USE1-Claude3.5Sonnet-output-tokens"),
    "cache_read": ("Cache Read Input Tokens", "USE1-Claude3.5Sonnet-cache-read-input-token-count"),
    "cache_write": ("Cache Write Input Tokens", "USE1-Claude3.5Sonnet-cache-write-input-token-count"),
}


def product(inference_type: str, usage_type: str, usd: str, *, unit: str = "1K tokens", sku: str = "SKU") -> str:
    """One AmazonBedrock product of the Price List, as one ``PriceList`` string."""
    return json.dumps(
        {
            "product": {
                "productFamily": "Amazon Bedrock",
                "sku": sku,
                "attributes": {
                    "servicecode": "AmazonBedrock",
                    "regionCode": REGION,
                    "model": SONNET_NAME,
                    "provider": "Anthropic",
                    "feature": "On-demand Inference",
                    "inferenceType": inference_type,
                    "usagetype": usage_type,
                },
            },
            "serviceCode": "AmazonBedrock",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": unit,
                                "pricePerUnit": {"USD": usd},
                                "description": f"{usage_type} per {unit}",
                            }
                        },
                        "sku": sku,
                    }
                }
            },
        }
    )


def sonnet_products(*, kinds: tuple[str, ...] = tuple(_USAGE)) -> list[str]:
    """Claude 3.5 Sonnet's on-demand token products (``kinds`` of them), plus a batch price that must not count."""
    found = [product(*_USAGE[k], SONNET_PER_1K[k], sku=f"S{i}") for i, k in enumerate(kinds)]
    return [*found, product("Input tokens batch", "USE1-Claude3.5Sonnet-batch-input-tokens", "0.0015", sku="B")]


def profile_arn(name: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{name}"


def profile_summary(name: str, model: str = SONNET) -> dict[str, Any]:
    """One ``inferenceProfileSummaries`` entry of an application inference profile routing to ``model``."""
    return {
        "inferenceProfileName": name,
        "inferenceProfileArn": profile_arn(name),
        "inferenceProfileId": name,
        "models": [{"modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model}"}],
        "status": "ACTIVE",
        "type": "APPLICATION",
    }


def settings_doc(**bedrock: Any) -> dict[str, Any]:
    """Two teams: nlp (budget 3,100/month: 100/day in December) and vision; ``bedrock`` overrides."""
    return {
        "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
        "teams": {
            "nlp": {"owners": ["U0ALICE01"], "channel": "ml-nlp", "monthly_usd": 3100},
            "vision": {"owners": ["U0CAROL01"], "channel": "ml-vision", "monthly_usd": 31000},
        },
        "bedrock": {"enabled": True, "price_names": {SONNET: SONNET_NAME}, **bedrock},
    }


#: The trust policy of the test roles the deny is attached to (any valid one: IAM needs one to create a role).
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
