"""Tags in infrastructure-as-code: read a tag set, a CloudFormation/SAM template or a Terraform plan, check every
resource against the policy (the CI gate behind ``costwarden tags validate``).

Formats, detected from the content (not the file name, not one marker field):

* **tag set** — a JSON object of strings (``{"team": "ml"}``), a list of ``{"Key", "Value"}``, or ``{"Tags": [...]}``
  (the shape ``aws ... list-tags`` prints).
* **CloudFormation** — a template in JSON or YAML with a ``Resources`` section, including YAML short-form intrinsic
  functions (``!Ref``, ``!Sub``, ``!GetAtt``...). CDK output (``cdk.out/*.template.json``) is this format. Which
  types can carry tags, and in which property, is decided by :mod:`costwarden.tags.cfn_types`. Read as the service
  would deploy it:

  - SAM (``Transform: AWS::Serverless-2016-10-31``): ``Globals.<Section>.Tags`` reach every ``AWS::Serverless::
    <Section>`` resource the way SAM's transform merges them (maps merged key by key, the resource's own value wins,
    ``IgnoreGlobals`` honoured). SAM's transform takes ``Tags`` in ``Globals.Function`` and ``Globals.HttpApi``
    (and the newer ``WebSocketApi`` and ``CapacityProvider``); ``Api``, ``SimpleTable`` and ``StateMachine`` globals
    take no ``Tags`` (only ``PropagateTags``) and SAM refuses a template that puts them there, so whatever section
    carries ``Tags`` is applied to the resources of its type. A template is SAM when it declares the transform, or
    has ``AWS::Serverless::*`` resources (SAM's own test inputs omit the line).
  - ``Fn::If`` in a tag property (a conditional tag, a conditional value, a conditional list) is checked on both
    branches: what holds on every branch is a plain finding; what holds only on some carries ``when`` ("condition
    IsProd is false").
  - Nested stacks (``AWS::CloudFormation::Stack`` with a local ``TemplateURL``, ``AWS::Serverless::Application``
    with a local ``Location``, and CDK's nested-stack assets named by ``aws:asset:path`` metadata) are read through
    the ``resolve`` callback; the stack's ``Tags``, which CloudFormation propagates, apply to every resource inside.
  - ``AWS::DynamoDB::GlobalTable``: each replica's ``Tags`` are checked as a resource of its own.
* **tagging API output** — ``aws resourcegroupstaggingapi get-resources`` (``ResourceTagMappingList``): every
  resource, named by its ARN, as the weekly audit sees it.
* **Terraform plan** — ``terraform show -json plan.out``: ``resource_changes`` (preferred) or ``planned_values``
  (``values`` for ``terraform show -json`` of a state). Only resources of the AWS providers (``hashicorp/aws``,
  ``hashicorp/awscc``) are judged; the others are listed as "not AWS: not checked". Tags are read in every shape the
  AWS provider has produced: the ``tags`` map, ``tags_all`` (tags plus the provider's ``default_tags``), the
  ``tag`` blocks and the legacy ``tags`` list of ``{key, value, propagate_at_launch}`` of Auto Scaling groups,
  and awscc's list of ``{key, value}``. When ``tags_all`` is unknown until apply (one unknown tag value is
  enough), the known values are still checked and a key counts as "missing" unless the resource's provider has a
  ``default_tags`` block (``configuration.provider_config``) that supplies it; only when that block's value is not
  in the plan are absent keys deferred (``missing_deferred``), and the report says so.

A tag whose value is an intrinsic function (``{"Ref": "Env"}``, ``!Sub``) or "known after apply" is unknown until
deploy: it counts as present, its value is not checked, and the report says so. An empty or null value is empty.

Input is untrusted: every shape this module does not expect is an :class:`IacError` naming the file and the path
inside it (``resource_changes[3].change.after.tags``), nesting deeper than :data:`MAX_DEPTH` or larger than
:data:`MAX_VALUES` is refused before anything walks it, and nothing here raises anything else on any input.

The package has one module per format and the shared core: :mod:`.core` (the error, shape checks and the model
every reader produces), :mod:`.load` (JSON/YAML reading and format detection), :mod:`.cloudformation` (templates,
SAM, CDK output, nested stacks), :mod:`.terraform` (plans and states), :mod:`.tagset` (tag sets and the tagging API)
and :mod:`.check` (the verdicts). ``costwarden.tags.iac`` re-exports the public names, so callers import from here.
"""

from costwarden.tags.iac.check import check_document, check_resource
from costwarden.tags.iac.cloudformation import (
    CDK_ASSET_PREFIX,
    MAX_CONDITION_COMBINATIONS,
    MAX_NESTING,
    NESTED_STACK_PROPERTY,
    NO_VALUE,
    SAM_TRANSFORM,
    extract_cloudformation,
    is_intrinsic,
)
from costwarden.tags.iac.core import (
    MAX_DEPTH,
    MAX_VALUES,
    DocumentReport,
    Format,
    IacError,
    NotChecked,
    Reason,
    Resolver,
    ResourceResult,
    ResourceTags,
    TagVariant,
    check_shape,
    single,
)
from costwarden.tags.iac.load import detect_format, load_document
from costwarden.tags.iac.tagset import extract_tagging_api, extract_tagset
from costwarden.tags.iac.terraform import AWS_PROVIDERS, DefaultTags, extract_terraform

__all__ = [
    "AWS_PROVIDERS",
    "CDK_ASSET_PREFIX",
    "MAX_CONDITION_COMBINATIONS",
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_VALUES",
    "NESTED_STACK_PROPERTY",
    "NO_VALUE",
    "SAM_TRANSFORM",
    "DefaultTags",
    "DocumentReport",
    "Format",
    "IacError",
    "NotChecked",
    "Reason",
    "Resolver",
    "ResourceResult",
    "ResourceTags",
    "TagVariant",
    "check_document",
    "check_resource",
    "check_shape",
    "detect_format",
    "extract_cloudformation",
    "extract_tagging_api",
    "extract_tagset",
    "extract_terraform",
    "is_intrinsic",
    "load_document",
    "single",
]
