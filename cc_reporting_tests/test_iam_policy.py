"""Least privilege: `deploy/iam-policy.json` grants exactly the AWS actions the code calls, no more, no less.

The code is scanned statically (AST): every `boto3.client("<service>")`, every name, attribute or factory
function that holds or returns such a client, and every method called on one (`get_paginator("op")` and
`get_waiter("name")` resolve to the operation they call). Operations map to IAM actions through botocore's own
service model plus the few S3 operations whose IAM action has another name. SSE-KMS writes (`SSEKMSKeyId`)
imply `kms:GenerateDataKey` (write) and `kms:Decrypt` (read back).
"""
from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cc_reporting"
POLICY = ROOT / "deploy" / "iam-policy.json"
SIMULATOR = PACKAGE / "simulate"
# The one generic client factory: it takes the service as an argument, so its callers are scanned instead
# (each must name its service literally) and it may make no AWS call itself.
AWS_FACTORY = PACKAGE / "resources" / "aws.py"
AWS_FACTORY_NAME = "aws_client"
# aws.py's builders of one service each (the service is in their name, not an argument).
SERVICE_FACTORIES = {"connect_client": "connect"}

# S3 operations whose IAM action is not `s3:<OperationName>`.
S3_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket", "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject", "PutObject": "s3:PutObject", "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject", "CopyObject": "s3:PutObject", "HeadBucket": "s3:ListBucket",
    "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
}
CLIENT_HELPERS = {"get_paginator", "get_waiter", "can_paginate", "close"}  # not API calls by themselves
KMS_ACTIONS = {"kms:GenerateDataKey", "kms:Decrypt"}


def _boto3_client_service(node: ast.AST) -> str | None:
    """'s3' for `boto3.client("s3", ...)` or the project's `aws_client("s3", ...)`; fails on a non-literal
    service name (it could not be checked)."""
    boto3_client = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "boto3")
    project_client = isinstance(node, ast.Call) and _name_of(node.func) == AWS_FACTORY_NAME
    if isinstance(node, ast.Call) and _name_of(node.func) in SERVICE_FACTORIES:
        return SERVICE_FACTORIES[_name_of(node.func)]
    if boto3_client or project_client:
        names = ("service_name", "service")
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in names), None)
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), \
            f"{_name_of(node.func)} with a non-literal service at line {node.lineno}: cannot check its permissions"
        return arg.value
    return None


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _services_in(node: ast.AST, factories: dict[str, str]) -> set[str]:
    """Services of the clients an expression may evaluate to (`client or boto3.client("kinesis")`)."""
    found = set()
    for sub in ast.walk(node):
        service = _boto3_client_service(sub)
        if service:
            found.add(service)
        elif isinstance(sub, ast.Call) and _name_of(sub.func) in factories:
            found.add(factories[_name_of(sub.func)])
    return found


class Scan:
    def __init__(self):
        self.calls: list[tuple[Path, int, str, str, str]] = []  # file, line, service, method, argument
        self.sse_kms = False
        self.services: set[str] = set()


def scan_file(path: Path, scan: Scan) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "resource" and _name_of(node.value) == "boto3":
            pytest.fail(f"{path}:{node.lineno}: boto3.resource is not covered by this scan")
        if isinstance(node, ast.Constant) and node.value == "SSEKMSKeyId":
            scan.sse_kms = True
        if isinstance(node, ast.keyword) and node.arg == "SSEKMSKeyId":
            scan.sse_kms = True
    # Factories (functions/methods returning a client) and holders (names/attributes assigned a client), to a
    # fixed point: `_client()` returns `s3_client(...)` which returns `boto3.client("s3")`.
    factories: dict[str, str] = {}
    holders: dict[str, str] = {}
    for _ in range(5):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None):
                    services = _services_in(ret.value, factories) | {
                        holders[_name_of(ret.value)] for _ in [0] if _name_of(ret.value) in holders}
                    for service in services:
                        factories[node.name] = service
            if isinstance(node, ast.Assign):
                value = node.value
                if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                        and value.func.attr != "client" and value.func.attr not in factories):
                    continue  # a method's result (a paginator, a response), not a client
                for service in _services_in(node.value, factories):
                    for target in node.targets:
                        if _name_of(target):
                            holders[_name_of(target)] = service
    if not factories and not holders:
        return
    scan.services |= set(factories.values()) | set(holders.values())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        service = None
        if isinstance(receiver, ast.Call):
            service = _boto3_client_service(receiver) or factories.get(_name_of(receiver.func) or "")
        elif _name_of(receiver) in holders:
            service = holders[_name_of(receiver)]
        if service is None:
            continue
        arg = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
        scan.calls.append((path, node.lineno, service, node.func.attr, arg))


@pytest.fixture(scope="module")
def scan() -> Scan:
    result = Scan()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != AWS_FACTORY:
            scan_file(path, result)
    return result


def test_the_generic_client_factory_makes_no_aws_call_itself():
    """aws.py is left out of the scan (its service is a parameter): it may only create clients, never call one."""
    tree = ast.parse(AWS_FACTORY.read_text())
    created = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr == "client" and _name_of(n.func.value) == "boto3"]
    assert len(created) == 1
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    api = set(boto3.client("s3", region_name="us-east-1").meta.method_to_api_mapping) | set(
        boto3.client("kinesis", region_name="us-east-1").meta.method_to_api_mapping)
    assert not calls & api, calls & api


def _operation(service: str, method: str, arg: str, path: Path, line: int) -> str | None:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    if method == "get_paginator":
        assert arg, f"{path}:{line}: get_paginator with a non-literal operation"
        return client.meta.method_to_api_mapping[arg]
    if method == "get_waiter":
        assert arg, f"{path}:{line}: get_waiter with a non-literal name"
        model = botocore.session.get_session().get_waiter_model(service)
        names = {xform_name(n): n for n in model.waiter_names}
        return model.get_waiter(names[arg]).operation
    if method in CLIENT_HELPERS:
        return None
    assert method in client.meta.method_to_api_mapping, f"{path}:{line}: {service} client has no method {method}"
    return client.meta.method_to_api_mapping[method]


def _action(service: str, operation: str) -> str:
    if service == "s3":
        assert operation in S3_ACTIONS, f"add the IAM action of s3:{operation} to S3_ACTIONS"
        return S3_ACTIONS[operation]
    return f"{service}:{operation}"


def used_actions(scan: Scan) -> dict[str, set[Path]]:
    actions: dict[str, set[Path]] = defaultdict(set)
    for path, line, service, method, arg in scan.calls:
        operation = _operation(service, method, arg, path, line)
        if operation:
            actions[_action(service, operation)].add(path)
    if scan.sse_kms:
        for action in KMS_ACTIONS:
            actions[action].add(PACKAGE / "resources" / "landing.py")
    return actions


def policy_statements() -> list[dict]:
    return json.loads(POLICY.read_text())["Statement"]


def granted_actions() -> set[str]:
    out = set()
    for statement in policy_statements():
        actions = statement["Action"]
        out |= {actions} if isinstance(actions, str) else set(actions)
    return out


def test_the_scan_sees_every_client_the_code_creates(scan):
    """Guard against a vacuous scan: the clients and calls the code is known to make are found."""
    assert scan.services == {"s3", "kinesis", "connect"}
    methods = {(service, method, arg) for _, _, service, method, arg in scan.calls}
    assert {("s3", "get_paginator", "list_objects_v2"), ("s3", "get_object", ""), ("s3", "put_object", ""),
            ("s3", "delete_object", ""), ("kinesis", "get_records", ""), ("kinesis", "put_records", ""),
            ("connect", "get_metric_data_v2", "")} <= methods
    assert scan.sse_kms


def test_the_code_uses_no_action_outside_the_policy(scan):
    missing = {a: sorted(str(p.relative_to(ROOT)) for p in paths)
               for a, paths in used_actions(scan).items() if a not in granted_actions()}
    assert not missing, f"actions the code calls but deploy/iam-policy.json does not grant: {missing}"


def test_the_policy_grants_no_action_the_code_never_uses(scan):
    unused = granted_actions() - set(used_actions(scan))
    assert not unused, f"deploy/iam-policy.json grants actions no code calls: {sorted(unused)}"


def test_simulator_only_actions_are_kept_in_their_own_statement(scan):
    """Production needs none of the simulator's write actions: they sit in a statement that can be dropped."""
    by_action = used_actions(scan)
    simulator_only = {a for a, paths in by_action.items() if all(SIMULATOR in p.parents for p in paths)}
    statement = next(s for s in policy_statements() if s["Sid"].startswith("SimulatorOnly"))
    assert set(statement["Action"]) == simulator_only
    assert "kinesis:PutRecords" in simulator_only and "kinesis:GetRecords" not in simulator_only


def test_the_policy_has_no_wildcards_and_scoped_resources():
    for statement in policy_statements():
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in a for a in actions), statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            assert resource.startswith("arn:aws:") and resource not in ("*", "arn:aws:s3:::*"), resource
            service = resource.split(":")[2]
            assert all(a.split(":")[0] == service for a in actions), (resource, actions)
