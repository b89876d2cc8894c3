"""The Price List API's AmazonBedrock products for one model (``pricing:GetProducts``), every page.

Bedrock's products are filtered by ``regionCode`` and ``model`` (the Price List's name of the model, from
``bedrock.price_names``); reading them into prices per token kind is ``bedrock.prices.parse_products``, caching
them is ``bedrock.prices.PriceBook``. The Price List answers only in a few regions (``pricing.PRICING_REGION``).
"""

from __future__ import annotations

from typing import Any

from costwarden.adapters.pricing import PRICING_REGION
from costwarden.models.ports import Clients

SERVICE_CODE = "AmazonBedrock"


def bedrock_products(clients: Clients, model_name: str, region: str) -> list[str]:
    """The raw ``PriceList`` strings of ``model_name`` in ``region`` (raises what the API raises)."""
    api = clients("pricing", PRICING_REGION)
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "model", "Value": model_name},
    ]
    request: dict[str, Any] = {"ServiceCode": SERVICE_CODE, "Filters": filters, "MaxResults": 100}
    found: list[str] = []
    while True:
        response = api.get_products(**request)
        found += [str(p) for p in response.get("PriceList", [])]
        token = response.get("NextToken")
        if not token:
            return found
        request["NextToken"] = token
