"""Which CloudFormation resource types can carry tags, and in which property (the "non-taggable types" rule).

The rule, in order:

1. A type whose CloudFormation resource schema says ``tagging.taggable: true`` is taggable; its tags live in the
   schema's ``tagProperty`` (``Tags`` for almost all; ``BackupVaultTags``, ``UserPoolTags``,
   ``TagSpecifications/*/Tags``... for a few). A resource of such a type with no tags at all is flagged.
2. A type whose schema says ``taggable: false`` — or has no tagging section and no ``Tags`` property — cannot carry
   tags (``AWS::IAM::Policy``, ``AWS::SNS::Subscription``, ``AWS::Lambda::Permission``, ``AWS::S3::BucketPolicy``,
   ``AWS::EC2::LaunchTemplate`` itself, ``AWS::CDK::Metadata``...) and is never flagged.
3. A type not in the list (custom resources, types newer than the list) is checked only if it has a ``Tags``
   property in the template; otherwise it is skipped and counted as "not taggable / unknown".

The list is generated from the resource schemas cfn-lint ships (``python -m costwarden.tags.cfn_types``, needs the
dev dependencies) and committed as ``cfn_taggable.json`` beside this module, so the CLI needs neither cfn-lint nor
network access. SAM's ``AWS::Serverless::*`` types (expanded by a transform, so not in the schemas) are added by hand.

Two corrections the schemas cannot express are added by hand too:

* ``AWS::DynamoDB::GlobalTable`` says ``taggable: false`` at the top level, but each replica (a real table in its
  own region) carries ``Replicas/*/Tags``: :data:`REPLICA_TAGS` names the list, the field naming one replica, and
  the tag property, so each replica is checked as a resource of its own.
* SAM's ``Connector`` and ``LayerVersion`` take no tags.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

DATA_FILE = "cfn_taggable.json"
#: SAM resources take ``Tags`` as a map (AWS::Serverless::Application too); not in CloudFormation's schemas.
SAM_TAGGABLE = (
    "AWS::Serverless::Api",
    "AWS::Serverless::Application",
    "AWS::Serverless::CapacityProvider",
    "AWS::Serverless::Function",
    "AWS::Serverless::GraphQLApi",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::SimpleTable",
    "AWS::Serverless::StateMachine",
    "AWS::Serverless::WebSocketApi",
)
SAM_UNTAGGABLE = ("AWS::Serverless::Connector", "AWS::Serverless::LayerVersion")
#: Types whose tags live per item of a list, each item a resource of its own: type → (list, item name, tag property).
REPLICA_TAGS: dict[str, tuple[str, str, str]] = {"AWS::DynamoDB::GlobalTable": ("Replicas", "Region", "Tags")}


@lru_cache(maxsize=1)
def taggable_types() -> dict[str, str]:
    """Resource type → tag property path (``Tags``, ``TagSpecifications/*/Tags``...) for every taggable type."""
    raw = json.loads(resources.files("costwarden.tags").joinpath(DATA_FILE).read_text())
    out = {type_name: prop for prop, types in raw["tag_property"].items() for type_name in types}
    out.update(dict.fromkeys(SAM_TAGGABLE, "Tags"))
    out.update({type_name: f"{items}/*/{prop}" for type_name, (items, _, prop) in REPLICA_TAGS.items()})
    return out


@lru_cache(maxsize=1)
def known_untaggable() -> frozenset[str]:
    """Types the schemas know and that cannot carry tags."""
    raw = json.loads(resources.files("costwarden.tags").joinpath(DATA_FILE).read_text())
    return frozenset(raw["not_taggable"]).union(SAM_UNTAGGABLE).difference(REPLICA_TAGS)


def generate(schema_root: Path, region: str = "us-east-1") -> dict[str, object]:
    """Build the committed data from cfn-lint's schema folder (``cfnlint/data/schemas``)."""
    index = json.loads((schema_root / "providers" / f"{region}.json").read_text())
    by_property: dict[str, list[str]] = {}
    not_taggable: list[str] = []
    for type_name, digest in sorted(index.items()):
        schema = json.loads((schema_root / "resources" / f"{digest}.json").read_text())
        tagging = schema.get("tagging")
        has_tags = "Tags" in schema.get("properties", {})
        taggable = tagging.get("taggable", False) if tagging is not None else has_tags
        if taggable:
            prop = (tagging or {}).get("tagProperty", "/properties/Tags").removeprefix("/properties/")
            by_property.setdefault(prop, []).append(type_name)
        else:
            not_taggable.append(type_name)
    try:
        version = importlib.metadata.version("cfn-lint")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "source": f"cfn-lint {version} resource schemas, {region}",
        "tag_property": by_property,
        "not_taggable": not_taggable,
    }


def main() -> None:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("cfn-lint is not installed (it is a dev dependency): uv sync --group dev")
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"
    target = Path(str(resources.files("costwarden.tags").joinpath(DATA_FILE)))
    target.write_text(json.dumps(generate(root), indent=0, sort_keys=True) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
